"""A raw HTTP/1.1 server on 127.0.0.1 for the faults aiohttp.web will not produce.

Each path answers with exact bytes (a lying Content-Length, a bad status line, 9 KB of headers)
and can stall before or after them. ``connections`` counts the connections accepted, so a test
can prove a refused request never reached the server.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True, slots=True)
class RawAnswer:
    data: bytes
    stall_before: float = 0.0  # seconds before sending anything
    stall_after: float = 0.0  # seconds after sending, before closing


class RawServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.answers: dict[str, RawAnswer] = {}
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def answer(self, path: str, data: bytes, *, host: str | None = None, **stalls: float) -> str:
        """Answer ``path`` with ``data``; returns its URL (under ``host``, e.g. a test DNS name)."""
        self.answers[path] = RawAnswer(data, **stalls)
        return self.url(path, host)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            first = await reader.readexactly(1)
            if (
                first == b"\x16"
            ):  # a TLS ClientHello: answer in plain HTTP, as a misconfigured port does
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            head = first + await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode("latin-1")
            answer = self.answers.get(path, RawAnswer(b"HTTP/1.1 404 Not Found\r\n\r\n"))
            await asyncio.sleep(answer.stall_before)
            writer.write(answer.data)
            await writer.drain()
            await asyncio.sleep(answer.stall_after)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
