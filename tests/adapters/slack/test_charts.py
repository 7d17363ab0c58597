"""Charts on Slack: `/news story` and `/news topics` upload their PNG through the real
slack_sdk ``files_upload_v2`` (files.getUploadURLExternal, the bytes POSTed to the loopback
upload URL, files.completeUploadExternal) against the fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.adapters.slack.adapter import SlackAdapter
from bot.config import AppConfig
from bot.core.chat import chat_setup
from bot.core.commands import Commands
from bot.storage.db import Database
from tests.adapters.slack.fixtures import NOW, fake_wait, send_signed, slack_settings, slash_body
from tests.adapters.storydata import add_story
from tests.fakes.fake_slack import FakeSlack

pytest.importorskip("matplotlib", reason="the charts extra (matplotlib) is in the dev extras")

PNG = b"\x89PNG\r\n\x1a\n"
REPORTS = (
    ("The Hindu", "India, US sign defence framework", "https://www.thehindu.com/a"),
    ("Reuters", "US and India sign 10-year defence pact", "https://www.reuters.com/b"),
    ("Mint", "Defence framework signed in Kuala Lumpur", "https://www.livemint.com/c"),
)


@pytest_asyncio.fixture
async def charting(
    fake: FakeSlack, sqlite_db: Database, cfg: AppConfig
) -> AsyncIterator[SlackAdapter]:
    # The commands' clock is the stories' day, so the topics' 30-day chart covers them.
    bot = SlackAdapter(slack_settings(fake), Commands(sqlite_db, cfg, clock=lambda: NOW),
                       chat_setup(cfg))  # fmt: skip
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def test_story_timeline_png_arrives_in_the_askers_direct_messages(
    fake: FakeSlack, charting: SlackAdapter, sqlite_db: Database
) -> None:
    add_story(sqlite_db, key="s7", reports=REPORTS)
    await send_signed(charting, slash_body(fake, "story s7"))
    await fake_wait(fake, lambda: fake.response_url_posts)
    answer = fake.response_url_posts[0]["body"]
    assert answer["response_type"] == "ephemeral"  # the story answer is the asker's
    assert "story-s7.png is in your direct messages" in answer["text"]
    # files_upload_v2's three steps, in Slack's order, the bytes to the loopback upload URL.
    methods = [c.method for c in fake.calls if c.method.startswith("files.")]
    assert methods == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    (entry,) = fake.files.values()
    assert entry["filename"] == "story-s7.png" and entry["channel"] == "D0ALICE"
    assert entry["data"].startswith(PNG) and len(entry["data"]) == entry["length"]
    (shared,) = fake.messages["D0ALICE"]
    assert [f["name"] for f in shared["files"]] == ["story-s7.png"]
    assert "C0GENERAL" not in fake.messages  # a private answer's file stays out of the channel


async def test_a_one_report_story_uploads_nothing(
    fake: FakeSlack, charting: SlackAdapter, sqlite_db: Database
) -> None:
    add_story(sqlite_db, key="s8")  # one report: no timeline worth drawing
    await send_signed(charting, slash_body(fake, "story s8"))
    await fake_wait(fake, lambda: fake.response_url_posts)
    assert "direct messages" not in fake.response_url_posts[0]["body"]["text"]
    assert fake.files == {} and not fake.calls_for("conversations.open")


async def test_topics_volume_png_is_uploaded(
    fake: FakeSlack, charting: SlackAdapter, sqlite_db: Database
) -> None:
    add_story(sqlite_db, key="s7", reports=REPORTS, relevant=True)
    await send_signed(charting, slash_body(fake, "topics"))
    await fake_wait(fake, lambda: fake.response_url_posts)
    assert "in your direct messages" in fake.response_url_posts[0]["body"]["text"]
    (entry,) = fake.files.values()
    assert entry["filename"] == "topics-2026-11-24.png" and entry["data"].startswith(PNG)
    assert entry["title"] == "Relevant reports a day per topic, 2026-10-26 to 2026-11-24"
