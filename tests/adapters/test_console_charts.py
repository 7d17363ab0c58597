"""Charts on the console: `newsbot console` writes `/news story`'s timeline and `/news topics`'
volume as PNG files in the files folder and prints their paths; `/news admin export` writes the
YAML file."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.settings import DEFAULT_CONFIG
from bot.storage.db import Database
from tests.adapters.storydata import add_story

PNG = b"\x89PNG\r\n\x1a\n"
REPORTS = (
    ("The Hindu", "India, US sign defence framework", "https://www.thehindu.com/a"),
    ("Reuters", "US and India sign 10-year defence pact", "https://www.reuters.com/b"),
)


def console(tmp_path: Path, lines: str, *args: str) -> str:
    env = {"NEWSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}",
           "NEWSBOT_CONFIG": str(DEFAULT_CONFIG), "NEWSBOT_FILES_DIR": str(tmp_path / "files"),
           "SLACK_BOT_TOKEN": None, "DISCORD_TOKEN": None}  # fmt: skip
    result = CliRunner().invoke(main, ["console", *args], input=lines, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.output


def printed_files(out: str) -> list[Path]:
    return [Path(p) for p in re.findall(r"^  file: .* -> (.+)$", out, flags=re.MULTILINE)]


def test_story_and_topics_charts_are_written_and_their_paths_printed(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the charts extra (matplotlib) is in the dev extras")
    db = Database.open(f"sqlite:///{tmp_path / 'console.db'}")
    # Reported today, so the topics' 30-day chart (the console's clock is the real one) has it.
    add_story(db, key="s7", reports=REPORTS, at=datetime.now(UTC), relevant=True)
    db.close()
    out = console(tmp_path, "/news story s7\n/news topics\n")
    story_png, topics_png = printed_files(out)
    assert story_png == tmp_path / "files" / "story-s7.png"
    assert topics_png.parent == tmp_path / "files" and topics_png.name.startswith("topics-")
    assert story_png.read_bytes().startswith(PNG) and topics_png.read_bytes().startswith(PNG)
    assert "(No chart" not in out


def test_admin_export_is_written_as_a_yaml_file(tmp_path: Path) -> None:
    out = console(tmp_path, "--as root@ops --admin /news admin export\n")
    (exported,) = printed_files(out)
    config = yaml.safe_load(exported.read_text(encoding="utf-8"))
    assert exported.name == "newsbot-config.yaml"
    assert "framework-agreement" in [t["id"] for t in config["topics"]]
    assert "topics:" not in out  # the YAML is in the file, not on the screen
