"""`/healthz`, `/readyz` and `/metrics` over HTTP (aiohttp.web), for a supervisor and Prometheus.

`/healthz` answers while the event loop runs (a wedged loop cannot answer, which is the
point). `/readyz` is 200 only when the database answers, every enabled chat adapter is
connected, and (for a process that polls) the last cycle ended recently; otherwise 503 with
the failing checks in the JSON body. `/metrics` is the Prometheus text exposition; the
outbox figures are read from the database at scrape time, so they are true whoever flushes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot import metrics
from bot.storage.db import Database
from bot.storage.status import outbox_backlog, ping

logger = logging.getLogger(__name__)

DB_TIMEOUT = 5.0  # seconds; a database slower than this is not ready either


@dataclass
class HealthServer:
    """Serves the three endpoints; `states` gives each enabled adapter's (state, reason)."""

    db: Database
    states: Callable[[], Mapping[str, tuple[str, str]]]
    # Longest a cycle may be away before the process is not ready; None: this process
    # does not poll (its role), so the check is left out.
    max_cycle_age: float | None
    started: float = field(default_factory=time.time)
    _runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (the one the system chose when asked for 0)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = int(self._runner.addresses[0][1])
        logger.info("health: http://%s:%d/healthz, /readyz, /metrics", host, bound)
        return bound

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def checks(self) -> dict[str, str]:
        """Each readiness check: "ok" or why not."""
        found: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.db.run(ping), DB_TIMEOUT)
            found["database"] = "ok"
        except Exception as exc:  # any failure means not ready; its kind is the reason
            found["database"] = f"unreachable ({type(exc).__name__})"
        for platform, (state, reason) in sorted(self.states().items()):
            # standby: another worker leads this platform's connection, as it should
            fine = state in ("connected", "standby")
            found[f"adapter:{platform}"] = "ok" if fine else f"{state}: {reason}".rstrip(": ")
        if self.max_cycle_age is not None:
            age = metrics.last_cycle_age()
            waited = age if age is not None else time.time() - self.started
            late = waited > self.max_cycle_age
            found["last_cycle"] = (
                f"none for {waited:.0f}s (limit {self.max_cycle_age:.0f}s)" if late else "ok"
            )
        return found

    async def _readyz(self, _request: web.Request) -> web.Response:
        found = await self.checks()
        ready = all(v == "ok" for v in found.values())
        return web.json_response({"ready": ready, "checks": found}, status=200 if ready else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        try:
            now = datetime.now(UTC)
            backlog, age = await asyncio.wait_for(
                self.db.run(lambda s: outbox_backlog(s, now)), DB_TIMEOUT
            )
            metrics.outbox(backlog, age)
        except Exception as exc:  # the other figures are still worth serving
            logger.warning("metrics: outbox figures unavailable: %s", type(exc).__name__)
        for platform, (state, _reason) in self.states().items():
            metrics.adapter_state(platform, state)
        body = metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
