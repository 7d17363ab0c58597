"""Stories with their reports, as values: what the card and the outbox's planners read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.core.models import Item, StoryMaterial
from bot.storage.db import Database
from bot.storage.storyfacts import first_seen_after, stories
from bot.storage.storyfacts import story as story_material
from tests.core.newsdata import add_item, add_story

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


def test_a_storys_material_is_its_reports_oldest_first_and_its_link(db: Database) -> None:
    def write(s: Session) -> int:
        fa = ("framework-agreement",)
        later = add_item(s, "Pact signed, Reuters says", seen=NOW, relevant=True, topics=fa,
                         source="Reuters")  # fmt: skip
        first = add_item(s, "Pact signed", seen=NOW - timedelta(hours=3), relevant=True,
                         topics=fa, source="The Hindu")  # fmt: skip
        talks = add_item(s, "Talks on the pact", seen=NOW - timedelta(days=3), relevant=True,
                         topics=fa)  # fmt: skip
        earlier = add_story(s, "s-01", "Talks on the pact", fa, [talks])
        return add_story(s, "s-02", "Pact signed", fa, [later, first], linked=earlier).id

    story_id = db.transaction(write)
    found = db.transaction(lambda s: story_material(s, story_id))
    assert isinstance(found, StoryMaterial)
    assert (found.key, found.linked_key, found.topics) == ("s-02", "s-01", ("framework-agreement",))
    assert all(isinstance(r, Item) for r in found.reports)
    assert [r.source for r in found.reports] == ["The Hindu", "Reuters"]
    assert db.transaction(lambda s: story_material(s, 999)) is None


def test_many_stories_come_in_id_order_with_their_newest_alertable_report(db: Database) -> None:
    def write(s: Session) -> tuple[int, int]:
        t = ("trade-tensions",)
        backlog = add_item(s, "Old tariff news", seen=NOW - timedelta(days=2), relevant=True,
                           topics=t, alertable=False)  # fmt: skip
        fresh = add_item(s, "Tariff cut", seen=NOW, relevant=True, topics=t)
        quiet = add_story(s, "s-01", "Old tariff news", t, [backlog])
        return quiet.id, add_story(s, "s-02", "Tariff cut", t, [fresh]).id

    quiet, fresh = db.transaction(write)
    found = db.transaction(lambda s: stories(s, [fresh, quiet]))
    assert [m.id for m in found] == [quiet, fresh]
    assert found[0].latest_alertable() is None  # a feed's backlog only: never alerted
    assert found[1].latest_alertable() == NOW
    later = db.transaction(lambda s: first_seen_after(s, NOW - timedelta(days=1)))
    assert [m.key for m in later] == ["s-02"]
