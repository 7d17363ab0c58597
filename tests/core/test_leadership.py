"""One leader per role over a real database (SQLite file; PostgreSQL when configured):
taken, renewed, given back on a clean stop, failed over within a lease period, and a dead
predecessor's rows dropped at start."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from bot.core.leadership import Leadership, Role
from bot.storage.db import Database
from bot.storage.leaders import leaders

LEASE = 30.0
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Log:
    """What each process's role callbacks saw, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def role(self, who: str, name: str = "digests") -> Role:
        async def gain() -> None:
            self.events.append(f"{who} gains")

        async def lose() -> None:
            self.events.append(f"{who} loses")

        return Role(name, gain, lose)


def _finished_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _pair(db: Database, log: Log, clock: Clock) -> tuple[Leadership, Leadership]:
    a = Leadership(db, [log.role("a")], lease=LEASE, owner="node-a:1", clock=clock)
    b = Leadership(db, [log.role("b")], lease=LEASE, owner="node-b:1", clock=clock)
    return a, b


async def test_one_leader_and_failover_within_a_lease_period(db: Database) -> None:
    log, clock = Log(), Clock()
    a, b = _pair(db, log, clock)
    await a.round()
    await b.round()
    assert a.leads("digests") and not b.leads("digests")
    assert log.events == ["a gains"]

    # a renews every third of the lease, so b never gets in while a lives.
    for _ in range(6):
        clock.now += timedelta(seconds=LEASE / 3)
        await a.round()
        await b.round()
    assert log.events == ["a gains"]

    # a is killed (no more renewals): b takes over once a's lease has run out, not before.
    clock.now += timedelta(seconds=LEASE - 1)
    await b.round()
    assert not b.leads("digests")
    clock.now += timedelta(seconds=2)
    await b.round()
    assert b.leads("digests")
    # a, back from a pause, finds the role gone and gives it up.
    await a.round()
    assert not a.leads("digests")
    assert log.events == ["a gains", "b gains", "a loses"]
    held = await db.run(lambda s: leaders(s, clock.now))
    assert held == {"digests": "node-b:1"}


async def test_a_clean_stop_hands_the_role_over_at_once(db: Database) -> None:
    log, clock = Log(), Clock()
    a, b = _pair(db, log, clock)
    await a.round()
    await a.stop()
    await b.round()  # same instant: no lease to wait out
    assert b.leads("digests")
    assert log.events == ["a gains", "a loses", "b gains"]


async def test_a_dead_process_on_this_host_is_not_waited_for(db: Database) -> None:
    host = socket.gethostname()
    log, clock = Log(), Clock()
    dead = Leadership(db, [log.role("dead")], lease=LEASE, owner=f"{host}:{_finished_pid()}",
                      clock=clock)  # fmt: skip
    await dead.round()
    live = Leadership(db, [log.role("live")], lease=LEASE, clock=clock)  # this process
    await live.start()
    try:
        assert live.leads("digests")
    finally:
        await live.stop()
    assert log.events == ["dead gains", "live gains", "live loses"]


async def test_roles_are_led_independently(db: Database) -> None:
    log, clock = Log(), Clock()
    a = Leadership(db, [log.role("a", "chat:slack"), log.role("a", "digests")], lease=LEASE,
                   owner="node-a:1", clock=clock)  # fmt: skip
    b = Leadership(db, [log.role("b", "chat:discord"), log.role("b", "digests")], lease=LEASE,
                   owner="node-b:1", clock=clock)  # fmt: skip
    await b.round()
    await a.round()
    assert a.held == {"chat:slack"} and b.held == {"chat:discord", "digests"}
