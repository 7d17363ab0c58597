"""Why an item did not reach a channel (`/news missed`), decided over values alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.core.commands.views import missed_reason, one_line
from bot.core.models import ChannelRef, DeliveryKind, DeliveryStatus, ItemFate, Subscription

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
FOLLOWS = Subscription(1, ChannelRef("slack", "T1", "C1"), ("diplomacy",), NOW - timedelta(days=2))
FATE = ItemFate(
    item_id=7, title="Rubio meets Jaishankar", source="The Hindu", seen=NOW, published=NOW,
    alertable=True, relevant=True, why="Relevant", topics=("diplomacy",), story_key="s-07",
    story_first_seen=NOW, first_report=True, delivery_status=None, delivery_kind=None,
    delivery_reason="",
)  # fmt: skip


def test_an_item_on_its_way_says_where_it_is() -> None:
    assert missed_reason(replace(FATE, relevant=None), FOLLOWS) == "not matched yet"
    assert missed_reason(replace(FATE, story_key=None), FOLLOWS) == "not grouped into a story yet"
    assert missed_reason(FATE, FOLLOWS) == "not planned yet (next poll)"
    assert missed_reason(FATE, None) == "this channel has no subscription"


def test_the_channels_own_choices_are_named() -> None:
    assert missed_reason(FATE, replace(FOLLOWS, topics=("trade-tensions",))) == (
        "other topic (diplomacy)"
    )
    assert missed_reason(FATE, replace(FOLLOWS, muted_stories=("s-07",))) == "muted (story `s-07`)"
    assert missed_reason(FATE, replace(FOLLOWS, mode="digest")).startswith("digest only")
    assert missed_reason(FATE, replace(FOLLOWS, since=NOW + timedelta(hours=1))) == (
        "before this channel subscribed"
    )


def test_a_delivery_says_what_became_of_it() -> None:
    sent = replace(FATE, delivery_status=DeliveryStatus.SENT)
    assert missed_reason(sent, FOLLOWS) is None  # it reached the channel
    assert missed_reason(replace(sent, first_report=False), FOLLOWS) == (
        "duplicate: another report of story `s-07`, shown in its post"
    )
    failed = replace(FATE, delivery_status=DeliveryStatus.FAILED, delivery_reason="not_in_channel")
    assert missed_reason(failed, FOLLOWS) == "failed: not_in_channel"
    held = replace(FATE, delivery_status=DeliveryStatus.HELD, delivery_reason="quiet hours")
    assert missed_reason(held, FOLLOWS) == "quiet hours (released later)"
    digest = replace(
        FATE, delivery_status=DeliveryStatus.PENDING, delivery_kind=DeliveryKind.DIGEST
    )
    assert missed_reason(digest, FOLLOWS) == "in the next digest"


def test_a_not_relevant_item_gives_the_matchers_reason_on_one_line() -> None:
    fate = replace(FATE, relevant=False, why="Not relevant:\nno US actor\tas a subject")
    assert missed_reason(fate, FOLLOWS) == "not relevant: Not relevant: no US actor as a subject"
    assert one_line("x" * 200, 10) == "x" * 9 + "…"
