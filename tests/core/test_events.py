"""Stories by event: what happened (its kind, its phase, its participants) decides beside the
words. Two announcements on one visit stay two stories; one event reported days apart is one
story; an exercise's opening and its close, and an agreement and the first work under it, are
stories linked to each other, never merged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core import events
from bot.core.matching import Matcher
from bot.core.models import Item, Match
from bot.core.stories import Assignment, StoryGrouper
from bot.storage.db import Database
from bot.storage.stories import save_match
from bot.storage.tables import ItemRow, StoryRow

DAY0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def file(
    db: Database, cfg: AppConfig, key: str, title: str, summary: str, at: datetime
) -> Assignment:
    """Store, match and group one report in its own transaction, as a poll cycle would."""
    matcher, grouper = Matcher.from_config(cfg), StoryGrouper(cfg)

    def run(session: Session) -> Assignment:
        row = ItemRow(key=key, url=f"https://news.example/{key}", title=title, summary=summary,
                      source=f"Outlet {key}", published_at=at, first_seen_at=at)  # fmt: skip
        session.add(row)
        session.flush()
        item = Item(id=row.id, key=key, feed_id=None, title=title, summary=summary,
                    url=row.url, source=row.source, published=at, first_seen=at)  # fmt: skip
        match = matcher.match(item)
        assert match.relevant, match.why
        save_match(session, match)
        return grouper.assign(session, item, match)

    return db.transaction(run)


def event_of(
    title: str,
    summary: str = "",
    actors: dict[str, list[str]] | None = None,
    **evidence: object,
) -> events.Event:
    item = Item(id=1, key="k", feed_id=None, title=title, summary=summary, url=None,
                source="Outlet", published=DAY0, first_seen=DAY0)  # fmt: skip
    match = Match(item_id=1, relevant=True, score=1.0, topics=(), why="",
                  evidence={"actors": actors or {}, **evidence})  # fmt: skip
    return events.extract(item, match, frozenset({"india", "us"}))


# --------------------------------------------------------------------- the extractor


def test_the_headline_names_the_act() -> None:
    assert event_of("India and US sign logistics pact in Washington").acts == {"signing"}
    assert event_of("Trump swears in new ambassador to India").acts == {"appointment"}
    assert event_of("Navy receives first batch of MH-60R helicopters").acts == {"delivery"}
    assert event_of("Modi and Trump hold phone call on trade").acts == {"call"}
    assert event_of("Modi and Trump meet at the White House").acts == {"meeting"}


def test_a_domain_yields_to_the_act_done_about_it() -> None:
    # The lawsuit is what happened; the visa fee is what it is about.
    sued = event_of("Business groups file lawsuit against H-1B visa fee")
    assert sued.acts == {"lawsuit"}
    assert "visa" in sued.mentioned
    # With no other act, the measure itself is the act.
    assert event_of("US raises tariff on Indian steel to 50%").acts == {"tariff"}


def test_a_background_clause_names_no_act_when_the_main_clause_does() -> None:
    pact = event_of("India and US ink defence pact as tariff row cools")
    assert pact.acts == {"signing"}
    # ... but speaks when the main clause names none.
    assert event_of("Relief for exporters as 25% levy is rolled back").acts == {"tariff"}


def test_words_with_another_sense_signal_nothing() -> None:
    assert event_of("Talks seen as a sign of thaw").acts == {"meeting"}
    assert event_of("Senator calls for a review of arms exports").acts == set()


def test_phases_count_only_for_things_that_have_phases() -> None:
    opening = event_of("Joint drill opens in Rajasthan", "The army exercise runs two weeks.")
    closing = event_of("Two-week army exercise ends with live firing")
    assert (opening.phase, closing.phase) == ("exercise-open", "exercise-close")
    # "ends" without an exercise is no phase of anything.
    assert event_of("Phone call ends in tariff relief, Trump says").phase is None


def test_a_report_about_an_event_never_conflicts_but_only_joins_it_soon() -> None:
    explainer = event_of("Explainer: what the new contract means for the air force")
    assert explainer.late_days is not None and explainer.late_days <= 3
    assert not events.conflict(explainer, {"appointment"}, set())
    assert event_of("HAL signs contract for 113 engines").late_days is None


def test_conflict_is_another_act_or_another_phase() -> None:
    signing = event_of("India and US sign security of supply arrangement")
    assert events.conflict(signing, {"appointment"}, set())
    assert not events.conflict(signing, {"signing", "visit"}, set())
    assert not events.conflict(signing, set(), set())  # a story that named no act yet
    closing = event_of("Joint exercise concludes at Fort Wainwright")
    assert events.conflict(closing, set(), {"exercise-open"})
    assert not events.conflict(closing, set(), {"exercise-close"})


def test_an_exercise_phase_and_an_act_are_two_events_either_way() -> None:
    opening = event_of("Joint exercise opens at Fort Wainwright")
    assert opening.phase is not None
    assert events.conflict(opening, {"tariff"}, set())  # a tariff step's story
    tariff = event_of("Trump doubles tariff on Indian goods to 50%")
    assert tariff.acts and tariff.phase is None
    assert events.conflict(tariff, set(), {opening.phase})  # an exercise's story


def test_participants_and_places() -> None:
    ev = event_of(
        "Rajnath Singh meets Hegseth in Kuala Lumpur",
        "The two met at the Pentagon's request in March.",
        {"us": ["Hegseth", "US"], "india": ["Rajnath Singh", "India"], "both": []},
    )
    # The actors by side, not the sides themselves.
    assert ev.participants == {"us:hegseth", "india:rajnath singh"}
    assert ev.places == {"kuala", "lumpur"}  # "in March" is a date, not a place
    assert events.elsewhere(ev, {"washington"})
    assert not events.elsewhere(ev, {"lumpur", "washington"})
    assert events.overlap(ev.participants, {"us:hegseth"}) == 0.5


def test_a_report_about_other_bilateral_formats_is_about_another_object() -> None:
    sosa = event_of("India joins Security of Supply Arrangement", format_topics=["logistics-intel"])
    assert sosa.objects == {"logistics-intel"}
    assert events.other_object(sosa, {"framework-agreement"})
    assert not events.other_object(sosa, {"framework-agreement", "logistics-intel"})
    assert not events.other_object(sosa, set())  # a story that named no format
    assert not events.other_object(event_of("Singh and Hegseth sign pact"), {"diplomacy"})


def test_a_visit_by_another_named_official_is_by_other_people() -> None:
    gabbard = event_of(
        "Gabbard meets Doval in Delhi", persons={"us": ["gabbard"], "india": ["doval"]}
    )
    assert gabbard.persons == {"us:gabbard", "india:doval"}
    assert events.other_people(gabbard, {"us:sullivan", "india:doval"})
    assert not events.other_people(gabbard, {"us:gabbard", "us:sullivan"})
    assert not events.other_people(gabbard, {"india:doval"})  # no US name to differ from
    comment = event_of("Explainer: what Gabbard's visit means", persons={"us": ["gabbard"]})
    assert not events.other_people(comment, {"us:sullivan"})  # a comment quotes anyone


def test_a_headline_that_looks_ahead_does_not_report_the_act() -> None:
    assert event_of("$1 billion engine order for Tejas expected despite tariff row").prospect
    assert event_of("India and US set to sign logistics pact next week").prospect
    assert event_of("Minister sets March target for first tranche of trade pact").prospect
    assert not event_of("Sanctions target Indian refiners").prospect  # "target" as a verb
    assert not event_of("HAL signs contract for 113 engines").prospect
    # The hedges of any report are not a look ahead.
    assert not event_of("New visa rule could hit Indian workers hardest").prospect
    signed = event_of("HAL signs contract for 113 engines")
    assert events.conflict(signed, {"contract", "signing"}, set(), looking_ahead=True)
    assert not events.conflict(signed, {"contract", "signing"}, set())
    # ... and a comment on the act done is not about the look ahead either.
    comment = event_of("Engine order read as a sign of thaw")
    assert events.conflict(comment, {"contract", "signing"}, set(), looking_ahead=True)
    # A look ahead is not part of the story of the act done (a late preview, a stale wire).
    expected = event_of("$1 billion engine order for Tejas expected")
    assert events.conflict(expected, {"contract", "signing"}, set())
    assert not events.conflict(expected, {"contract", "signing"}, set(), looking_ahead=True)


def test_a_visit_is_named_by_its_visitor() -> None:
    assert event_of("Sullivan's Delhi visit centres on technology").visitors == {"sullivan"}
    assert event_of("Factsheet", "Issued after Sullivan's visit, it lists").visitors == {"sullivan"}
    assert event_of("Pacts inked as Rajnath Singh's US visit begins").visitors == {"singh"}
    assert event_of("Talks during a visit by Marco Rubio").visitors == {"rubio"}
    assert event_of("Gabbard meets Doval on her first Delhi trip").visitors == set()
    assert events.same_visit(event_of("After Sullivan's trip, a list"), {"sullivan"})
    assert not events.same_visit(event_of("After Gabbard's trip, a list"), {"sullivan"})


def test_the_kinds_are_data_with_every_block_well_formed() -> None:
    table = events.kind_table()
    assert {"meeting", "signing", "contract", "delivery", "tariff", "sanction", "visa",
            "exercise-open", "exercise-close", "statement"} <= set().union(
        *table.kinds_of.values())  # fmt: skip
    assert table.phases == {"exercise-open", "exercise-close"}
    assert {"statement", "visit", "analysis"} <= table.weak


# --------------------------------------------------------------------- the grouper

SIGNING = (
    "India and US sign security of supply arrangement as Rajnath Singh visits Washington",
    "Rajnath Singh and Lloyd Austin signed the Security of Supply Arrangement at the Pentagon "
    "on the first day of the Indian defence minister's visit.",
)
APPOINTMENT = (
    "India to appoint liaison officer at US Indo-Pacific Command during Rajnath Singh visit",
    "India will post a defence liaison officer at INDOPACOM in Hawaii, Rajnath Singh and "
    "Lloyd Austin announced at the Pentagon on the first day of the visit.",
)


def test_two_announcements_on_one_visit_are_two_stories(db: Database, cfg: AppConfig) -> None:
    signing = file(db, cfg, "a", *SIGNING, DAY0)
    officer = file(db, cfg, "b", *APPOINTMENT, DAY0 + timedelta(hours=2))
    assert officer.created and officer.story_id != signing.story_id
    # Same visit, same people: the second is linked to the first.
    assert officer.linked_story_id == signing.story_id


def test_one_event_reported_three_days_apart_by_two_outlets_is_one_story(
    db: Database, cfg: AppConfig
) -> None:
    first = file(db, cfg, "a", "HAL signs contract with GE for 113 F404 engines",
                 "Hindustan Aeronautics signed the contract with General Electric for 113 "
                 "F404 engines for the Tejas Mk1A, with deliveries from 2027.", DAY0)  # fmt: skip
    later = file(db, cfg, "b", "GE contract for 113 F404 engines to power 97 Tejas jets",
                 "The contract Hindustan Aeronautics signed with General Electric covers 113 "
                 "F404 engines for 97 Tejas Mk1A fighters.", DAY0 + timedelta(days=3))  # fmt: skip
    assert not later.created
    assert later.story_id == first.story_id


EXERCISE_SUMMARY = (
    "Soldiers of the Indian Army's Madras Regiment and the US 11th Airborne Division train at "
    "Fort Wainwright, Alaska, in the Yudh Abhyas joint exercise."
)


def test_exercise_opening_and_close_two_weeks_apart_are_two_linked_stories(
    db: Database, cfg: AppConfig
) -> None:
    opening = file(db, cfg, "a", "Yudh Abhyas joint exercise opens at Fort Wainwright",
                   EXERCISE_SUMMARY, DAY0)  # fmt: skip
    same_day = file(db, cfg, "b", "India-US army exercise Yudh Abhyas begins in Alaska",
                    EXERCISE_SUMMARY, DAY0 + timedelta(hours=6))  # fmt: skip
    closing = file(db, cfg, "c", "Yudh Abhyas joint exercise concludes at Fort Wainwright",
                   EXERCISE_SUMMARY, DAY0 + timedelta(days=14))  # fmt: skip
    assert same_day.story_id == opening.story_id  # two outlets, one opening
    assert closing.created and closing.story_id != opening.story_id
    assert closing.linked_story_id == opening.story_id


def test_an_agreement_and_the_first_work_under_it_are_linked_not_merged(
    db: Database, cfg: AppConfig
) -> None:
    accord = file(db, cfg, "a", "US Navy signs ship repair agreement with Cochin Shipyard",
                  "The Master Ship Repair Agreement lets US Navy vessels be repaired at Cochin "
                  "Shipyard in Kochi, India.", DAY0)  # fmt: skip
    first_work = file(db, cfg, "b", "First US Navy ship arrives at Cochin Shipyard for repairs",
                      "A US Navy supply ship is the first to be repaired at Cochin Shipyard in "
                      "Kochi, India, under the Master Ship Repair Agreement.",
                      DAY0 + timedelta(days=14))  # fmt: skip
    assert first_work.created and first_work.story_id != accord.story_id
    assert first_work.linked_story_id == accord.story_id


def test_the_event_is_kept_in_the_story_signature(db: Database, cfg: AppConfig) -> None:
    # A fresh grouper per report (file()) reads the event back from the row after a restart.
    first = file(db, cfg, "a", *SIGNING, DAY0)

    def stored(session: Session) -> dict[str, object]:
        row = session.get(StoryRow, first.story_id)
        assert row is not None
        return dict(row.signature)

    sig = db.transaction(stored)
    assert "signing" in list(sig["acts"])  # type: ignore[call-overload]
    assert "india:rajnath singh" in list(sig["people"])  # type: ignore[call-overload]
    assert sig["version"] == 2


def test_two_signings_the_same_day_in_two_cities_are_two_stories(
    db: Database, cfg: AppConfig
) -> None:
    here = file(db, cfg, "a", "India and US sign defence industry roadmap in Washington",
                "Rajnath Singh and Pete Hegseth signed the roadmap at the Pentagon in "
                "Washington.", DAY0)  # fmt: skip
    there = file(db, cfg, "b", "India and US sign space cooperation pact in Bengaluru",
                 "ISRO and NASA officials signed the pact in Bengaluru.",
                 DAY0 + timedelta(hours=3))  # fmt: skip
    assert there.created and there.story_id != here.story_id


def test_a_statement_about_a_visit_joins_the_visit_s_story(db: Database, cfg: AppConfig) -> None:
    # The factsheet shares few words with the talks, but names the visit by its visitor.
    visit = file(db, cfg, "a", "Sullivan's Delhi visit centres on critical technology initiative",
                 "US NSA Jake Sullivan held talks with Ajit Doval on the Initiative on Critical "
                 "and Emerging Technologies and defence ties.", DAY0)  # fmt: skip
    factsheet = file(db, cfg, "b", "White House factsheet lists sonobuoy and Stryker projects",
                     "A White House factsheet after Sullivan's visit listed co-production of US "
                     "sonobuoys by Bharat Dynamics and Stryker armoured vehicle plans.",
                     DAY0 + timedelta(days=1))  # fmt: skip
    assert not factsheet.created
    assert factsheet.story_id == visit.story_id
