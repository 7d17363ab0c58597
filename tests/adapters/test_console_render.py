"""What a person reads on the console: one field a line, each alert printed once and
labelled with its channel."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from datetime import UTC, datetime

from bot.adapters.console import ConsoleAdapter, console_channel, render_card, render_reply
from bot.core.models import MessageRef, Reply, ReplyField, SourceLink, StoryCard

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CARD = StoryCard(
    story_id=7,
    story_key="s7",
    headline="India and US sign defence framework",
    extract="The ten-year framework was signed in Kuala Lumpur.",
    topics=("framework-agreement",),
    sources=(SourceLink("The Hindu", "India, US sign", "https://www.thehindu.com/a", NOW),),
    first_seen=NOW,
    published=datetime(2026, 11, 24, 7, 30, tzinfo=UTC),
)


def test_every_card_field_is_on_its_own_line() -> None:
    lines = render_card(CARD, channel="newsroom").split("\n")
    assert lines[0] == "[ALERT] #newsroom: India and US sign defence framework  (s7)"
    assert "  published: 2026-11-24 07:30 UTC" in lines
    assert "  first seen: 2026-11-24 09:00 UTC" in lines
    assert "    - The Hindu: https://www.thehindu.com/a" in lines
    # No date runs into a link on any line.
    assert not any("UTC" in line and "https://" in line for line in lines)


def test_a_reply_field_keeps_its_link_on_a_line_of_its_own() -> None:
    reply = Reply(
        "Latest stories:",
        fields=(
            ReplyField(
                "`s7` Framework signed",
                "framework · 1 report · first seen "
                "2026-11-24 09:00 UTC\nhttps://www.thehindu.com/a",
            ),
        ),
    )
    lines = render_reply(reply).split("\n")
    assert (
        lines[1]
        == "  `s7` Framework signed: framework · 1 report · first seen 2026-11-24 09:00 UTC"
    )
    assert lines[2] == "    https://www.thehindu.com/a"


def test_a_story_posted_to_two_console_channels_prints_once_with_its_channel() -> None:
    out = io.StringIO()
    adapter = ConsoleAdapter(out)

    async def deliver() -> None:
        first = await adapter.post(console_channel("console"), CARD, delivery_id=1)
        await adapter.post(console_channel("newsroom"), CARD, delivery_id=2)
        later = replace(
            CARD, sources=(*CARD.sources, SourceLink("ThePrint", "t", "https://theprint.in/b", NOW))
        )
        await adapter.update(first, later)
        await adapter.update(MessageRef(console_channel("newsroom"), "2"), later)

    asyncio.run(deliver())
    printed = out.getvalue()
    assert printed.count("[ALERT") == 1
    assert "[ALERT] #console: India and US sign defence framework  (s7)" in printed
    assert printed.count("[UPDATE") == 1
    assert "[UPDATE] #console: " in printed
    # Another story is its own alert.
    asyncio.run(
        adapter.post(console_channel("newsroom"), replace(CARD, story_key="s8"), delivery_id=3)
    )
    assert "[ALERT] #newsroom: India and US sign defence framework  (s8)" in out.getvalue()


def test_a_second_post_to_the_same_channel_prints_again() -> None:
    # A story re-planned after a crash is posted anew: the person should see it.
    out = io.StringIO()
    adapter = ConsoleAdapter(out)
    asyncio.run(adapter.post(console_channel("console"), CARD, delivery_id=1))
    asyncio.run(adapter.post(console_channel("console"), CARD, delivery_id=2))
    assert out.getvalue().count("[ALERT] #console: ") == 2
