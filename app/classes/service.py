"""A live class's lifecycle: create, follow, change, ask, reveal, end.

Only the teacher (the teacher token) changes a class; a student's token lets them
join, say whether they follow or explore, and answer. Every change raises the class's
seq and is handed at once to this worker's followers, published to the other
replicas (Redis), or found by the other workers' watchers (SQLite).
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from app.classes.hub import Hub
from app.classes.model import (
    CODE_PATTERN,
    ENDED_KEEP_S,
    PRESENCE_S,
    ClassError,
    Who,
    ended,
    new_code,
    new_record,
    new_token,
    normal_code,
    not_found,
    public_state,
    token_hash,
)
from app.classes.questions import check, pose, tally
from app.classes.store import ClassStore, Record, open_class_store
from app.encoding import dumps
from app.fairshare import Limiter, quota
from app.sessions import SessionService
from app.sessions.sharing import copy_session
from app.settings import Settings
from app.store.base import SessionNotFound

MODES = ("follow", "explore")


class ClassService:
    def __init__(self, sessions: SessionService, settings: Settings) -> None:
        self.sessions, self.settings = sessions, settings
        self.store: ClassStore = open_class_store(sessions.store)
        self.hub = Hub(self.store, self.current)
        self.limits = {"max_students": settings.class_max_students,
                       "max_questions": settings.class_max_questions}  # fmt: skip
        # Unknown codes a client may try: a token bucket per client, as fairshare's.
        self._misses = Limiter(settings.class_code_misses_per_minute, 1)
        self._lock = threading.Lock()

    # --- reading -----------------------------------------------------------------------

    def current(self, code: str) -> tuple[int, bytes] | None:
        loaded = self.store.load(code)
        if loaded is None:
            return None
        record = loaded[0]
        return record["seq"], self.payload(record)

    def payload(self, record: Record) -> bytes:
        return dumps(public_state(record, self.limits))

    def state(self, record: Record) -> dict[str, Any]:
        return public_state(record, self.limits)

    def find(self, code_text: str, *, allow_ended: bool = False) -> tuple[Record, str]:
        """The live class of a code (as typed), or a 404 (410 once it has ended); a
        client that tries too many unknown codes gets a 429."""
        code = normal_code(code_text)
        loaded = self.store.load(code) if CODE_PATTERN.match(code) else None
        if loaded is None:
            wait = self._misses.take(quota()["client"] or "-")
            if wait > 0:
                n = self.settings.class_code_misses_per_minute
                raise ClassError(
                    429, "class_code_guesses",
                    f"too many unknown join codes from your address: at most {n} a minute "
                    "(class_code_misses_per_minute, GLASSBOX_CLASS_CODE_MISSES_PER_MINUTE)",
                    retry_after=wait, most=n,
                )  # fmt: skip
            raise not_found(code)
        if loaded[0]["ended"] and not allow_ended:
            raise ended(code)
        return loaded

    def who(self, code: str, teacher: str, token: str | None) -> Who:
        if not token:
            return Who("anyone")
        key = token_hash(token)
        if key == teacher:
            return Who("teacher", key)
        if self.store.student(code, key) is not None:
            return Who("student", key)
        return Who("anyone")

    def teacher(self, code_text: str, token: str | None) -> Record:
        record, teacher = self.find(code_text)
        if not token:
            raise ClassError(401, "class_token_missing",
                             "this changes the class: send the teacher token as "
                             "'Authorization: Bearer <token>'")  # fmt: skip
        if token_hash(token) != teacher:
            raise ClassError(403, "class_teacher_only",
                             "only the teacher (the holder of the teacher token returned "
                             "when the class was created) may change the class")  # fmt: skip
        return record

    def student(self, code_text: str, token: str | None) -> tuple[Record, str]:
        record, _ = self.find(code_text)
        key = token_hash(token or "")
        if not token or self.store.student(record["code"], key) is None:
            raise ClassError(403, "class_student_only",
                             "this is a student's: join the class first (POST "
                             f"/api/classes/{record['code']}/students) and send the student "
                             "token as 'Authorization: Bearer <token>'")  # fmt: skip
        return record, key

    # --- changing (the teacher) -------------------------------------------------------

    def _change(self, code: str, change: Any) -> Record:
        try:
            record = self.store.update(code, change, self.settings.class_ttl_seconds)
        except LookupError:
            raise not_found(code) from None
        self._tell(record)
        return record

    def _tell(self, record: Record) -> None:
        payload = self.payload(record)
        self.hub.deliver(record["code"], record["seq"], payload)
        self.store.publish(record["code"], payload)

    def create(self, view: dict[str, Any] | None) -> tuple[Record, str]:
        token = new_token()
        for _ in range(20):
            code = new_code()
            record = new_record(code, view)
            if self.store.create(code, token_hash(token), record,
                                 self.settings.class_ttl_seconds):  # fmt: skip
                return record, token
        raise RuntimeError("no free join code after 20 tries")  # 887 million codes

    def set_view(self, code: str, token: str | None, view: dict[str, Any]) -> Record:
        record = self.teacher(code, token)
        view, snapshot = self._snapshot(record, view)

        def change(r: Record) -> None:
            r["view"] = view
            if snapshot is not None:
                r["snapshot"] = snapshot

        return self._change(record["code"], change)

    def _snapshot(
        self, record: Record, view: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str] | None]:
        """A view whose query names a session (`session=<id>`: a trained BP network, a
        script's session) names a frozen copy of it instead: every student reads it and
        their page steps a copy of it, so its id is no longer the teacher's, and nobody
        can change, step or delete it (SessionFrozen). One copy per session named."""
        found = re.search(r"(?:^|&)session=([A-Za-z0-9_-]{1,64})(?=&|$)", view["query"])
        if found is None:
            return view, None
        sid = found.group(1)
        known = record.get("snapshot") or {}
        if sid in (known.get("of"), known.get("as")):
            frozen = known["as"]
        else:
            try:
                live = self.sessions.get(sid)
            except SessionNotFound:
                raise ClassError(422, "class_session_gone", f"the view names session {sid}, "
                                 "which is not on the server any more") from None  # fmt: skip
            frozen = sid if live.meta.get("frozen") else copy_session(self.sessions, sid, True).id
        start, end = found.span(1)
        query = view["query"][:start] + frozen + view["query"][end:]
        return {**view, "query": query}, {"of": sid, "as": frozen}

    def set_locked(self, code: str, token: str | None, locked: bool) -> Record:
        record = self.teacher(code, token)

        def change(r: Record) -> None:
            r["locked"] = locked

        return self._change(record["code"], change)

    def end(self, code: str, token: str | None) -> Record:
        record = self.teacher(code, token)

        def change(r: Record) -> None:
            r.update(ended=True, question=None, view=None)

        record = self._change(record["code"], change)
        self.store.end(record["code"], record, ENDED_KEEP_S)
        snapshot = record.get("snapshot")
        if snapshot:  # the class's frozen copy goes with it
            self.sessions.store.delete(snapshot["as"])
        return record

    # --- students ---------------------------------------------------------------------

    def join(self, code: str, nickname: str) -> tuple[Record, str]:
        record, _ = self.find(code)
        token = new_token()
        n = self.store.join(record["code"], token_hash(token), nickname,
                            self.settings.class_max_students,
                            self.settings.class_ttl_seconds)  # fmt: skip
        if n < 0:
            most = self.settings.class_max_students
            raise ClassError(409, "class_full", f"the class has {most} students, the most "
                             "class_max_students (GLASSBOX_CLASS_MAX_STUDENTS) allows",
                             most=most)  # fmt: skip
        return record, token

    def presence(self, code: str, token: str | None, mode: str) -> None:
        record, key = self.student(code, token)
        self.store.seen(record["code"], key, mode, self.settings.class_ttl_seconds)

    def seen(self, code: str, who: Who, mode: str | None = None) -> None:
        if who.role == "student":
            self.store.seen(code, who.key, mode, self.settings.class_ttl_seconds)

    # --- questions --------------------------------------------------------------------

    def ask(self, code: str, token: str | None, ask: dict[str, Any]) -> Record:
        record = self.teacher(code, token)
        most = self.settings.class_max_questions
        if record["asked"] >= most:
            raise ClassError(409, "class_questions_full", f"the class has asked {most} "
                             "questions, the most class_max_questions "
                             "(GLASSBOX_CLASS_MAX_QUESTIONS) allows", most=most)  # fmt: skip
        question = pose(self.sessions, ask)  # from the engine, now (outside the change)

        def change(r: Record) -> None:
            r["asked"] += 1
            r["question"] = {"id": f"q{r['asked']}", **question, "revealed": False,
                             "asked_at": time.time()}  # fmt: skip

        return self._change(record["code"], change)

    def _question(self, record: Record, qid: str) -> dict[str, Any]:
        q = record.get("question")
        if q is None or q["id"] != qid:
            raise ClassError(404, "question_not_open",
                             f"question {qid!r} is not the one open in this class")  # fmt: skip
        return q

    def answer(self, code: str, token: str | None, qid: str, given: dict[str, Any]) -> None:
        record, key = self.student(code, token)
        q = self._question(record, qid)
        if q["revealed"]:
            raise ClassError(409, "question_revealed",
                             "the answer has been revealed: no more answers")  # fmt: skip
        stored, correct = check(q, given)
        self.store.put_answer(record["code"], qid, key, {"answer": stored, "correct": correct})

    def reveal(self, code: str, token: str | None, qid: str) -> Record:
        record = self.teacher(code, token)
        self._question(record, qid)

        def change(r: Record) -> None:
            self._question(r, qid)["revealed"] = True

        return self._change(record["code"], change)

    def close_question(self, code: str, token: str | None, qid: str) -> Record:
        record = self.teacher(code, token)
        self._question(record, qid)

        def change(r: Record) -> None:
            self._question(r, qid)
            r["question"] = None

        return self._change(record["code"], change)

    def mine(self, code: str, token: str | None, qid: str) -> dict[str, Any]:
        record, key = self.student(code, token)
        q = self._question(record, qid)
        got = self.store.answer(record["code"], qid, key)
        return {"question": qid, "answered": got is not None,
                "answer": got["answer"] if got else None,
                "correct": got["correct"] if got and q["revealed"] else None,
                "revealed": bool(q["revealed"])}  # fmt: skip

    def tally(self, code: str, token: str | None) -> dict[str, Any]:
        record = self.teacher(code, token)
        now = time.time()
        joined = self.store.students(record["code"])
        here = [s for s in joined if now - s["seen"] <= PRESENCE_S]
        following = sum(1 for s in here if s["mode"] == "follow")
        out: dict[str, Any] = {"code": record["code"], "seq": record["seq"],
                               "following": following, "exploring": len(here) - following,
                               "joined": len(joined),
                               "question": None}  # fmt: skip
        q = record.get("question")
        if q is not None:
            answers = self.store.answers(record["code"], q["id"])
            out["question"] = {"id": q["id"], **tally(q, answers, q["revealed"])}
        return out
