"""Charts on Discord: `/news story` and `/news topics` send their PNG as a ``discord.File``
through discord.py (multipart: payload_json plus files[n]) on the interaction's answer or, when
deferred, its followup webhook, against the loopback fake Discord."""

from __future__ import annotations

import pytest

from bot.storage.db import Database
from tests.adapters.discord.fixtures import EPHEMERAL, interact, option, start_adapter, sub
from tests.adapters.storydata import add_story
from tests.fakes.fake_discord import FakeDiscord

pytest.importorskip("matplotlib", reason="the charts extra (matplotlib) is in the dev extras")

PNG = b"\x89PNG\r\n\x1a\n"
REPORTS = (
    ("The Hindu", "India, US sign defence framework", "https://www.thehindu.com/a"),
    ("Reuters", "US and India sign 10-year defence pact", "https://www.reuters.com/b"),
    ("Mint", "Defence framework signed in Kuala Lumpur", "https://www.livemint.com/c"),
)


async def test_story_timeline_png_is_attached_to_the_answer(
    discord_fake: FakeDiscord, sqlite_db: Database
) -> None:
    add_story(sqlite_db, key="s7", reports=REPORTS)
    adapter = await start_adapter(discord_fake, sqlite_db)
    try:
        payload = discord_fake.interaction_payload("news", [sub("story", option("story", "s7"))])
        body = await interact(discord_fake, payload)
        assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL
        # discord.py names each file in payload_json's attachments and sends it as files[n].
        assert [a["filename"] for a in body["data"]["attachments"]] == ["story-s7.png"]
        assert body["_files"] == ["files[0]"]
        (upload,) = discord_fake.uploads
        assert upload["filename"] == "story-s7.png" and upload["content_type"] == "image/png"
        assert upload["data"].startswith(PNG)
        assert upload["description"] == "Story s7: its reports over time"  # the alt text
    finally:
        await adapter.stop()


async def test_a_deferred_topics_answer_carries_its_chart_on_the_followup(
    discord_fake: FakeDiscord, sqlite_db: Database
) -> None:
    add_story(sqlite_db, key="s7", reports=REPORTS, relevant=True)
    adapter = await start_adapter(discord_fake, sqlite_db, defer_after=0)
    try:
        payload = discord_fake.interaction_payload("news", [sub("topics")])
        body = await interact(discord_fake, payload)
        assert body["type"] == 5  # "thinking…" first, the answer by followup
        (followup,) = await discord_fake.wait_for_call("POST", r"/webhooks/\d+/[^/]+")
        assert followup.json["_files"] == ["files[0]"]
        (upload,) = discord_fake.uploads
        assert upload["filename"] == "topics-2026-11-24.png" and upload["data"].startswith(PNG)
    finally:
        await adapter.stop()


async def test_a_file_discord_refuses_as_too_large_leaves_the_answer_with_a_note(
    discord_fake: FakeDiscord, sqlite_db: Database
) -> None:
    add_story(sqlite_db, key="s7", reports=REPORTS)
    discord_fake.upload_limit = 100  # smaller than any chart
    adapter = await start_adapter(discord_fake, sqlite_db)
    try:
        payload = discord_fake.interaction_payload("news", [sub("story", option("story", "s7"))])
        body = await interact(discord_fake, payload)
        content = body["data"]["content"]
        assert "India and US sign 10-year defence framework" in content  # the answer itself
        assert content.endswith(
            "(The file story-s7.png could not be attached: Discord refused it, HTTP 413.)"
        )
        assert discord_fake.uploads == [] and "_files" not in body
    finally:
        await adapter.stop()
