"""5-fold cross-validation, grouped by story, of the matcher's and grouper's tuned numbers.

``newsbot eval ITEMS.jsonl --folds 5`` (or ``python -m bench.crossval [ITEMS.jsonl] [--config …]``)

Folds hold whole gold stories (one event's reports never sit on both sides). For each fold,
the thresholds are chosen on the other four folds from the grids below (matcher first, by
relevance F1 + topic micro-F1; then the grouper, by story pairwise F1), and the fold is
predicted with them against its own throw-away database. The pooled held-out predictions are
scored with the same code as ``newsbot eval``; the whole-set figures use the config as is.
A second cross-validated figure runs each fold's chosen settings over the whole stream (so the
grouper faces every open story, as live) and scores only that fold's items; a held-out report
wrongly joining a story of another fold is invisible to it (that pair spans two runs), so it
measures splits under realistic load, while the whole-set figure shows such merges.

What is *not* cross-validated: the gazetteers and term lists themselves, which were written
from the labelling rules and the topic descriptions (the test set checks those). The actor
knowledge has its own check, ``--leave-one-topic-out`` (bot/topicholdout.py): each topic's
items matched without the actor data specific to that topic.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot import topicholdout
from bot.config import AppConfig, load_config
from bot.core.matching import Matcher
from bot.evaluation import EvalItem, Prediction, predict, read_items, read_items_file, score
from bot.progress import bar
from bot.storage.db import Database

DEFAULT_ITEMS = Path(__file__).resolve().parents[1] / "tests" / "testdata" / "eval" / "dev.jsonl"
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "config" / "newsbot.yaml"

MATCHER_GRID: dict[str, list[float]] = {
    "thresholds.relevance": [0.35, 0.5, 0.65],
    "matching.dominance": [0.75, 1.0, 1.5],
    "matching.topic_threshold": [1.0, 2.0, 3.0],
}
GROUPER_GRID: dict[str, list[float]] = {
    "thresholds.story": [0.25, 0.3, 0.35, 0.4, 0.5],
    "matching.grouping.topic_weight": [0.0, 0.15, 0.3],
    "matching.grouping.date_weight": [0.0, 0.1, 0.2],
    # How much a sentence's background ("… despite the tariff row") weighs in the features.
    "matching.grouping.aside_weight": [0.3, 1.0],
    # How much each bilateral format the matcher named weighs as a feature (0: none).
    "matching.grouping.format_weight": [0.0, 1.0],
    # Held at their configured values, which every fold chose when they were in the grid: the
    # place penalty (0: places have no aliases yet), min_cosine (0.08), the penalty for a
    # report about other bilateral formats than the story (object_weight 1.0) and for one
    # whose named people on a side are all others than the story's (person_weight 0.2).
}


def with_settings(cfg: AppConfig, settings: dict[str, float]) -> AppConfig:
    """A copy of the config with dotted settings replaced."""
    data: dict[str, Any] = cfg.model_dump(mode="json")
    for dotted, value in settings.items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return AppConfig.model_validate(data)


def folds(items: list[EvalItem], k: int = 5) -> list[list[EvalItem]]:
    """Whole stories to folds, largest first onto the smallest fold: balanced and stable."""
    stories: dict[str, list[EvalItem]] = {}
    for it in items:
        stories.setdefault(it.gold_story or it.id, []).append(it)
    out: list[list[EvalItem]] = [[] for _ in range(k)]
    for _key, members in sorted(stories.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        min(out, key=len).extend(members)
    return out


def run(items: list[EvalItem], cfg: AppConfig, matcher: Matcher | None = None) -> list[Prediction]:
    db = Database.scratch()
    try:
        return predict(items, cfg, db, matcher=matcher)
    finally:
        db.close()


def objective(res: dict[str, Any], part: str) -> float:
    if part == "matcher":
        return float(res["relevance"]["f1"] + res["topics"]["micro_f1"])
    return float(res["story"]["pairwise_f1"])


def grid(space: dict[str, list[float]]) -> Iterator[dict[str, float]]:
    keys = list(space)
    for values in itertools.product(*(space[k] for k in keys)):
        yield dict(zip(keys, values, strict=True))


def current(cfg: AppConfig, dotted: str) -> float:
    node: Any = cfg.model_dump(mode="json")
    for part in dotted.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return float(node) if isinstance(node, int | float) else 0.0


def _nearest_first(values: list[float], centre: float) -> list[float]:
    return sorted(values, key=lambda x: abs(x - centre))


def tune(items: list[EvalItem], cfg: AppConfig, label: str = "tuning") -> dict[str, float]:
    """Best grid point on ``items``; ties go to the point nearest the config's own values.

    On a terminal a bar shows the grid points tried (a fold takes about a minute)."""
    chosen: dict[str, float] = {}
    for part, full in (("matcher", MATCHER_GRID), ("grouper", GROUPER_GRID)):
        space = {k: _nearest_first(v, current(cfg, k)) for k, v in full.items()}
        best: tuple[float, dict[str, float]] | None = None
        points = list(grid(space))
        # The grouper's grid leaves the matcher's settings as chosen: build that matcher once.
        fixed = Matcher.from_config(with_settings(cfg, chosen)) if part == "grouper" else None
        for point in bar(points, desc=f"{label}: {part}", unit="point"):
            trial = {**chosen, **point}
            res = score(items, run(items, with_settings(cfg, trial), fixed))
            value = objective(res, part)
            if best is None or value > best[0] + 1e-9:
                best = (value, point)
        assert best is not None
        chosen.update(best[1])
    return chosen


def headline(res: dict[str, Any]) -> str:
    r, t, s = res["relevance"], res["topics"], res["story"]
    return (
        f"relevance P={r['precision']:.3f} R={r['recall']:.3f} F1={r['f1']:.3f}  "
        f"topic micro-F1={t['micro_f1']:.3f} macro-F1={t['macro_f1']:.3f}  "
        f"story pairwise F1={s['pairwise_f1']:.3f} B-cubed F1={s['bcubed_f1']:.3f}"
    )


def dense_stream(items: list[EvalItem], days: int, seed: int) -> list[EvalItem]:
    """The gold-relevant items with every story moved to a random start within ``days``.

    A stress test of grouping precision: the stories of two years crowd into a few weeks, so
    events of one topic (two tariff steps, two H-1B measures) sit days apart.
    """
    rnd = random.Random(seed)
    first: dict[str, datetime] = {}
    for it in items:
        if it.gold_relevant and it.gold_story:
            first[it.gold_story] = min(first.get(it.gold_story, it.published), it.published)
    base = datetime(2030, 1, 1, tzinfo=UTC)
    start = {story: base + timedelta(days=rnd.randrange(days)) for story in sorted(first)}
    return [replace(it, published=start[it.gold_story] + (it.published - first[it.gold_story]))
            for it in items if it.gold_relevant and it.gold_story]  # fmt: skip


def cross_validate(items: list[EvalItem], cfg: AppConfig, k: int = 5) -> None:
    """Print the whole-set figures, each fold's, the pooled held-out ones and the stress test."""
    print(
        f"whole set ({len(items)} items, config as is): {headline(score(items, run(items, cfg)))}"
    )
    held_out: list[Prediction] = []
    in_stream: list[Prediction] = []
    parts = folds(items, k)
    for n, test in enumerate(parts, 1):
        train = [it for other in parts if other is not test for it in other]
        chosen = tune(train, cfg, f"fold {n}/{len(parts)}")
        tuned = with_settings(cfg, chosen)
        preds = run(test, tuned)
        # Story keys restart in each fold's database: keep them apart.
        held_out += [replace(p, story=f"f{n}:{p.story}" if p.story else None) for p in preds]
        # The same fold scored inside the whole stream: as many open stories as the live bot.
        ids = {it.id for it in test}
        in_stream += [replace(p, story=f"f{n}:{p.story}" if p.story else None)
                      for p in run(items, tuned) if p.id in ids]  # fmt: skip
        fold_res = score(test, preds)
        print(f"fold {n} ({len(test)} items) chose {chosen}: {headline(fold_res)}")
    print(f"cross-validated (pooled held-out folds): {headline(score(items, held_out))}")
    print(f"cross-validated (held-out folds scored in the full stream): "
          f"{headline(score(items, in_stream))}")  # fmt: skip
    for days in (60, 20):
        figures = []
        for seed in range(4):
            moved = dense_stream(items, days, seed)
            figures.append(score(moved, run(moved, cfg))["story"]["pairwise_f1"])
        print(
            f"stress: all stories crowded into {days} days (4 draws): story pairwise F1 "
            f"mean={sum(figures) / len(figures):.3f} min={min(figures):.3f}"
        )


def run_study(path: Path, cfg: AppConfig, *, folds: int | None, leave_one_topic_out: bool) -> int:
    """`newsbot eval --folds N` / `--leave-one-topic-out` on a labelled file; the exit code."""
    read = read_items_file(path, sys.stderr)
    if read is None:
        return 2
    if leave_one_topic_out:
        topicholdout.run(read.items, cfg)
    else:
        cross_validate(read.items, cfg, folds or 5)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("items", nargs="?", type=Path, default=DEFAULT_ITEMS)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--leave-one-topic-out", action="store_true",
                        help="each topic's items without that topic's actor data")  # fmt: skip
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    with args.items.open(encoding="utf-8") as fh:
        read = read_items(fh, str(args.items))
    if args.leave_one_topic_out:
        topicholdout.run(read.items, cfg)
    else:
        cross_validate(read.items, cfg, args.folds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
