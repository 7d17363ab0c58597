"""Log lines carry the date; `--log-format json` gives one JSON object per line; a bad level
is one clear line, not a traceback."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.storage.db import describe_database
from tests.feedserver import FeedServer
from tests.test_cli import _config_with_feeds, _env


async def _poll_once(tmp_path: Path, feed_server: FeedServer, *args: str) -> list[str]:
    feed_server.add_feed("ok.xml", [{"title": "Fixture", "url": "https://example.org/a"}])
    config = _config_with_feeds(tmp_path, {"Good feed": feed_server.url("ok.xml")})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, "poll", "--once",
        env=_env(tmp_path, config), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    return err.decode().splitlines()


async def test_every_text_line_starts_with_the_date(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    lines = await _poll_once(tmp_path, feed_server)

    assert lines
    assert all(re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{4} ", line) for line in lines)


async def test_json_logs_are_one_object_per_line(tmp_path: Path, feed_server: FeedServer) -> None:
    lines = await _poll_once(tmp_path, feed_server, "--log-format", "json")

    records = [json.loads(line) for line in lines]
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert any("polled 1 feeds" in r["message"] for r in records)
    assert all(re.match(r"\d{4}-\d{2}-\d{2}T", r["time"]) for r in records)


def test_an_unknown_log_level_is_refused_in_one_line() -> None:
    result = CliRunner().invoke(main, ["--log-level", "bogus", "config", "check"])

    assert result.exit_code == 2
    assert "'bogus' is not one of" in result.output and "Traceback" not in result.output


def test_an_unknown_log_level_in_the_environment_names_the_variable() -> None:
    result = CliRunner().invoke(main, ["config", "check"], env={"NEWSBOT_LOG_LEVEL": "loud"})

    assert result.exit_code == 1
    assert "NEWSBOT_LOG_LEVEL='loud' is not a log level" in result.output


def test_the_database_is_named_by_absolute_path_and_never_with_its_password(
    tmp_path: Path, monkeypatch: object
) -> None:
    relative = describe_database("sqlite:///data/newsbot.db")
    server = describe_database("postgresql://bot:s3cret@127.0.0.1:5432/news")

    assert relative == f"SQLite {Path('data/newsbot.db').resolve()}"
    assert "s3cret" not in server and "127.0.0.1:5432/news" in server
