"""Keeps each chat platform connected: start with backoff forever, and report the state.

A platform unreachable at start (or one whose adapter stops later: the outbox drops an adapter
that raised `AdapterStopped`) stays in the registry as `retrying`, with the reason, and is
started again after an exponential backoff with jitter, capped at `cap` seconds. Only a
connected adapter is in the outbox's live set, so its alerts wait in the outbox meanwhile.
Each retry builds a fresh adapter from the platform's factory: a stopped client is not reused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field

from bot import metrics
from bot.core.chat import ChatAdapter

logger = logging.getLogger(__name__)

CONNECTING, CONNECTED, RETRYING, STOPPED = "connecting", "connected", "retrying", "stopped"
STANDBY = "standby"  # another process leads this platform's connection


def _alive(adapter: ChatAdapter) -> bool:
    # `connected` is optional: the console (and a test's recording adapter) never disconnect.
    return bool(getattr(adapter, "connected", True))


def backoff(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before retry number `attempt` (0-based): doubling from `base`, at most `cap`,
    scaled by a random 0.5–1 so workers restarted together do not retry in step."""
    return float(min(cap, base * 2.0**attempt) * rng.uniform(0.5, 1.0))


@dataclass
class Connections:
    """The platforms' connection keepers. `registry` is every enabled adapter (the bot's);
    `live` the connected ones (the outbox's)."""

    registry: MutableMapping[str, ChatAdapter]
    live: MutableMapping[str, ChatAdapter]
    factories: dict[str, Callable[[], ChatAdapter]]
    base: float = 1.0
    cap: float = 300.0
    watch_every: float = 1.0  # how often a connected adapter is checked for having stopped
    rng: random.Random = field(default_factory=random.Random)
    _states: dict[str, tuple[str, str]] = field(default_factory=dict)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _firsts: dict[str, asyncio.Event] = field(default_factory=dict)  # set at the 1st attempt
    _started: set[str] = field(default_factory=set)  # platforms whose adapter was started

    def states(self) -> dict[str, tuple[str, str]]:
        """Each platform's (state, reason): connecting, connected, retrying (why), standby
        (another process leads it), stopped."""
        return dict(self._states)

    async def start(self, wait: float = 60.0, names: list[str] | None = None) -> None:
        """Start the keepers of `names` (default: every platform) and wait (up to `wait` s)
        for each one's first attempt."""
        firsts = [self._launch(name) for name in (list(self.registry) if names is None else names)]
        if firsts and wait > 0:
            await asyncio.wait([asyncio.create_task(f.wait()) for f in firsts], timeout=wait)

    def _launch(self, name: str) -> asyncio.Event:
        first = asyncio.Event()
        if name not in self._tasks:
            self._tasks[name] = asyncio.create_task(self._keep(name, first), name=f"keep-{name}")
            self._firsts[name] = first
        else:
            first.set()
        return first

    async def first_attempts(self, wait: float) -> None:
        """Wait (up to `wait` s) until every running keeper has made its first attempt."""
        pending = [f for name, f in self._firsts.items() if name in self._tasks and not f.is_set()]
        if pending:
            await asyncio.wait([asyncio.create_task(f.wait()) for f in pending], timeout=wait)

    def standby(self, names: list[str]) -> None:
        """Mark platforms another process connects (it leads them): not ours to connect."""
        for name in names:
            if name not in self._tasks:
                self._set(name, STANDBY, "another process holds the connection")

    async def stop_one(self, name: str, state: str = STANDBY) -> None:
        """Disconnect one platform (a lost leadership, or the bot's stop)."""
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.live.pop(name, None)
        if task is not None:  # only a keeper's adapter was started
            try:
                await self.registry[name].stop()
            except Exception as exc:
                logger.warning("%s adapter did not stop cleanly: %s", name, exc)
        reason = "" if state == STOPPED else "another process holds the connection"
        self._set(name, state, reason)

    async def stop(self) -> None:
        for name in list(self.registry):
            await self.stop_one(name, STOPPED)

    def _set(self, name: str, state: str, reason: str) -> None:
        self._states[name] = (state, reason)
        metrics.adapter_state(name, state)

    async def _keep(self, name: str, first: asyncio.Event) -> None:
        attempt = 0
        if name in self._started:  # a stopped client is not reused
            self.registry[name] = self.factories[name]()
        self._started.add(name)
        adapter = self.registry[name]
        while True:
            self._set(name, CONNECTING, "")
            try:
                await adapter.start()
            except Exception as exc:
                reason = str(exc) or type(exc).__name__
                with contextlib.suppress(Exception):
                    await adapter.stop()
                delay = backoff(attempt, self.base, self.cap, self.rng)
                self._set(name, RETRYING, reason)
                logger.warning("%s: cannot connect (%s); retrying in %.0fs", name, reason, delay)
                first.set()
                await asyncio.sleep(delay)
                attempt += 1
                adapter = self.registry[name] = self.factories[name]()
                continue
            attempt = 0
            self.live[name] = adapter
            self._set(name, CONNECTED, "")
            if first.is_set():
                logger.info("%s: connected again; its waiting alerts go out now", name)
            first.set()
            # The outbox drops an adapter that raised AdapterStopped, and an adapter that can
            # tell says its connection ended: either is our cue. (Neither has an event to
            # wait on, hence the polling.)
            while self.live.get(name) is adapter and _alive(adapter):  # noqa: ASYNC110
                await asyncio.sleep(self.watch_every)
            if self.live.get(name) is adapter:
                self.live.pop(name)
            self._set(name, RETRYING, "the connection ended")
            logger.warning("%s: the connection ended; reconnecting", name)
            with contextlib.suppress(Exception):
                await adapter.stop()
            adapter = self.registry[name] = self.factories[name]()
