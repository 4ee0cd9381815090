"""Pure-ASGI middleware that makes bad input a 4xx and keeps failures out of the logs.

- `CatchAll`: any exception a handler lets escape becomes a 500 problem carrying an incident id;
  the log line names the exception type and the incident id only (never its message, which may
  quote SQL parameters or patient text), and nothing is re-raised to the server's logger.
- `InputGuard`: NUL characters, lone UTF-16 surrogates and invalid UTF-8 in the path, the query
  string, form bodies and JSON bodies are refused with 400, and JSON nested deeper than the
  configured limit with 400, before any handler or database sees them (PostgreSQL cannot store
  either character; deep nesting exhausts recursion in parsers).
- `SecurityHeaders`: `Cache-Control: no-store` on every response that does not set its own
  caching (patient data must not sit in browser or proxy caches) and `nosniff`.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spineguide.api.problems import problem_body

log = logging.getLogger("spineguide.api")

_THREAD_PARSE_BYTES = 64_000


async def send_problem(
    send: Send,
    status: int,
    slug: str,
    title: str,
    detail: str,
    hint: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Send a complete problem+json response."""
    body = json.dumps(problem_body(status, slug, title, detail, hint, extra)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class CatchAll:
    """Turn an escaped exception into a 500 problem with an incident id (logged without text)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; on an exception answer 500 unless the response already started."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            incident = uuid.uuid4().hex[:12]
            log.error(
                "unhandled %s incident=%s method=%s",
                type(exc).__name__,
                incident,
                scope.get("method"),
            )
            if not started:
                await send_problem(
                    send,
                    500,
                    "internal-error",
                    "Internal server error",
                    f"an unexpected error occurred (incident {incident})",
                    "retry; if it persists report the incident id to the operator",
                    {"incident": incident},
                )


def bad_text(raw: bytes) -> str | None:
    """Why raw (already percent-decoded) bytes are not acceptable text, or None."""
    if b"\x00" in raw:
        return "contains a NUL character"
    try:
        raw.decode("utf-8")  # strict: refuses encoded surrogates and invalid sequences
    except UnicodeDecodeError:
        return "is not valid UTF-8"
    return None


def bad_string(text: str) -> str | None:
    """Why a decoded string is not acceptable, or None."""
    if "\x00" in text:
        return "contains a NUL character"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return "contains a lone UTF-16 surrogate"
    return None


def json_problem(data: Any, max_depth: int) -> str | None:
    """Walk parsed JSON: too deep, or a key/string with NUL or a lone surrogate."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth > max_depth:
                return f"nests deeper than {max_depth} levels"
            for k, v in node.items():
                why = bad_string(k)
                if why:
                    return f"has a key that {why}"
                stack.append((v, depth + 1))
        elif isinstance(node, list):
            if depth > max_depth:
                return f"nests deeper than {max_depth} levels"
            stack.extend((v, depth + 1) for v in node)
        elif isinstance(node, str):
            why = bad_string(node)
            if why:
                return f"has a string that {why}"
    return None


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# A JSON escape for NUL or any UTF-16 surrogate: only then is a full parse needed.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def json_depth_exceeds(body: bytes, max_depth: int) -> bool:
    """True when JSON text nests deeper than `max_depth` (strings skipped; C-speed passes)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if len(brackets) <= max_depth:
        return False
    depth = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def check_json_body(body: bytes, max_depth: int) -> str | None:
    """Why a JSON body is refused (None: fine, or not JSON at all: the handler reports that)."""
    if not body:
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "is not valid UTF-8"
    if json_depth_exceeds(body, max_depth):
        return f"nests deeper than {max_depth} levels"
    if b"\x00" not in body and not _SUSPECT_ESCAPE.search(body):
        return None  # valid UTF-8 with no NUL or surrogate escape: no bad string possible
    try:
        data = json.loads(body)
    except RecursionError:
        return f"nests deeper than {max_depth} levels"
    except ValueError:
        return None  # malformed JSON: FastAPI answers 400 with the parser's reason
    return json_problem(data, max_depth)


def _form_problem(body: bytes) -> str | None:
    for pair in body.split(b"&"):
        for part in pair.split(b"=", 1):
            why = bad_text(unquote_to_bytes(part.replace(b"+", b" ")))
            if why:
                return why
    return None


class InputGuard:
    """Refuse NUL, lone surrogates, invalid UTF-8 and over-deep JSON with a 400 problem."""

    def __init__(self, app: ASGIApp, max_depth: int = 32) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the URL, then (for JSON and form bodies) the buffered body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        why = bad_text(unquote_to_bytes(raw_path))
        if why is None and "\x00" in scope["path"]:
            why = "contains a NUL character"
        if why:
            await self._reject(send, f"the URL path {why}")
            return
        for part in re.split(rb"[&=]", scope.get("query_string", b"")):
            why = bad_text(unquote_to_bytes(part.replace(b"+", b" ")))
            if why:
                await self._reject(send, f"the query string {why}")
                return
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        ctype = b""
        for name, value in scope["headers"]:
            if name == b"content-type":
                ctype = value.lower()
                break
        is_form = ctype.startswith(b"application/x-www-form-urlencoded")
        is_json = b"json" in ctype or not ctype
        if not (is_form or is_json):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        chunks: list[bytes] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if is_form:
            why = _form_problem(body)
            what = "the form"
        elif len(body) > _THREAD_PARSE_BYTES:
            why = await run_in_threadpool(check_json_body, body, self.max_depth)
            what = "the JSON body"
        else:
            why = check_json_body(body, self.max_depth)
            what = "the JSON body"
        if why:
            await self._reject(send, f"{what} {why}")
            return
        replay = iter(messages)

        async def replay_receive() -> Message:
            try:
                return next(replay)
            except StopIteration:
                return await receive()

        await self.app(scope, replay_receive, send)

    async def _reject(self, send: Send, detail: str) -> None:
        await send_problem(
            send,
            400,
            "invalid-characters" if "nests" not in detail else "too-deeply-nested",
            "Invalid input",
            detail,
            "send UTF-8 text without NUL characters or lone surrogates, and keep JSON nesting "
            f"under {self.max_depth} levels",
        )


class SecurityHeaders:
    """Add Cache-Control: no-store (unless set) and X-Content-Type-Options: nosniff."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap `send` to add the headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {n.lower() for n, _ in headers}
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, add_headers)
