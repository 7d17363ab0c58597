"""``newsbot eval --title-only``: headlines alone, their articles fetched from loopback."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.config import AppConfig, load_config
from bot.evaluation import read_items
from bot.settings import DEFAULT_CONFIG
from bot.title_only_eval import run_title_only_eval, title_only_figures

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "testdata" / "eval" / "dev.jsonl"


def test_articles_bring_title_only_recall_to_at_least_nine_tenths_of_full_text() -> None:
    cfg = load_config(DEFAULT_CONFIG)
    items = read_items(DEV.read_text().splitlines(), "dev").items
    res = title_only_figures(items, cfg)
    t = res["title_only"]
    # The headline alone misses items; every one it misses had its article fetched and read.
    assert t["headline_alone_recall"] < t["recall"]
    assert t["ratio"] >= 0.9
    assert t["fetched"] == t["with_lead"] > 0
    assert res["relevance"]["fp"] == 0


def test_pages_over_the_size_cap_leave_the_headline_alone() -> None:
    base = load_config(DEFAULT_CONFIG)
    # A page larger than the cap is skipped: the run then scores the headlines alone.
    cfg: AppConfig = base.model_copy(
        update={"articles": base.articles.model_copy(update={"max_bytes": 200})}
    )
    items = read_items(DEV.read_text().splitlines(), "dev").items
    t = title_only_figures(items, cfg)["title_only"]
    assert t["with_lead"] == 0 and t["recall"] == t["headline_alone_recall"]


def test_cli_title_only_prints_the_recalls_side_by_side() -> None:
    done = CliRunner().invoke(
        main, ["--config", str(DEFAULT_CONFIG), "eval", str(DEV), "--title-only"]
    )
    assert done.exit_code == 0, done.output
    assert "title-only recall" in done.output and "full-text recall" in done.output
    out = io.StringIO()
    assert run_title_only_eval(DEV, True, load_config(DEFAULT_CONFIG), out=out) == 0
    assert json.loads(out.getvalue())["title_only"]["fetched"] > 0


def test_title_only_with_predictions_is_a_usage_error(tmp_path: Path) -> None:
    args = ["eval", str(DEV), "--title-only", "--predictions", str(tmp_path / "p.jsonl")]
    done = CliRunner().invoke(main, ["--config", str(DEFAULT_CONFIG), *args])
    assert done.exit_code == 2 and "--predictions is not available" in done.output
