"""A raw asyncio socket server on 127.0.0.1 for what aiohttp.web cannot send.

Each path answers with a script: bytes are written as they are, a float is a pause in
seconds. A lying Content-Length, headers over 8 KB, a malformed status line, a trickle of
one byte every 100 ms or plain garbage are all just scripts:

    raw.answer("/stall", head(200, {"Content-Length": "5000"}), 5.0)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence

Step = bytes | float

_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def head(status: int, headers: Mapping[str, str], reason: str = "OK") -> bytes:
    """A status line and headers, ready for a body to follow."""
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def trickle(body: bytes, every: float) -> list[Step]:
    """``body`` one byte at a time, ``every`` seconds apart."""
    return [step for byte in body for step in (bytes([byte]), every)]


class RawServer:
    """Answers each request's path with its script, then closes the connection."""

    def __init__(self) -> None:
        self.scripts: dict[str, Sequence[Step]] = {}
        self.requests: list[str] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = asyncio.Event()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        # A stalled script would otherwise keep its connection open past the test; it ends
        # its pause and returns (a cancelled handler task only makes asyncio log noise).
        self._closing.set()
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task
        if self._server is not None:
            self._server.close()
            self._server = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str, *steps: Step) -> str:
        self.scripts[path] = steps
        return self.url(path)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            parts = request.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            path = parts[1] if len(parts) > 1 else "/"
            self.requests.append(path)
            for step in self.scripts.get(path, (_NOT_FOUND,)):
                if self._closing.is_set():
                    break
                if isinstance(step, float):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._closing.wait(), step)
                else:
                    writer.write(step)
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client gave up, as a timeout or a size cap makes it
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
