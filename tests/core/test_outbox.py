"""The one outbox (bot/core/outbox.py): alerts, digests and held releases share its registry
of live adapters, its claims and its settlement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.alerts import Alerts, plan_deliveries
from bot.core.chat import AdapterStopped, ChannelUnavailable, ChatAdapter, DeliveryError
from bot.core.digests import Digests
from bot.core.models import ChannelRef
from bot.core.outbox import Outbox
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Database
from bot.storage.tables import DeliveryRow, SubscriptionRow
from tests.core.newsdata import add_item, add_story
from tests.fakes.recording import AdminNote, RecordingAdapter

NOW = datetime(2025, 11, 3, 17, 0, tzinfo=UTC)  # 22:30 in Kolkata
QUIET_END = datetime(2025, 11, 4, 1, 30, tzinfo=UTC)  # 07:00 in Kolkata
CHANNEL = ChannelRef("console", "local", "news", "news")
DAILY = {"every": "daily", "at": "08:00", "tz": "Asia/Kolkata"}


def _channel_with_a_story(s: Session, **settings: object) -> tuple[int, list[int]]:
    row = subs_repo.get_or_create(s, CHANNEL, now=NOW - timedelta(days=1))
    row.topics = ["diplomacy"]
    for name, value in settings.items():
        setattr(row, name, value)
    item = add_item(s, "India, US hold 2+2 dialogue", seen=NOW - timedelta(hours=1),
                    relevant=True, topics=("diplomacy",))  # fmt: skip
    story = add_story(s, "s-0o", "India, US hold 2+2 dialogue", ("diplomacy",), [item])
    return row.id, [story.id]


async def _rows(db: Database) -> list[DeliveryRow]:
    return list(await db.run(lambda s: s.scalars(select(DeliveryRow)).all()))


async def test_an_adapter_that_stopped_on_an_alert_is_dropped_for_the_digests_too(
    db: Database,
) -> None:
    sub_id, story_ids = await db.run(lambda s: _channel_with_a_story(s, mode="both", digest=DAILY))
    await db.run(lambda s: plan_deliveries(s, story_ids, NOW))
    chat = RecordingAdapter()
    chat.fail_next("post", AdapterStopped("invalid_auth: the token was revoked"))
    live: dict[str, ChatAdapter] = {"console": chat}
    outbox = Outbox(db, live, clock=lambda: NOW)

    assert (await Alerts(outbox).flush()).failed == 1
    assert live == {}  # the composition root's registry itself, not a copy
    assert await Digests(outbox).run(sub_id) == 1  # built, but not posted
    assert chat.calls == []
    alert, digest = sorted(await _rows(db), key=lambda r: r.kind)
    # The alert waits for the platform to be back; a digest's window has moved on.
    assert (alert.status, alert.claimed_by) == ("pending", None)
    assert (digest.kind, digest.status) == ("digest", "failed")
    assert digest.reason == "no console adapter running"


async def test_a_digest_to_a_closed_channel_pauses_it_as_an_alert_would(db: Database) -> None:
    sub_id, _ = await db.run(lambda s: _channel_with_a_story(s, mode="digest", digest=DAILY))
    chat = RecordingAdapter()
    chat.fail_next("post_digest", ChannelUnavailable("channel_not_found"))
    outbox = Outbox(db, {"console": chat}, clock=lambda: NOW)

    assert await Digests(outbox).run(sub_id) == 1

    [note] = chat.calls
    assert isinstance(note, AdminNote) and "channel_not_found" in note.text
    assert "/news subscribe" in note.text
    sub = await db.run(lambda s: s.scalars(select(SubscriptionRow)).one())
    assert sub.paused and (sub.paused_reason or "").startswith("channel_not_found")
    [digest] = await _rows(db)
    assert (digest.status, digest.claimed_by) == ("failed", None)


async def test_a_failed_release_of_held_alerts_stays_held_and_is_tried_again_later(
    db: Database,
) -> None:
    _, story_ids = await db.run(
        lambda s: _channel_with_a_story(s, quiet_start="22:00", quiet_end="07:00",
                                        timezone="Asia/Kolkata")
    )  # fmt: skip
    await db.run(lambda s: plan_deliveries(s, story_ids, NOW))
    chat = RecordingAdapter()
    chat.fail_next("post_digest", DeliveryError("Slack answered 503"))
    clock = [QUIET_END]
    digests = Digests(Outbox(db, {"console": chat}, clock=lambda: clock[0]))

    assert await digests.release_held() == 1 and chat.calls == []
    [held] = await _rows(db)
    assert (held.status, held.claimed_by, held.last_error) == ("held", None, "Slack answered 503")
    assert held.due_at == QUIET_END + timedelta(minutes=5)
    assert await digests.release_held() == 0  # not due yet

    clock[0] = QUIET_END + timedelta(minutes=5)
    assert await digests.release_held() == 1
    [released] = chat.digests
    assert released.story_keys == ["s-0o"] and released.delivery_id == held.id
    [row] = await _rows(db)
    assert (row.status, row.message_id, row.claimed_by) == ("released", "1", None)
