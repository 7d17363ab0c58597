"""The story repository hands a story's card material over as values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.core.models import GroupingPlan, Item, NewStory, Placement, StoryMaterial, StoryUpdate
from bot.storage.db import Database
from bot.storage.stories import save_grouping, stories_since, story_key_for
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


def test_a_grouping_plan_is_written_with_keys_links_and_items(db: Database) -> None:
    def write(s: Session) -> tuple[int, dict[int, tuple[int, str]]]:
        fa = ("framework-agreement",)
        talks = add_item(s, "Talks", seen=NOW - timedelta(days=2), relevant=True, topics=fa)
        earlier = add_story(s, "s-01", "Talks", fa, [talks])
        a = add_item(s, "Signed", seen=NOW, relevant=True, topics=fa)
        b = add_item(s, "Signed, more", seen=NOW, relevant=True, topics=fa)
        plan = GroupingPlan(
            opened=(NewStory(-1, "Signed", NOW, NOW, linked_ref=earlier.id),),
            updates=(StoryUpdate(-1, NOW + timedelta(hours=1), fa, {"count": 2}),),
            placements=(Placement(a.id, -1, 1.0, NOW, True),
                        Placement(b.id, -1, 0.8, NOW, False)),
        )  # fmt: skip
        return earlier.id, save_grouping(s, plan)

    earlier_id, stored = db.transaction(write)
    (story_id, key) = stored[-1]
    assert key == story_key_for(story_id)
    found = db.transaction(lambda s: story_material(s, story_id))
    assert found is not None
    assert (found.key, found.linked_key, found.headline) == (key, "s-01", "Signed")
    assert [r.title for r in found.reports] == ["Signed", "Signed, more"]
    state = next(st for st in db.transaction(lambda s: stories_since(s, NOW)) if st.id == story_id)
    assert state.signature == {"count": 2}
    assert state.last == NOW + timedelta(hours=1)
    assert earlier_id != story_id
