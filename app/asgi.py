"""Two small ASGI tools the middlewares share: read a request's whole body, and hand
it on to the app as if it were read for the first time."""

from __future__ import annotations

from starlette.types import Message, Receive

# The methods whose body the app reads: BodyLimit bounds it (app/errors.py), HttpRules
# requires it to be JSON, StopWhenGone reads it before it watches the connection. A
# body sent with any other method is never read.
WRITES = frozenset({"POST", "PUT", "PATCH"})


async def read_body(receive: Receive) -> list[Message]:
    """The request's messages up to the end of its body (or a disconnect)."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def replay(messages: list[Message], then: Receive) -> Receive:
    """A receive that first hands out `messages`, then defers to `then` (the real
    receive, which later reports the disconnect, e.g. to a streaming response)."""
    queue = list(messages)

    async def replayed() -> Message:
        return queue.pop(0) if queue else await then()

    return replayed
