"""``newsbot eval``: the live matcher and grouper over labelled items, scored by the reference
scorer's own code (``bot/reference_scorer.py``, shared/eval/score.py kept verbatim)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import AppConfig
from bot.evaluation import read_items, run_eval
from bot.settings import DEFAULT_CONFIG

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "testdata" / "eval" / "dev.jsonl"
SCORER = ROOT / "bot" / "reference_scorer.py"
SHARED_SCORER = ROOT.parent / "shared" / "eval" / "score.py"


def reference(gold: Path, pred: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, str(SCORER), str(gold), str(pred), "--json-only"],
                          capture_output=True, text=True, check=True, timeout=60)  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_eval_figures_equal_the_reference_scorer(tmp_path: Path, cfg: AppConfig) -> None:
    preds = tmp_path / "pred.jsonl"
    out = io.StringIO()
    assert run_eval(DEV, preds, True, cfg, out=out, err=io.StringIO()) == 0
    ours = json.loads(out.getvalue())
    ref = reference(DEV, preds)
    for section in ("relevance", "story", "story_all"):
        assert ours[section] == ref[section], section
    for key in ("micro_f1", "macro_f1", "micro_precision", "micro_recall", "per_topic"):
        assert ours["topics"][key] == ref["topics"][key], key
    lines = [json.loads(line) for line in preds.read_text().splitlines()]
    assert len(lines) == 125
    assert set(lines[0]) == {"id", "relevant", "topics", "story", "score", "why"}


@pytest.mark.skipif(
    not SHARED_SCORER.is_file(),
    reason=f"the shared reference scorer is not beside this checkout ({SHARED_SCORER})",
)
def test_the_kept_scorer_is_the_shared_reference_byte_for_byte() -> None:
    assert SCORER.read_bytes() == SHARED_SCORER.read_bytes()


def test_eval_meets_the_quality_targets_on_dev(cfg: AppConfig) -> None:
    out = io.StringIO()
    run_eval(DEV, None, True, cfg, out=out, err=io.StringIO())
    res = json.loads(out.getvalue())
    assert res["relevance"]["f1"] >= 0.93
    assert res["topics"]["micro_f1"] >= 0.85
    assert res["story"]["pairwise_f1"] >= 0.93


def test_malformed_lines_are_reported_by_number_and_skipped(tmp_path: Path, cfg: AppConfig) -> None:
    good = DEV.read_text(encoding="utf-8").splitlines()[:6]
    bad = tmp_path / "items.jsonl"
    bad.write_text("\n".join([good[0], "{not json", good[1], '{"id": "x", "title": ""}',
                              good[2], '{"id": "y", "title": "T", "published": "last week"}',
                              *good[3:]]) + "\n", encoding="utf-8")  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    assert run_eval(bad, None, False, cfg, out=out, err=err) == 0
    messages = err.getvalue().splitlines()
    assert any(f"{bad}:2: not valid JSON" in m for m in messages)
    assert any(f"{bad}:4: 'title' must be a non-empty string" in m for m in messages)
    assert any(f"{bad}:6: 'published' 'last week' is not an ISO date" in m for m in messages)
    assert "relevance" in out.getvalue() and "3 line(s) skipped" in out.getvalue()


def test_eval_table_lists_every_figure(cfg: AppConfig) -> None:
    out = io.StringIO()
    run_eval(DEV, None, False, cfg, out=out, err=io.StringIO())
    table = out.getvalue()
    for row in ("relevance", "topics (micro)", "topics (macro)", "story pairwise", "story B-cubed"):
        assert row in table


def test_unlabelled_items_are_predicted_without_scores(tmp_path: Path, cfg: AppConfig) -> None:
    items = tmp_path / "unlabelled.jsonl"
    items.write_text(json.dumps({"id": "u1", "title": "US and India hold Malabar drills",
                                 "summary": "Navies of both trained off Guam.",
                                 "published": "2025-11-10"}) + "\n")  # fmt: skip
    preds = tmp_path / "p.jsonl"
    out = io.StringIO()
    assert run_eval(items, preds, False, cfg, out=out, err=io.StringIO()) == 0
    assert "1 items, 1 relevant" in out.getvalue()
    assert json.loads(preds.read_text())["story"].startswith("s-")


def test_one_article_listed_twice_gets_two_predictions(tmp_path: Path, cfg: AppConfig) -> None:
    line = {"title": "US and India hold Malabar drills", "summary": "Navies trained off Guam.",
            "url": "https://news.example.org/malabar", "published": "2025-11-10"}  # fmt: skip
    items = tmp_path / "twice.jsonl"
    items.write_text("".join(json.dumps(line | {"id": i}) + "\n" for i in ("a", "b")))
    preds = tmp_path / "p.jsonl"

    assert run_eval(items, preds, False, cfg, out=io.StringIO(), err=io.StringIO()) == 0

    got = [json.loads(row) for row in preds.read_text().splitlines()]
    assert [p["id"] for p in got] == ["a", "b"]
    assert got[0]["relevant"] == got[1]["relevant"] is True


def test_read_items_keeps_gold_labels() -> None:
    read = read_items(DEV.read_text(encoding="utf-8").splitlines(), "dev")
    assert not read.problems and len(read.items) == 125
    assert read.items[0].gold_story == "st-tiger-triumph-2024"


def test_cli_eval_command_runs_and_reports_a_bad_matching_section(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["--config", str(DEFAULT_CONFIG), "eval", str(DEV), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output.strip().splitlines()[-1])["gold_items"] == 125

    broken = tmp_path / "broken.yaml"
    broken.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8").replace(
        "  dominance: 1.0", "  dominance: lots", 1), encoding="utf-8")  # fmt: skip
    done = runner.invoke(main, ["--config", str(broken), "eval", str(DEV)])
    assert done.exit_code != 0
    assert "matching.dominance" in done.output and "number" in done.output


def test_unwritable_predictions_path_is_a_clear_error(tmp_path: Path, cfg: AppConfig) -> None:
    err = io.StringIO()
    code = run_eval(DEV, tmp_path / "no" / "such" / "p.jsonl", False, cfg, io.StringIO(), err)
    assert code == 2
    assert "cannot write" in err.getvalue() and "existing, writable folder" in err.getvalue()


def test_missing_items_file_is_a_clear_error(tmp_path: Path, cfg: AppConfig) -> None:
    err = io.StringIO()
    assert run_eval(tmp_path / "none.jsonl", None, False, cfg, io.StringIO(), err) == 2
    assert "cannot read" in err.getvalue()
