"""5-fold cross-validation grouped by story: ``python -m bench.crossval [ITEMS.jsonl]``.

The same run as ``newsbot eval ITEMS.jsonl --folds 5`` (bot/crossval.py), kept under bench/
beside the other measurements.

``--grouping-only`` is a quick loop for work on the grouper (seconds, not minutes): each stream
(the whole set, the stress draws) is matched once with the config as is, then only grouped and
scored, with no grid. Its figures are the whole-set story F1 and the stress test, not the
cross-validated ones: report those from the full command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import AppConfig, load_config
from bot.core.matching import Matcher
from bot.core.models import Match
from bot.core.stories import StoryGrouper
from bot.crossval import DEFAULT_CONFIG, DEFAULT_ITEMS, dense_stream, main
from bot.evaluation import EvalItem, Prediction, _prediction, _store, read_items, score
from bot.storage.db import Database


def _in_order(items: list[EvalItem]) -> list[EvalItem]:
    return sorted(items, key=lambda i: (i.published, i.line))


def match_once(items: list[EvalItem], matcher: Matcher) -> dict[str, Match]:
    """The matcher's verdict on each item of one stream (dates matter: offices by date)."""
    out: dict[str, Match] = {}

    def run(session: Session) -> None:
        links: set[str] = set()
        for ev in _in_order(items):
            out[ev.id] = matcher.match(_store(session, ev, links))

    db = Database.scratch()
    try:
        db.transaction(run)
    finally:
        db.close()
    return out


def group_only(
    items: list[EvalItem], matches: dict[str, Match], cfg: AppConfig
) -> list[Prediction]:
    """Group a stream on fixed match results, as ``bot.evaluation.predict`` does."""
    grouper = StoryGrouper(cfg)

    def run(session: Session) -> dict[str, Prediction]:
        out: dict[str, Prediction] = {}
        links: set[str] = set()
        for ev in _in_order(items):
            item, match = _store(session, ev, links), matches[ev.id]
            assignment = grouper.assign(session, item, match) if match.relevant else None
            out[ev.id] = _prediction(ev, match, assignment)
        return out

    db = Database.scratch()
    try:
        by_id = db.transaction(run)
    finally:
        db.close()
    return [by_id[i.id] for i in items]


def grouping_only(items: list[EvalItem], cfg: AppConfig) -> None:
    matcher = Matcher.from_config(cfg)
    preds = group_only(items, match_once(items, matcher), cfg)
    whole = score(items, preds)["story"]["pairwise_f1"]
    print(f"whole set, config as is: story pairwise F1={whole:.3f}")
    for days in (60, 20):
        figures = []
        for seed in range(4):
            moved = dense_stream(items, days, seed)
            found = group_only(moved, match_once(moved, matcher), cfg)
            figures.append(score(moved, found)["story"]["pairwise_f1"])
        print(f"stress: all stories crowded into {days} days (4 draws): story pairwise F1 "
              f"mean={sum(figures) / len(figures):.3f} min={min(figures):.3f}")  # fmt: skip


def run(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--grouping-only" not in args:
        return main(args)
    parser = argparse.ArgumentParser(description="the grouper alone on fixed match results")
    parser.add_argument("items", nargs="?", type=Path, default=DEFAULT_ITEMS)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--grouping-only", action="store_true")
    parsed = parser.parse_args(args)
    with parsed.items.open(encoding="utf-8") as fh:
        read = read_items(fh, str(parsed.items))
    grouping_only(read.items, load_config(parsed.config))
    return 0


if __name__ == "__main__":
    sys.exit(run())
