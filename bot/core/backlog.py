"""Bytes fetched but not parsed yet: fetches wait while a poll cycle's backlog is over its cap."""

from __future__ import annotations

import asyncio


class Backlog:
    """Bytes fetched but not yet parsed; new fetches wait while it is over the cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.bytes = 0
        self.closed = False
        self._drained = asyncio.Event()

    async def room(self) -> None:
        while self.bytes > self.cap and not self.closed:
            self._drained.clear()
            await self._drained.wait()

    def add(self, size: int) -> None:
        self.bytes += size

    def done(self, size: int) -> None:
        self.bytes -= size
        self._drained.set()

    def close(self) -> None:
        self.closed = True
        self._drained.set()
