"""Errors a student can meet on a page, in plain words in both languages.

A limit (app.limits.LimitExceeded, the 413 of a body too large) and a request field
that fails validation (FastAPI's 422: pydantic's error `type` and `ctx`) get a
`message: {lang: text}` beside the body's `detail`, the way app.i18n.coded_body does:
the page shows message[lang] (static/js/api.js ApiError.text), scripts and admins keep
reading `detail`, which still names the limit, its setting and pydantic's own words.
The words are the catalog's (app/locales/<lang>/errors.json, keys plain.*).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.i18n import catalog, every_language, fill, t

# pydantic's error types -> the catalog's plain.invalid.<kind> (those not listed: "other").
_KINDS = {
    "greater_than_equal": "greater_than_equal",
    "greater_than": "greater_than",
    "less_than_equal": "less_than_equal",
    "less_than": "less_than",
    "int_parsing": "int",
    "int_type": "int",
    "int_from_float": "int",
    "float_parsing": "number",
    "float_type": "number",
    "decimal_parsing": "number",
    "finite_number": "finite_number",
    "bool_parsing": "bool",
    "bool_type": "bool",
    "missing": "missing",
    "literal_error": "choice",
    "enum": "choice",
    "too_short": "too_short",  # a list's items
    "string_too_short": "too_short_text",  # a text's characters
    "too_long": "too_long",
    "string_too_long": "too_long_text",
    "string_type": "string",
    "list_type": "list",
    "dict_type": "object",
    "model_type": "object",
    "model_attributes_type": "object",
    "extra_forbidden": "extra",
    "json_invalid": "json",
    "string_pattern_mismatch": "pattern",
}
# Where a value sits (loc's first item), not a field's name.
_PLACES = {"body", "query", "path", "header", "cookie"}


def _number(value: object) -> str:
    """A number as a student reads it: 250,000; 0.5; 1e-08 stays as Python writes it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else repr(value)


def _bytes(n: int, lang: str) -> str:
    """A size in bytes as MB (or KB below one MB)."""
    if n >= 1_000_000:
        return fill("plain.bytes.mb", lang, n=_number(round(n / 1_000_000, 1)))
    return fill("plain.bytes.kb", lang, n=_number(round(n / 1000, 1)))


class PlainValueError(ValueError):
    """A ValueError a student can cause, with its plain words: the catalog's `key`
    filled from `values` (the API answers 422 with str(exc) as `detail`)."""

    def __init__(self, detail: str, key: str, **values: object) -> None:
        super().__init__(detail)
        self.key, self.values = key, values

    def message(self) -> dict[str, str]:
        return every_language(lambda lang: fill(self.key, lang, **self.values))


def limit_message(limit: str, allowed: int, given: object) -> dict[str, str]:
    """In every language: "A kernel can be at most 7×7 (this request asked for 9)."."""

    def render(lang: str) -> str:
        def shown(value: object) -> str:
            if limit.endswith("_bytes") and isinstance(value, int):
                return _bytes(value, lang)
            return _number(value)

        key = f"plain.limit.{limit}"
        rule_key = key if key in catalog("en") else "plain.limit.other"
        rule = fill(rule_key, lang, allowed=shown(allowed))
        if not isinstance(given, int | float) or isinstance(given, bool):  # words, not a number
            return fill("plain.limit.alone", lang, rule=rule)
        return fill("plain.limit", lang, rule=rule, given=shown(given))

    return every_language(render)


def _field(loc: Sequence[object], lang: str) -> str:
    """The field a validation error's `loc` points at, named in `lang`: the last name
    in it (list positions and pydantic's union branches such as "int" or
    "function-after[...]" are skipped)."""
    names = [
        str(part)
        for k, part in enumerate(loc)
        if isinstance(part, str) and not (k == 0 and part in _PLACES)
        and "[" not in part and part not in {"int", "float", "str", "list", "dict", "bool"}
    ]  # fmt: skip
    if not names:
        return t("plain.field.body", lang)
    name = names[-1]
    key = f"plain.field.{name}"
    return t(key, lang) if key in catalog("en") else fill("plain.field.other", lang, name=name)


def _one(error: Mapping[str, Any], lang: str) -> str:
    kind = _KINDS.get(str(error.get("type")), "other")
    ctx = {k: _number(v) for k, v in (error.get("ctx") or {}).items()}
    if kind.startswith("too_short") and ctx.get("min_length") == "1":
        kind = "empty"  # not "at least 1 characters"
    if "expected" in ctx:  # "'sgd', 'momentum' or 'adam'": a list, in any language
        ctx["expected"] = ctx["expected"].replace(" or ", ", ")
    values = {"ge": "", "gt": "", "le": "", "lt": "", "expected": "", "min_length": "",
              "max_length": "", **ctx}  # fmt: skip
    text = fill(f"plain.invalid.{kind}", lang, field=_field(error.get("loc") or (), lang), **values)
    return text[:1].upper() + text[1:]


def validation_message(errors: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Each of pydantic's errors in plain words, joined, in every language."""
    items = list(errors)

    def render(lang: str) -> str:
        said: list[str] = []
        for error in items:
            text = _one(error, lang)
            if text not in said:
                said.append(text)
        return t("plain.invalid.join", lang).join(said)

    return every_language(render)
