"""A light HTTP/1.1 load generator: prebuilt form POSTs on keep-alive connections.

httpx spent ~9 ms of CPU per request, as much as the server it was measuring on
the same two cores. Here every request is built as bytes before the clock starts
and written on a raw asyncio stream that stays open (HTTP/1.1 keep-alive); the
answer is read whole (status line, headers, ``Content-Length`` or chunked body),
so its status and whether it is the thank-you page are known. About 0.1-0.2 ms
of CPU per request.

Failures are named as httpx named them, so that callers can tell a request that
never reached the server (``ConnectError``, ``ConnectTimeout``) from one that did.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
import urllib.parse

__all__ = ["Outcome", "fire", "form_post", "REQUEST_TIMEOUT"]

REQUEST_TIMEOUT = 30.0


@dataclasses.dataclass
class Outcome:
    """What came back: a status (None when the request failed), the time, and
    whether the body is the thank-you page."""

    submission: object
    status: int | None
    seconds: float
    error: str | None = None
    thanked: bool = False

    @property
    def acknowledged(self) -> bool:
        """A 200 whose page says the answer was saved."""
        return self.status == 200 and self.thanked


def form_post(host: str, path: str, fields: dict[str, str]) -> bytes:
    """The bytes of one ``application/x-www-form-urlencoded`` POST."""
    body = urllib.parse.urlencode(fields).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection:
    """One keep-alive connection, opened on first use and after a failure."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Write `request`, read the whole answer; (status, body)."""
        if self._writer is None:
            try:
                self._reader, self._writer = await asyncio.open_connection(
                    self.host, self.port
                )
            except OSError as exc:
                raise _Failed("ConnectError") from exc
        self._writer.write(request)
        status, body, keep = await _read_response(self._reader)
        if not keep:
            self.close()
        return status, body

    def close(self) -> None:
        """Drop the socket; the next :meth:`send` opens a new one."""
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


class _Failed(Exception):
    """A request that got no complete answer; its argument is the error name."""


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise _Failed("ReadError") from exc
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    try:
        if headers.get("transfer-encoding") == "chunked":
            body = await _read_chunked(reader)
        else:
            body = await reader.readexactly(int(headers.get("content-length", 0)))
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise _Failed("RemoteProtocolError") from exc
    return status, body, headers.get("connection") != "close"


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        parts.append(await reader.readexactly(size + 2))
        if size == 0:
            return b"".join(parts)


async def _post(
    connection: Connection, submission, request: bytes, thanks: bytes
) -> Outcome:
    started = time.perf_counter()
    try:
        status, body = await asyncio.wait_for(connection.send(request), REQUEST_TIMEOUT)
    except (_Failed, TimeoutError, OSError) as exc:
        connection.close()
        name = exc.args[0] if isinstance(exc, _Failed) else type(exc).__name__
        if isinstance(exc, TimeoutError):
            name = "ReadTimeout"
        return Outcome(submission, None, time.perf_counter() - started, name)
    seconds = time.perf_counter() - started
    return Outcome(submission, status, seconds, thanked=thanks in body)


async def fire(
    url: str,
    submissions: list,
    *,
    secret: str,
    rate: float,
    seconds: float,
    concurrency: int = 32,
    stop: asyncio.Event | None = None,
    on_outcome=None,
    thanks: bytes = b"Thank you",
) -> tuple[list[Outcome], float]:
    """POST `submissions` open-loop at `rate` per second for at most `seconds`.

    Each submission needs ``path`` and ``form(secret, rng)``; the requests are
    built before the clock starts. At most `concurrency` requests are in flight,
    one per keep-alive connection; when the server is slower the sender falls
    behind schedule (the achieved rate shows it). Sending stops at the end of
    the list, after `seconds`, or when `stop` is set; requests in flight are then
    awaited (each has a 30 s timeout). `on_outcome(outcome, outcomes)` is called
    as each answer arrives; an answer counts as acknowledged when it is a 200
    whose body holds `thanks`. Returns the outcomes and the seconds from the
    first send to the last answer.
    """
    address = urllib.parse.urlsplit(url)
    host = f"{address.hostname}:{address.port}"
    rng = random.Random(1)
    requests = [form_post(host, s.path, s.form(secret, rng)) for s in submissions]
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(concurrency):
        idle.put_nowait(Connection(address.hostname, address.port))
    outcomes: list[Outcome] = []

    async def one(connection, submission, request):
        try:
            outcome = await _post(connection, submission, request, thanks)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome, outcomes)
        finally:
            idle.put_nowait(connection)

    loop = asyncio.get_running_loop()
    start, tasks = loop.time(), []
    for n, (submission, request) in enumerate(zip(submissions, requests, strict=True)):
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        connection = await idle.get()
        if loop.time() - start >= seconds or (stop is not None and stop.is_set()):
            idle.put_nowait(connection)
            break
        tasks.append(asyncio.create_task(one(connection, submission, request)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    while not idle.empty():
        idle.get_nowait().close()
    return outcomes, elapsed
