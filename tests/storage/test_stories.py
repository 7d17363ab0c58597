"""The grouper's repository: stories a report may join, as values, and a plan written back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.core.models import GroupingPlan, NewStory, Placement, StoryUpdate
from bot.storage.db import Database
from bot.storage.stories import save_grouping, stories_since, story_key_for
from bot.storage.storyfacts import story as story_material
from tests.core.newsdata import add_item, add_story

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


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
