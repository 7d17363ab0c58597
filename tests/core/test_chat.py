"""The chat contract (bot/core/chat.py): every adapter fulfils ``ChatAdapter``, the core's
commands fulfil ``CommandHandler``, and the delivery errors mean what the contract says."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.adapters.console import ConsoleAdapter
from bot.adapters.discord.adapter import DiscordAdapter
from bot.adapters.slack.adapter import SlackAdapter
from bot.config import load_config
from bot.core.alerts import Alerts, claim_alerts, plan_deliveries
from bot.core.chat import ChannelUnavailable, ChatAdapter, CommandHandler, DeliveryError
from bot.core.commands import Commands
from bot.core.feedleases import default_owner, release_stale
from bot.core.models import ChannelRef
from bot.core.outbox import Claim, Outbox
from bot.settings import DEFAULT_CONFIG
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Database
from bot.storage.tables import DeliveryRow, StoryItemRow, SubscriptionRow
from tests.core.newsdata import add_item, add_story
from tests.fakes.recording import AdminNote, Posted, RecordingAdapter, ThreadReply

NOW = datetime(2025, 11, 3, 12, 0, tzinfo=UTC)
CHANNEL = ChannelRef("console", "local", "news", "news")


def _alerts(db: Database, adapters: dict[str, ChatAdapter], **outbox: Any) -> Alerts:
    """Alerts flushed through an outbox over ``adapters`` (the live registry)."""
    return Alerts(Outbox(db, adapters, **outbox))


CONTRACT = sorted({n for n in vars(ChatAdapter) if not n.startswith("_")} | {"platform"})


def test_every_adapter_and_the_recording_fake_fulfil_the_chat_adapter_contract() -> None:
    assert "post" in CONTRACT and "notify_admins" in CONTRACT
    for adapter in (ConsoleAdapter, SlackAdapter, DiscordAdapter, RecordingAdapter):
        missing = [name for name in CONTRACT if not hasattr(adapter, name)]
        assert missing == [], f"{adapter.__name__} lacks {missing}"
        for name in CONTRACT:
            # A method the core awaits must be a coroutine in every adapter.
            wanted = inspect.iscoroutinefunction(getattr(ChatAdapter, name, None))
            assert inspect.iscoroutinefunction(getattr(adapter, name)) == wanted, name


def test_the_core_commands_fulfil_the_command_handler_contract(sqlite_db: Database) -> None:
    assert isinstance(Commands(sqlite_db, load_config(DEFAULT_CONFIG)), CommandHandler)


def _one_story_for_the_channel(s: Session) -> None:
    row = subs_repo.get_or_create(s, CHANNEL, now=NOW - timedelta(days=1))
    row.topics = ["diplomacy"]
    item = add_item(s, "India, US hold 2+2 dialogue", seen=NOW, relevant=True,
                    topics=("diplomacy",))  # fmt: skip
    story = add_story(s, "s-0c", "India, US hold 2+2 dialogue", ("diplomacy",), [item])
    plan_deliveries(s, [story.id], NOW)


async def test_a_failed_post_is_retried_and_posted_once(db: Database) -> None:
    await db.run(_one_story_for_the_channel)
    chat = RecordingAdapter()
    chat.fail_next("post", DeliveryError("Slack is unreachable (ClientConnectorError)"))
    delivery = _alerts(db, {"console": chat}, clock=lambda: NOW)
    assert (await delivery.flush()).posted == 0 and chat.calls == []
    later = _alerts(db, {"console": chat}, clock=lambda: NOW + timedelta(hours=1))
    assert (await later.flush()).posted == 1
    [posted] = chat.calls
    assert isinstance(posted, Posted) and posted.card.story_key == "s-0c"
    row = await db.run(lambda s: s.scalars(select(DeliveryRow)).one())
    assert (row.id, row.status, row.message_id) == (
        posted.delivery_id,
        "sent",
        posted.ref.message_id,
    )
    assert (await later.flush()).posted == 0 and len(chat.calls) == 1


async def test_channel_unavailable_pauses_the_subscription_and_tells_the_admins(
    db: Database,
) -> None:
    await db.run(_one_story_for_the_channel)
    chat = RecordingAdapter()
    chat.fail_next("post", ChannelUnavailable("not_in_channel: the bot is not a member"))
    report = await _alerts(db, {"console": chat}, clock=lambda: NOW).flush()
    assert (report.posted, report.paused) == (0, 1)
    [note] = chat.calls
    assert isinstance(note, AdminNote) and note.workspace == "local"
    assert "not_in_channel" in note.text and "/news subscribe" in note.text
    sub = await db.run(lambda s: s.scalars(select(SubscriptionRow)).one())
    assert sub.paused and sub.paused_reason is not None
    assert sub.paused_reason.startswith("not_in_channel")


async def test_a_thread_follow_up_names_the_report_found_later_even_if_published_earlier(
    db: Database,
) -> None:
    def story_with_one_report(s: Session) -> int:
        row = subs_repo.get_or_create(s, CHANNEL, now=NOW - timedelta(days=1))
        row.topics, row.follow_ups = ["diplomacy"], "thread"
        first = add_item(s, "India, US hold 2+2 dialogue", seen=NOW, source="The Hindu",
                         relevant=True, topics=("diplomacy",))  # fmt: skip
        story = add_story(s, "s-0t", first.title, ("diplomacy",), [first])
        plan_deliveries(s, [story.id], NOW)
        return story.id

    def a_report_published_the_day_before(s: Session) -> None:
        earlier = add_item(s, "2+2 dialogue opens", seen=NOW - timedelta(days=1),
                           source="Reuters", relevant=True, topics=("diplomacy",))  # fmt: skip
        earlier.first_seen_at = NOW + timedelta(hours=1)  # found after the alert went out
        s.add(StoryItemRow(item_id=earlier.id, story_id=story_id, added_at=NOW))
        s.flush()
        plan_deliveries(s, [story_id], NOW + timedelta(hours=1))

    story_id = await db.run(story_with_one_report)
    chat = RecordingAdapter()
    assert (await _alerts(db, {"console": chat}, clock=lambda: NOW).flush()).posted == 1
    await db.run(a_report_published_the_day_before)
    later = _alerts(db, {"console": chat}, clock=lambda: NOW + timedelta(hours=1))
    assert (await later.flush()).updated == 1

    [reply] = [c for c in chat.calls if isinstance(c, ThreadReply)]
    assert reply.source.outlet == "Reuters"  # not The Hindu, which now sorts last


async def test_alerts_a_killed_process_had_claimed_go_out_at_once_after_its_restart(
    db: Database,
) -> None:
    await db.run(_one_story_for_the_channel)
    host = default_owner().rsplit(":", 1)[0]
    killed_at = datetime.now(UTC)  # the claims are judged by the wall clock at restart
    dead = _alerts(db, {}, clock=lambda: killed_at, owner=f"{host}:{2**22 + 1}")
    # It claimed the row for a whole lease and died before posting (no pid 2**22+1 runs).
    claim = Claim(("console",), killed_at, dead.outbox.owner, dead.outbox.lease)
    assert len(await db.run(lambda s: claim_alerts(s, claim))) == 1
    chat = RecordingAdapter()
    restarted = _alerts(db, {"console": chat}, clock=lambda: datetime.now(UTC))
    assert (await restarted.flush()).posted == 0  # still claimed: it might be posting

    await release_stale(db)

    assert (await restarted.flush()).posted == 1
    row = await db.run(lambda s: s.scalars(select(DeliveryRow)).one())
    assert (row.status, row.claimed_by, row.claimed_until) == ("sent", None, None)
