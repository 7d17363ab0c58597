"""`newsbot eval --folds N` cross-validates by whole stories; `--leave-one-topic-out` holds
each topic's own actor data out. Run here on a small slice of the labelled items."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.crossval import folds
from bot.evaluation import read_items
from bot.settings import DEFAULT_CONFIG

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "testdata" / "eval" / "dev.jsonl"


def _slice(tmp_path: Path, stories: int) -> Path:
    """Whole gold stories (and the negatives beside them) from the labelled set."""
    lines = DEV.read_text(encoding="utf-8").splitlines()
    kept, seen = [], set()
    for line in lines:
        story = json.loads(line).get("story") or ""
        if story and story not in seen and len(seen) >= stories:
            continue
        seen.add(story)
        kept.append(line)
        if len(kept) >= 14:
            break
    path = tmp_path / "slice.jsonl"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


def test_folds_hold_whole_stories() -> None:
    with DEV.open(encoding="utf-8") as fh:
        items = read_items(fh, str(DEV)).items
    parts = folds(items, 5)
    where = {it.gold_story: n for n, part in enumerate(parts) for it in part if it.gold_story}
    for n, part in enumerate(parts):
        assert all(where[it.gold_story] == n for it in part if it.gold_story)
    assert sorted(it.id for part in parts for it in part) == sorted(it.id for it in items)


# About 25 s on an idle core (hundreds of grid points): more room than the suite's 120 s when
# the machine is busy.
@pytest.mark.timeout(400)
def test_eval_folds_prints_each_fold_the_pooled_figures_and_the_stress_test(
    tmp_path: Path,
) -> None:
    items = _slice(tmp_path, stories=3)
    result = CliRunner().invoke(
        main, ["--config", str(DEFAULT_CONFIG), "eval", str(items), "--folds", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "fold 1 (" in result.output and "fold 2 (" in result.output
    assert "cross-validated (pooled held-out folds): relevance" in result.output
    assert "stress: all stories crowded into 20 days" in result.output


def test_eval_takes_one_study_at_a_time(tmp_path: Path) -> None:
    items = _slice(tmp_path, stories=2)
    result = CliRunner().invoke(
        main, ["--config", str(DEFAULT_CONFIG), "eval", str(items), "--folds", "2", "--title-only"]
    )
    assert result.exit_code == 2
    assert "--title-only and --folds are separate runs; give one" in result.output
