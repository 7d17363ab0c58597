"""The subscription repository: a channel's row found or made, read as a value, edited through
a pure function and written back, a settings change audited and a reading-list change not."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.models import ChannelRef, Subscription, UserRef
from bot.storage import audit
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Database

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
CHANNEL = ChannelRef("slack", "T1", "C1", "newsroom")
ASHA = UserRef("slack", "T1", "U1", "asha")


def test_a_channel_without_a_subscription_has_none(db: Database) -> None:
    assert db.transaction(lambda s: subs_repo.subscription(s, CHANNEL)) is None


def test_an_edit_is_written_back_and_audited_with_before_and_after(db: Database) -> None:
    def mute(sub: Subscription) -> tuple[Subscription, str]:
        return replace(sub, muted_sources=("Example Wire",), hourly_cap=3), "muted"

    sub, said = db.transaction(
        lambda s: subs_repo.update(s, CHANNEL, mute, by=ASHA, action="channel.mute", now=NOW)
    )
    assert said == "muted" and sub.muted_sources == ("Example Wire",) and sub.hourly_cap == 3
    again = db.transaction(lambda s: subs_repo.subscription(s, CHANNEL))
    assert again == sub and again.channel == CHANNEL and again.since == NOW
    (entry,) = db.transaction(lambda s: audit.latest(s, 5))
    assert (entry.action, entry.user_name) == ("channel.mute", "asha")
    assert entry.before is not None and entry.after is not None
    assert entry.before["muted_sources"] == [] and entry.after["muted_sources"] == ["Example Wire"]


def test_following_topics_is_not_an_audited_settings_change(db: Database) -> None:
    def follow(sub: Subscription) -> tuple[Subscription, None]:
        return replace(sub, topics=("diplomacy",)), None

    sub, _ = db.transaction(
        lambda s: subs_repo.update(s, CHANNEL, follow, by=ASHA, action="channel.subscribe", now=NOW)
    )
    assert sub.topics == ("diplomacy",)
    assert db.transaction(lambda s: audit.latest(s, 5)) == []


def test_an_edit_that_raises_writes_nothing(db: Database) -> None:
    def refuse(sub: Subscription) -> tuple[Subscription, str]:
        raise ValueError("no")

    with pytest.raises(ValueError):
        db.transaction(
            lambda s: subs_repo.update(
                s, CHANNEL, refuse, by=ASHA, action="channel.cap", now=NOW + timedelta(hours=1)
            )
        )
    assert db.transaction(lambda s: subs_repo.subscription(s, CHANNEL)) is None
