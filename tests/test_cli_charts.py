"""`newsbot chart story/topics`: PNG files from a real SQLite database's stories and matches."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from bot.storage.chartdata import topic_days
from bot.storage.db import Database
from bot.storage.tables import MatchRow, StoryItemRow
from tests.adapters.storydata import add_story

pytest.importorskip("matplotlib", reason="the charts extra (pip install -e '.[charts]') is absent")
Image = pytest.importorskip("PIL.Image", reason="pillow comes with matplotlib; absent here")

REPORTS = (("The Hindu", "India, US sign framework", "https://www.thehindu.com/a"),
           ("ThePrint", "Framework signed", "https://theprint.in/b"),
           ("Reuters", "US, India sign pact", "https://www.reuters.com/c"))  # fmt: skip


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    db = Database.open(url)
    try:
        at = datetime.now(UTC) - timedelta(days=2)
        story = add_story(db, key="s7", reports=REPORTS, at=at)

        def matched(s: Any) -> None:
            for item_id in s.scalars(
                select(StoryItemRow.item_id).where(StoryItemRow.story_id == story)
            ):
                s.add(MatchRow(item_id=item_id, relevant=True, score=0.9,
                               topics=["framework-agreement"], matched_at=at))  # fmt: skip

        db.transaction(matched)
        series = db.transaction(lambda s: topic_days(s, at.date() - timedelta(days=1), at.date()))
        assert series == {
            "framework-agreement": [(at.date() - timedelta(days=1), 0), (at.date(), 3)]
        }
    finally:
        db.close()
    return {"NEWSBOT_DATABASE_URL": url, "SLACK_BOT_TOKEN": None, "DISCORD_TOKEN": None}


def _png_size(path: Path) -> tuple[int, int]:
    with Image.open(io.BytesIO(path.read_bytes())) as img:
        assert img.format == "PNG"
        return img.size


def test_a_story_timeline_is_written_and_its_path_printed(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    out = tmp_path / "s7.png"
    result = CliRunner().invoke(main, ["chart", "story", "s7", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    assert _png_size(out) == (640, 320)


def test_topic_volume_is_written(env: dict[str, str | None], tmp_path: Path) -> None:
    out = tmp_path / "topics.png"
    result = CliRunner().invoke(main, ["chart", "topics", "--days", "7", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert _png_size(out) == (640, 320)


def test_an_unknown_story_is_named(env: dict[str, str | None]) -> None:
    result = CliRunner().invoke(main, ["chart", "story", "s999"], env=env)
    assert result.exit_code == 1 and "no story `s999`" in result.output
