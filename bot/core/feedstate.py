"""A feed's next state after one poll, decided on values alone.

The ingest step fetches and parses; what the result means for the feed (when to look again,
how unhealthy it is, what to tell a person) is decided here, with no I/O, so it can be tested
and reasoned about apart from the network and the database.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial

from bot.config import PollConfig
from bot.core.fetch import FetchResult, FetchStatus, backoff_delay, safe_url
from bot.core.freshness import is_news
from bot.core.models import Feed, FeedHealth
from bot.core.parse import ParsedFeed
from bot.storage.feeds import FeedState
from bot.storage.items import FeedItems

# Failures in a row after which the admins hear of a feed (and of its recovery).
FAILING_AFTER = 3


class FeedStatus(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"
    EMPTY = "empty"  # a valid feed with no entries: logged, not backed off
    GONE = "gone"  # the site answered 410 Gone: polling stopped, admins told


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """How one feed's poll went, in one line a person can act on."""

    feed_id: int
    name: str
    url: str
    status: FeedStatus
    message: str
    new_items: int
    next_fetch_at: datetime
    http_status: int | None = None
    failures: int = 0  # failures in a row, this one included (0: it succeeded)
    recovered: int = 0  # it succeeded after this many failures in a row

    @property
    def admins_told(self) -> str | None:
        """What the admins are told of this poll, if anything: a feed that starts failing
        (``FAILING_AFTER`` failures in a row: one blip is not news) and one that is back."""
        if self.status is FeedStatus.FAILED and self.failures == FAILING_AFTER:
            return f"newsbot: {self.message}. Check the address, or `/news admin feeds pause`."
        if self.recovered >= FAILING_AFTER:
            return (
                f'newsbot: feed "{self.name}" works again after {self.recovered} failures in a row.'
            )
        return None


@dataclass(frozen=True, slots=True)
class Polled:
    """One fetched feed after parsing: its new state, items to store and outcome so far."""

    feed: Feed
    state: FeedState
    items: FeedItems | None
    outcome: FeedOutcome
    note: str = ""  # e.g. "it moved permanently to …", repeated in the final message
    listed: int = 0  # entries in the feed, new or not


def next_state(
    result: FetchResult, parsed: ParsedFeed | None, now: datetime, poll: PollConfig
) -> Polled:
    """What one fetch (and its parse, when the body was fetched) means for the feed."""
    feed = result.feed
    if result.status is FetchStatus.FAILED:
        error = result.error or "unknown error"
        return failed(feed, now, error, result.http_status, result.retry_after, poll)
    if result.status is FetchStatus.NOT_MODIFIED or parsed is None:
        detail = "not modified since the last check (HTTP 304)"
        return succeeded(feed, result, now, FeedStatus.NOT_MODIFIED, None, detail, poll)
    if parsed.error:
        return failed(feed, now, parsed.error, result.http_status, None, poll)
    if parsed.empty:
        detail = "the feed is valid but lists no items"
        return succeeded(feed, result, now, FeedStatus.EMPTY, parsed, detail, poll)
    detail = f"{parsed.listed} items in the feed"
    return succeeded(feed, result, now, FeedStatus.OK, parsed, detail, poll)


def succeeded(
    feed: Feed,
    result: FetchResult,
    now: datetime,
    status: FeedStatus,
    parsed: ParsedFeed | None,
    detail: str,
    poll: PollConfig,
) -> Polled:
    next_at = now + timedelta(seconds=poll.interval)
    moved = result.moved_to if result.moved_to and result.moved_to != feed.url else None
    note = f"; it moved permanently to {safe_url(moved)}, address updated" if moved else ""
    message = f'feed "{feed.name}" ({safe_url(feed.url)}): {detail}{note}; next check {at(next_at)}'
    state = FeedState(
        feed_id=feed.id,
        fetched_at=now,
        next_fetch_at=next_at,
        health=FeedHealth.OK,
        failures=0,
        last_status=result.http_status,
        last_error=None,
        etag=result.etag,
        last_modified=result.last_modified,
        first_polled_at=feed.first_polled_at or now,
        succeeded=True,
        moved_to=moved,
        validators_changed=(result.etag, result.last_modified, feed.first_polled_at or now)
        != (feed.etag, feed.last_modified, feed.first_polled_at),
    )
    items = None
    if parsed is not None and parsed.items:
        # A new feed's backlog is stored and matched but never alerted.
        alertable = (
            feed.first_polled_at is not None or feed.alert_on_first_poll or poll.alert_on_first_poll
        )
        items = FeedItems(feed.id, parsed.items, alertable, partial(is_news, max_age=poll.max_age))
    outcome = FeedOutcome(feed.id, feed.name, moved or feed.url, status, message, 0, next_at,
                          result.http_status, recovered=feed.failures)  # fmt: skip
    listed = parsed.listed if parsed is not None else 0
    return Polled(feed, state, items, outcome, note, listed)


def failed(
    feed: Feed,
    now: datetime,
    error: str,
    http_status: int | None,
    retry_after: float | None,
    poll: PollConfig,
) -> Polled:
    failures = feed.failures + 1
    delay = backoff_delay(failures, poll)
    if retry_after is not None and retry_after > delay:
        delay = retry_after  # the site said when; asking sooner would only be refused
    next_at = now + timedelta(seconds=delay)
    message = (
        f'feed "{feed.name}" ({safe_url(feed.url)}) failed: {error}; '
        f"retrying in {duration(delay)} ({at(next_at)}), failure {failures} in a row"
    )
    state = FeedState(
        feed_id=feed.id,
        fetched_at=now,
        next_fetch_at=next_at,
        health=FeedHealth.FAILING,
        failures=failures,
        last_status=http_status,
        last_error=error,
        etag=feed.etag,
        last_modified=feed.last_modified,
        first_polled_at=feed.first_polled_at,
        succeeded=False,
        validators_changed=False,
    )
    status = FeedStatus.FAILED
    if http_status == 410:  # the site's final word: stop until an admin resumes the feed
        status, state = FeedStatus.GONE, replace(state, health=FeedHealth.GONE, stop=True)
        message = (
            f'feed "{feed.name}" ({safe_url(feed.url)}) is gone (HTTP 410): polling stopped. '
            f"Add its new address or remove it; `/news admin feeds resume {feed.id}` resumes it"
        )
    outcome = FeedOutcome(feed.id, feed.name, feed.url, status, message, 0, next_at, http_status,
                          failures=failures)  # fmt: skip
    return Polled(feed, state, None, outcome)


def with_count(polled: Polled, count: int) -> FeedOutcome:
    """The outcome once storing said how many of the feed's items were new."""
    o = polled.outcome
    if o.status is not FeedStatus.OK:
        return o
    message = (
        f'feed "{polled.feed.name}" ({safe_url(polled.feed.url)}): {count} new of '
        f"{polled.listed} items{polled.note}; next check {at(o.next_fetch_at)}"
    )
    return replace(o, new_items=count, message=message)


def at(when: datetime) -> str:
    return f"at {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f}h".replace(".0h", "h")
    return f"{seconds / 86400:.1f}d".replace(".0d", "d")
