"""A feed's next state after a poll, decided on values: no network, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.config import PollConfig
from bot.core.feedstate import FeedStatus, next_state, with_count
from bot.core.fetch import FetchResult, FetchStatus
from bot.core.models import Feed, FeedHealth, ParsedItem
from bot.core.parse import ParsedFeed

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
POLL = PollConfig(interval=900, backoff_base=60, backoff_max=3600)
SEEN = NOW - timedelta(days=3)
FEED = Feed(id=3, url="https://news.example.org/rss", name="Example News", first_polled_at=SEEN)


def _item(key: str) -> ParsedItem:
    return ParsedItem(key, f"Headline {key}", "", f"https://news.example.org/{key}", NOW, "Ex")


def _ok(feed: Feed = FEED, **kw: object) -> FetchResult:
    return FetchResult(feed, FetchStatus.OK, http_status=200, **kw)  # type: ignore[arg-type]


def test_a_feed_that_answers_is_checked_again_one_interval_later() -> None:
    polled = next_state(_ok(etag='"v2"'), ParsedFeed((_item("a"),), listed=4), NOW, POLL)

    assert polled.outcome.status is FeedStatus.OK
    assert polled.state.next_fetch_at == NOW + timedelta(seconds=900)
    assert polled.state.health is FeedHealth.OK and polled.state.failures == 0
    assert polled.state.validators_changed and polled.state.etag == '"v2"'
    assert polled.items is not None and polled.items.alertable


def test_the_outcome_counts_what_storing_found_new() -> None:
    polled = next_state(_ok(), ParsedFeed((_item("a"), _item("b")), listed=9), NOW, POLL)

    outcome = with_count(polled, 2)

    assert outcome.new_items == 2
    assert "2 new of 9 items" in outcome.message


def test_a_first_poll_stores_the_backlog_without_alerting_it() -> None:
    new_feed = Feed(id=4, url="https://new.example.org/rss", name="New")

    polled = next_state(_ok(new_feed), ParsedFeed((_item("a"),), listed=1), NOW, POLL)

    assert polled.items is not None and not polled.items.alertable
    assert polled.state.first_polled_at == NOW


def test_failures_back_off_exponentially_up_to_the_cap() -> None:
    waits = []
    feed = FEED
    for _ in range(8):
        failed = FetchResult(feed, FetchStatus.FAILED, http_status=503, error="HTTP 503")
        polled = next_state(failed, None, NOW, POLL)
        waits.append((polled.state.next_fetch_at - NOW).total_seconds())
        feed = replace(feed, failures=polled.state.failures)

    assert waits[:4] == [60, 120, 240, 480]
    assert max(waits) == 3600
    assert polled.state.health is FeedHealth.FAILING
    assert "failure 8 in a row" in polled.outcome.message


def test_a_sites_retry_after_is_honoured_when_longer_than_the_backoff() -> None:
    failed = FetchResult(
        FEED, FetchStatus.FAILED, http_status=429, error="HTTP 429", retry_after=7200
    )

    polled = next_state(failed, None, NOW, POLL)

    assert polled.state.next_fetch_at == NOW + timedelta(hours=2)


def test_gone_stops_polling_and_says_how_to_resume() -> None:
    gone = FetchResult(FEED, FetchStatus.FAILED, http_status=410, error="HTTP 410")

    polled = next_state(gone, None, NOW, POLL)

    assert polled.outcome.status is FeedStatus.GONE
    assert polled.state.health is FeedHealth.GONE and polled.state.stop
    assert "/news admin feeds resume 3" in polled.outcome.message


def test_not_modified_keeps_the_feed_healthy_with_nothing_to_store() -> None:
    polled = next_state(
        FetchResult(FEED, FetchStatus.NOT_MODIFIED, http_status=304), None, NOW, POLL
    )

    assert polled.outcome.status is FeedStatus.NOT_MODIFIED
    assert polled.items is None and polled.state.health is FeedHealth.OK


def test_an_unreadable_body_is_a_failure_with_the_parsers_reason() -> None:
    polled = next_state(
        _ok(), ParsedFeed((), error="the body is not a feed (HTML page)"), NOW, POLL
    )

    assert polled.outcome.status is FeedStatus.FAILED
    assert "the body is not a feed (HTML page)" in polled.outcome.message


def test_an_empty_feed_is_healthy_but_named() -> None:
    polled = next_state(_ok(), ParsedFeed(()), NOW, POLL)

    assert polled.outcome.status is FeedStatus.EMPTY
    assert polled.state.health is FeedHealth.OK


def test_a_permanent_move_updates_the_address_and_says_so() -> None:
    moved = _ok(moved_to="https://news.example.org/feed.xml")

    polled = next_state(moved, ParsedFeed((_item("a"),), listed=1), NOW, POLL)

    assert polled.state.moved_to == "https://news.example.org/feed.xml"
    assert polled.outcome.url == "https://news.example.org/feed.xml"
    assert "moved permanently" in with_count(polled, 1).message
