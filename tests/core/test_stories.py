"""Story grouping: one event's reports share a story, events that share only a topic do not,
a follow-up opens a linked story, and grouping survives a restart (state lives in the rows)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core.matching import Matcher
from bot.core.models import Item, StoryState
from bot.core.stories import Assignment, StoryGrouper
from bot.storage import storyfacts
from bot.storage.db import Database
from bot.storage.stories import save_match, stories_since
from bot.storage.tables import ItemRow, StoryRow

DAY0 = datetime(2025, 10, 31, 9, 0, tzinfo=UTC)


def report(session: Session, key: str, title: str, summary: str, at: datetime) -> Item:
    row = ItemRow(key=key, url=f"https://news.example/{key}", title=title, summary=summary,
                  source=f"Outlet {key}", published_at=at, first_seen_at=at)  # fmt: skip
    session.add(row)
    session.flush()
    return Item(id=row.id, key=key, feed_id=None, title=title, summary=summary, url=row.url,
                source=row.source, published=at, first_seen=at)  # fmt: skip


def file(
    db: Database, cfg: AppConfig, key: str, title: str, summary: str, at: datetime
) -> Assignment:
    """Store, match and group one report in its own transaction, as a poll cycle would."""
    matcher, grouper = Matcher.from_config(cfg), StoryGrouper(cfg)

    def run(session: Session) -> Assignment:
        item = report(session, key, title, summary, at)
        match = matcher.match(item)
        assert match.relevant, match.why
        save_match(session, match)
        return grouper.assign(session, item, match)

    return db.transaction(run)


SIGNING = (
    "India, US sign 10-year defence framework in Kuala Lumpur",
    "Rajnath Singh and Pete Hegseth signed the framework on the sidelines of ADMM-Plus.",
)
SIGNING_OTHER_OUTLET = ("Hegseth, Rajnath ink decade-long defence pact at ADMM-Plus",
                        "The US defence secretary and India's Rajnath Singh signed the 10-year "
                        "framework in Kuala Lumpur, calling it a new chapter.")  # fmt: skip
ENGINES = (
    "HAL signs deal with GE for 113 F404 engines",
    "Hindustan Aeronautics will receive the engines for 97 Tejas Mk1A jets from 2027.",
)
DRONES = (
    "India clears purchase of 31 MQ-9B drones from General Atomics",
    "The Defence Acquisition Council approved the Predator drones for the Indian Navy.",
)
TARIFF_AUGUST = (
    "Trump doubles tariff on Indian goods to 50% over Russian oil",
    "The extra 25% duty on India takes effect on August 27, White House says.",
)
TARIFF_CUT = (
    "Trump cuts tariff on Indian goods to 18% after call with Modi",
    "The US drops the 25% Russian-oil penalty on India as trade deal is agreed.",
)


def test_two_outlets_reports_of_one_event_share_a_story(db: Database, cfg: AppConfig) -> None:
    first = file(db, cfg, "a", *SIGNING, DAY0)
    second = file(db, cfg, "b", *SIGNING_OTHER_OUTLET, DAY0 + timedelta(hours=5))
    assert first.created and not second.created
    assert second.story_id == first.story_id
    assert second.story_key == first.story_key
    assert 0.0 < second.similarity <= 1.5


def test_two_events_with_the_same_topic_do_not_merge(db: Database, cfg: AppConfig) -> None:
    engines = file(db, cfg, "a", *ENGINES, DAY0)
    drones = file(db, cfg, "b", *DRONES, DAY0 + timedelta(hours=3))
    assert drones.created
    assert drones.story_id != engines.story_id


def test_a_follow_up_is_a_new_story_linked_to_the_earlier_one(db: Database, cfg: AppConfig) -> None:
    earlier = file(db, cfg, "a", *TARIFF_AUGUST, DAY0)
    later = file(db, cfg, "b", *TARIFF_CUT, DAY0 + timedelta(days=40))
    assert later.created
    assert later.linked_story_id == earlier.story_id


def test_a_report_after_the_window_opens_a_new_story(db: Database, cfg: AppConfig) -> None:
    first = file(db, cfg, "a", *SIGNING, DAY0)
    late = file(db, cfg, "b", *SIGNING_OTHER_OUTLET, DAY0 + timedelta(days=30))
    assert late.created and late.story_id != first.story_id


def test_grouping_survives_a_restart_through_the_stored_signature(
    db: Database, cfg: AppConfig
) -> None:
    # file() builds a fresh grouper for every report: nothing is carried in memory.
    first = file(db, cfg, "a", *SIGNING, DAY0)
    db.transaction(lambda s: s.expire_all())
    second = file(db, cfg, "b", *SIGNING_OTHER_OUTLET, DAY0 + timedelta(hours=1))
    assert second.story_id == first.story_id

    def stored(session: Session) -> tuple[StoryRow, int]:
        row = session.get(StoryRow, first.story_id)
        assert row is not None
        material = storyfacts.story(session, first.story_id)
        assert material is not None
        return row, len(material.reports)

    row, count = db.transaction(stored)
    assert count == 2
    assert row.signature["count"] == 2
    assert "kuala" in row.signature["tokens"]


def test_story_keys_are_short_unique_and_typable(db: Database, cfg: AppConfig) -> None:
    keys = [
        file(db, cfg, "a", *ENGINES, DAY0).story_key,
        file(db, cfg, "b", *DRONES, DAY0 + timedelta(hours=1)).story_key,
        file(db, cfg, "c", *TARIFF_AUGUST, DAY0 + timedelta(hours=2)).story_key,
    ]
    assert len(set(keys)) == 3
    assert all(re.fullmatch(r"s-[0-9a-z]{2,8}", k) for k in keys)


def test_assign_many_matches_one_at_a_time(db: Database, cfg: AppConfig) -> None:
    matcher, grouper = Matcher.from_config(cfg), StoryGrouper(cfg)
    texts = [SIGNING, SIGNING_OTHER_OUTLET, ENGINES, DRONES]

    def run(session: Session) -> list[Assignment]:
        items = [report(session, f"k{n}", t, s, DAY0 + timedelta(hours=n))
                 for n, (t, s) in enumerate(texts)]  # fmt: skip
        return grouper.assign_many(session, [(i, matcher.match(i)) for i in items])

    out = db.transaction(run)
    assert [a.created for a in out] == [True, False, True, True]
    assert out[0].story_id == out[1].story_id
    assert len({a.story_id for a in out}) == 3


def test_a_report_grouped_before_keeps_its_story(db: Database, cfg: AppConfig) -> None:
    matcher, grouper = Matcher.from_config(cfg), StoryGrouper(cfg)

    def run(session: Session) -> tuple[Assignment, Assignment]:
        item = report(session, "a", *SIGNING, DAY0)
        match = matcher.match(item)
        return grouper.assign(session, item, match), grouper.assign(session, item, match)

    first, again = db.transaction(run)
    assert first.created and not again.created
    assert again.story_id == first.story_id and again.story_key == first.story_key


def test_same_day_announcements_sharing_one_name_stay_apart(db: Database, cfg: AppConfig) -> None:
    engines = file(db, cfg, "a", *ENGINES, DAY0)
    hub = file(db, cfg, "b", "HAL to set up repair hub for Boeing P-8 patrol aircraft",
               "Boeing and HAL will service the US Navy's maritime patrol planes in Nashik "
               "under a new co-production agreement.", DAY0 + timedelta(hours=2))  # fmt: skip
    assert hub.created and hub.story_id != engines.story_id


def test_two_signings_of_other_bilateral_formats_on_one_visit_stay_apart(
    db: Database, cfg: AppConfig
) -> None:
    framework = file(db, cfg, "a", *SIGNING, DAY0)
    supply = file(db, cfg, "b", "India joins US Security of Supply Arrangement as Singh visits",
                  "Rajnath Singh and Pete Hegseth signed the SOSA, under which each side "
                  "prioritises the other's defence orders.", DAY0 + timedelta(hours=1))  # fmt: skip
    again = file(db, cfg, "c", *SIGNING_OTHER_OUTLET, DAY0 + timedelta(hours=3))
    assert supply.created and supply.story_id != framework.story_id
    assert again.story_id == framework.story_id


def test_the_act_done_is_not_grouped_with_the_reports_that_expected_it(
    db: Database, cfg: AppConfig
) -> None:
    expected = file(db, cfg, "a", "HAL's $1 billion order for GE F404 engines expected soon",
                    "Hindustan Aeronautics is set to sign the contract for 113 engines for the "
                    "Tejas Mk1A.", DAY0)  # fmt: skip
    signed = file(db, cfg, "b", *ENGINES, DAY0 + timedelta(days=2))
    more = file(db, cfg, "c", "HAL, GE sign contract for 113 F404 engines for Tejas",
                "Deliveries of the engines for 97 Tejas Mk1A jets run from 2027.",
                DAY0 + timedelta(days=2, hours=4))  # fmt: skip
    assert signed.created and signed.story_id != expected.story_id
    assert more.story_id == signed.story_id


def _item(n: int, title: str, summary: str, at: datetime) -> Item:
    return Item(id=n, key=f"k{n}", feed_id=None, title=title, summary=summary,
                url=f"https://news.example/{n}", source=f"Outlet {n}", published=at,
                first_seen=at)  # fmt: skip


def test_the_plan_is_decided_over_values_without_a_database(cfg: AppConfig) -> None:
    matcher, grouper = Matcher.from_config(cfg), StoryGrouper(cfg)
    items = [_item(1, *SIGNING, DAY0), _item(2, *SIGNING_OTHER_OUTLET, DAY0 + timedelta(hours=5)),
             _item(3, *ENGINES, DAY0 + timedelta(hours=6))]  # fmt: skip
    plan = grouper.plan([], [(i, matcher.match(i)) for i in items])
    assert [(p.item_id, p.story_ref, p.created) for p in plan.placements] == [
        (1, -1, True), (2, -1, False), (3, -2, True)
    ]  # fmt: skip
    assert [n.ref for n in plan.opened] == [-1, -2]
    assert plan.opened[0].headline == SIGNING[0]
    signing = next(u for u in plan.updates if u.ref == -1)
    assert signing.signature["count"] == 2
    assert signing.last_item_at == DAY0 + timedelta(hours=5)


def test_a_stored_story_is_joined_through_its_state(db: Database, cfg: AppConfig) -> None:
    first = file(db, cfg, "a", *SIGNING, DAY0)
    matcher, grouper = Matcher.from_config(cfg), StoryGrouper(cfg)
    later = _item(99, *SIGNING_OTHER_OUTLET, DAY0 + timedelta(hours=5))
    states = db.transaction(lambda s: stories_since(s, DAY0 - timedelta(days=1)))
    plan = grouper.plan(states, [(later, matcher.match(later))])
    assert plan.opened == ()
    assert [(p.story_ref, p.created) for p in plan.placements] == [(first.story_id, False)]
    assert [u.ref for u in plan.updates] == [first.story_id]


def test_of_equally_similar_stories_the_first_listed_is_joined(cfg: AppConfig) -> None:
    """Storage lists the stories oldest first: the oldest of identical candidates wins."""
    matcher, grouper = Matcher.from_config(cfg), StoryGrouper(cfg)
    first = _item(1, *SIGNING, DAY0)
    opened = grouper.plan([], [(first, matcher.match(first))]).updates[0]
    twins = [StoryState(story_id, f"s-0{story_id}", opened.topics, DAY0, DAY0, None,
                        opened.signature) for story_id in (7, 5, 9)]  # fmt: skip
    later = _item(2, *SIGNING_OTHER_OUTLET, DAY0 + timedelta(hours=5))
    pairs = [(later, matcher.match(later))]
    assert [p.story_ref for p in grouper.plan(twins, pairs).placements] == [7]
    assert [p.story_ref for p in grouper.plan(twins[::-1], pairs).placements] == [9]


def test_a_named_bilateral_format_joins_two_outlets_reports_in_other_words(
    cfg: AppConfig,
) -> None:
    matcher = Matcher.from_config(cfg)
    review = _item(
        1,
        "NSAs co-chair annual iCET review in New Delhi",
        "The two national security advisers reviewed the initiative's progress.",
        DAY0,
    )
    projects = _item(2, "iCET: US and India add defence technology projects",
                     "Jet engines, space and AI are on the new list, officials said.",
                     DAY0 + timedelta(hours=40))  # fmt: skip
    pairs = [(review, matcher.match(review)), (projects, matcher.match(projects))]

    def created(format_weight: float) -> list[bool]:
        grouping = cfg.matching.grouping.model_copy(update={"format_weight": format_weight})
        matching = cfg.matching.model_copy(update={"grouping": grouping})
        grouper = StoryGrouper(cfg.model_copy(update={"matching": matching}))
        return [p.created for p in grouper.plan([], pairs).placements]

    assert created(cfg.matching.grouping.format_weight) == [True, False]
    assert created(0.0) == [True, True]  # the words alone share too little
