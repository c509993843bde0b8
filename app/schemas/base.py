"""What the request and response models share: strict models, integers that may
come as 3.0, arrays of numbers, "exactly one of" in the schema, errors."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)

Phase = Literal["forward", "loss", "backward", "update"]
Number = float


def _integral(v: Any) -> Any:
    """JSON Schema counts 3.0 as an integer, so requests may too (not 3.5, "3" or true)."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


# Integers with their bounds inside (a bound on the field would not reach the schema).
Int = Annotated[int, BeforeValidator(_integral)]
PositiveInt = Annotated[int, Field(ge=1), BeforeValidator(_integral)]
NonNegativeInt = Annotated[int, Field(ge=0), BeforeValidator(_integral)]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1), BeforeValidator(_integral)]
Sizes = PositiveInt | list[PositiveInt]  # kernel, stride, pool size: n or [h, w]
Paddings = NonNegativeInt | list[NonNegativeInt]


def _numbers(rank: int) -> dict[str, Any]:
    """JSON Schema of an array of numbers of the given rank ([[1, 2], [3, 4]]: rank 2)."""
    schema: dict[str, Any] = {"type": "number"}
    for _ in range(rank):
        schema = {"type": "array", "items": schema}
    return schema


# An array of rank 1 to 4 as nested lists of numbers. Checked by app.sessions.inputs
# (a message naming the place of a non-number, or that rows differ in length).
NestedNumbers = Annotated[
    list[Any], WithJsonSchema({"anyOf": [_numbers(rank) for rank in range(1, 5)]})
]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Empty(Strict):
    """No fields: `{}` (every write is JSON, app/http_rules.py)."""


# A body the route may do without is still required by the schema, as every write is
# JSON (app/http_rules.py); the server takes an empty one, with the JSON type, as {}.
BODY_REQUIRED: dict[str, Any] = {"requestBody": {"required": True}}


def _given(name: str) -> dict[str, Any]:
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


def exactly_one(*names: str) -> dict[str, Any]:
    """JSON Schema for "exactly one of these fields is given (not null)", so the
    OpenAPI schema says what the model validator checks."""
    return {"oneOf": [_given(n) for n in names]}


def at_most_one(*names: str) -> dict[str, Any]:
    """JSON Schema for "not more than one of these fields is given (not null)": no
    two of them together."""
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    if len(pairs) == 1:
        return {"not": {"allOf": [_given(n) for n in pairs[0]]}}
    return {"not": {"anyOf": [{"allOf": [_given(a), _given(b)]} for a, b in pairs]}}


class ErrorOut(BaseModel):
    detail: Any
    # Errors a student may meet (the store is down, the session is gone, ...) also name
    # their kind: `code`, a key "error.<code>" of the UI catalogs, and `message`, that
    # string in every supported language (docs/api.md, "Errors").
    code: str | None = None
    message: dict[str, str] | None = None
