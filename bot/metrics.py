"""Prometheus metrics: one registry for the process and the hooks the stages call.

The hooks are plain functions so the pipeline, outbox and adapters record a figure with one
line and no knowledge of Prometheus; `bot/health.py` serves the registry at `/metrics`.
The registry is the process's own (not prometheus_client's global one) so tests and a
second bot in the same process start from known figures.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

FEEDS_POLLED = Counter(
    "newsbot_feeds_polled", "Feed polls, by outcome (ok or the failure's reason).",
    ["outcome"], registry=REGISTRY,
)  # fmt: skip
ITEMS_STORED = Counter("newsbot_items_stored", "New items stored.", registry=REGISTRY)
ITEMS_MATCHED = Counter(
    "newsbot_items_matched", "Items matched, by verdict.", ["verdict"], registry=REGISTRY
)
POSTED = Counter(
    "newsbot_posted", "Chat messages posted or edited, by platform.", ["platform"],
    registry=REGISTRY,
)  # fmt: skip
OUTBOX_BACKLOG = Gauge(
    "newsbot_outbox_backlog", "Outbox rows waiting to be posted.", registry=REGISTRY
)
OUTBOX_AGE = Gauge(
    "newsbot_outbox_oldest_seconds", "Age of the oldest outbox row waiting.", registry=REGISTRY
)
CYCLE_SECONDS = Histogram(
    "newsbot_cycle_seconds", "Poll cycle duration (poll, match, group, plan).",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600), registry=REGISTRY,
)  # fmt: skip
DELIVERY_SECONDS = Histogram(
    "newsbot_delivery_seconds", "One chat call's duration.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30), registry=REGISTRY,
)  # fmt: skip
ADAPTER_STATE = Gauge(
    "newsbot_adapter_state", "1 for the state each chat adapter is in, 0 for the others.",
    ["platform", "state"], registry=REGISTRY,
)  # fmt: skip
LAST_CYCLE = Gauge(
    "newsbot_last_cycle_timestamp_seconds", "When the last poll cycle ended (Unix time).",
    registry=REGISTRY,
)  # fmt: skip
LEADER = Gauge(
    "newsbot_leader", "1 while this process leads the role.", ["role"], registry=REGISTRY
)

ADAPTER_STATES = ("connecting", "connected", "retrying", "standby", "stopped")


def feed_polled(outcome: str) -> None:
    FEEDS_POLLED.labels(outcome=outcome or "ok").inc()


def items_stored(count: int) -> None:
    if count:
        ITEMS_STORED.inc(count)


def items_matched(relevant: int, other: int) -> None:
    if relevant:
        ITEMS_MATCHED.labels(verdict="relevant").inc(relevant)
    if other:
        ITEMS_MATCHED.labels(verdict="not_relevant").inc(other)


def delivered(platform: str, seconds: float) -> None:
    """One alert posted or edited (the outbox's call, after the row is settled)."""
    POSTED.labels(platform=platform).inc()
    DELIVERY_SECONDS.observe(seconds)


def cycle_took(seconds: float) -> None:
    CYCLE_SECONDS.observe(seconds)


def outbox(backlog: int, oldest_seconds: float) -> None:
    OUTBOX_BACKLOG.set(backlog)
    OUTBOX_AGE.set(oldest_seconds)


def adapter_state(platform: str, state: str) -> None:
    for each in ADAPTER_STATES:
        ADAPTER_STATE.labels(platform=platform, state=each).set(1 if each == state else 0)


class _Outcome(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def http_status(self) -> int | None: ...


class _Cycle(Protocol):
    @property
    def outcomes(self) -> Iterable[_Outcome]: ...

    @property
    def new_items(self) -> int: ...

    @property
    def relevant(self) -> int: ...

    @property
    def seconds(self) -> float: ...


def cycle_done(report: _Cycle) -> None:
    """Everything a poll cycle's report tells, recorded at once (the pipeline's one call)."""
    for outcome in report.outcomes:
        # The reason by kind, never the message: a label per URL or error text would grow
        # the series without bound.
        reason = str(outcome.status)
        if outcome.http_status is not None and outcome.http_status >= 400:
            reason = f"{reason}_http_{outcome.http_status}"
        feed_polled(reason)
    items_stored(report.new_items)
    items_matched(report.relevant, max(report.new_items - report.relevant, 0))
    cycle_took(report.seconds)
    global _last_cycle
    _last_cycle = time.time()
    LAST_CYCLE.set(_last_cycle)


_last_cycle: float | None = None


def last_cycle_age() -> float | None:
    """Seconds since the last cycle ended in this process; None before the first."""
    return None if _last_cycle is None else max(time.time() - _last_cycle, 0.0)


def leading(role: str, yes: bool) -> None:
    LEADER.labels(role=role).set(1 if yes else 0)


def exposition() -> bytes:
    """The registry in Prometheus' text format."""
    return generate_latest(REGISTRY)
