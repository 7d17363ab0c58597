"""The read queries hand the commands values: stories, items, an item's way to a channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import load_config
from bot.core.models import ChannelRef, ItemFate, StoryDetail
from bot.settings import DEFAULT_CONFIG
from bot.storage import reads
from bot.storage import subscriptions as subs_repo
from bot.storage.configstore import seed
from bot.storage.db import Database
from tests.core.newsdata import add_item, add_story

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
CHANNEL = ChannelRef("console", "local", "general", "general")


def test_topics_come_from_the_database_in_their_order_and_from_the_config_before_a_seed(
    db: Database,
) -> None:
    cfg = load_config(DEFAULT_CONFIG)
    before = db.transaction(lambda s: reads.topics(s, cfg))
    db.transaction(lambda s: seed(s, cfg, now=NOW))
    after = db.transaction(lambda s: reads.topics(s, cfg))
    assert [t.id for t in before] == [t.id for t in cfg.topics] == [t.id for t in after]
    assert after[0].terms == cfg.topics[0].terms


def test_a_story_is_found_by_its_key_in_any_case_and_with_backticks(db: Database) -> None:
    def write(s: Session) -> str:
        one = add_item(s, "India, US sign framework", seen=NOW, relevant=True,
                       topics=("framework-agreement",))  # fmt: skip
        return add_story(
            s, "abc123", "India, US sign framework", ("framework-agreement",), [one]
        ).key

    key = db.transaction(write)
    assert db.transaction(lambda s: reads.story_key(s, f"`{key.upper()}`")) == key
    assert db.transaction(lambda s: reads.story_key(s, "nope")) is None
    detail = db.transaction(lambda s: reads.story_detail(s, key))
    assert isinstance(detail, StoryDetail) and [r.title for r in detail.reports] == [
        "India, US sign framework"
    ]


def test_an_items_fate_says_its_match_story_and_first_report(db: Database) -> None:
    def write(s: Session) -> None:
        subs_repo.get_or_create(s, CHANNEL, now=NOW - timedelta(days=1), created_by="U1")
        first = add_item(s, "First report", seen=NOW - timedelta(hours=2), relevant=True,
                         topics=("framework-agreement",))  # fmt: skip
        second = add_item(s, "Second report", seen=NOW - timedelta(hours=1), relevant=True,
                          topics=("framework-agreement",))  # fmt: skip
        add_item(s, "Unrelated", seen=NOW, relevant=False)
        add_story(s, "st0001", "First report", ("framework-agreement",), [first, second])

    db.transaction(write)
    fates = db.transaction(lambda s: reads.item_fates(s, CHANNEL, NOW - timedelta(days=1)))
    by_title: dict[str, ItemFate] = {f.title: f for f in fates}
    assert [f.title for f in fates] == ["Unrelated", "Second report", "First report"]
    assert by_title["First report"].first_report and not by_title["Second report"].first_report
    assert by_title["Second report"].story_key == "st0001"
    assert by_title["Unrelated"].relevant is False and by_title["Unrelated"].story_key is None
    assert by_title["First report"].delivery_status is None
