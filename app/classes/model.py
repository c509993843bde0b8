"""A live class: its join code, tokens, errors, and what students may see of it.

A class is one JSON record kept in the session store's backend (app/classes/store.py):

    {"code", "seq", "created", "touched", "ended", "locked", "view", "question",
     "asked"}

`seq` goes up by one with every change the teacher makes; every follower's page shows
the state of the highest seq it has seen. `view` is what the teacher's page shows
(page, its URL state, the player's frame, the open cell, present mode). `question` is
the question now posed (with its answer, which only the server reads until the
teacher reveals it). The teacher is whoever holds the teacher token returned at
creation; students hold a student token each; the store keeps only their hashes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from app.i18n import every_language, fill

# Six characters without the ones read alike (0/O, 1/I/L): 31**6, about 887 million codes.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
CODE_PATTERN = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
# A student counts as following or exploring while their page's event stream is open:
# it reports every PRESENCE_PING_S, and a student not heard from in PRESENCE_S is gone.
PRESENCE_PING_S = 15.0
PRESENCE_S = 40.0
# An ended class keeps a tombstone this long, so a student's page that reconnects
# hears "the class has ended" instead of "no such code".
ENDED_KEEP_S = 600


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(text: str) -> str:
    """A code as typed ("k7q-mpx ") in its stored form ("K7QMPX"); O and 0 read as 0,
    I, L and 1 as 1, which no code contains, so a misread code is a plain miss."""
    return re.sub(r"[\s-]", "", text).upper()


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ClassError(Exception):
    """An error of a class request: status, a catalog code (error.<code>) and the
    English detail for scripts; `values` fill the catalog's placeholders."""

    def __init__(
        self, status: int, code: str, detail: str, retry_after: float | None = None,
        **values: object,
    ) -> None:  # fmt: skip
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.retry_after, self.values = retry_after, values

    def body(self) -> dict[str, Any]:
        message = every_language(lambda lang: fill(f"error.{self.code}", lang, **self.values))
        return {"detail": self.detail, "code": self.code, "message": message}


def not_found(code: str) -> ClassError:
    return ClassError(
        404, "class_not_found",
        f"no live class has the join code {code!r}: check the code, or the class has ended",
    )  # fmt: skip


def ended(code: str) -> ClassError:
    return ClassError(410, "class_ended", f"the class {code} has ended")


@dataclass(frozen=True)
class Who:
    """Who sent a request: the teacher, a student (their token's hash), or nobody."""

    role: str  # "teacher" | "student" | "anyone"
    key: str = ""  # the token's hash


def new_record(code: str, view: dict[str, Any] | None) -> dict[str, Any]:
    now = time.time()
    return {"code": code, "seq": 1, "created": now, "touched": now, "ended": False,
            "locked": False, "view": view, "question": None, "asked": 0}  # fmt: skip


def public_state(record: dict[str, Any], limits: dict[str, int]) -> dict[str, Any]:
    """What every follower may see: no answer before the teacher reveals it."""
    q = record.get("question")
    question = None
    if q is not None:
        question = {k: v for k, v in q.items() if k not in ("answer", "source")}
        question["revealed"] = q["answer"] if q.get("revealed") else None
    return {"code": record["code"], "seq": record["seq"], "ended": record["ended"],
            "locked": record["locked"], "view": record.get("view"), "question": question,
            "limits": limits}  # fmt: skip
