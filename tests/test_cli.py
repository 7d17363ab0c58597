"""The `newsbot` command line as a person runs it: check, poll once, demo, run and Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import click
import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.cli_context import until_stopped
from bot.settings import DEFAULT_CONFIG
from tests.feedserver import FeedServer


def _config_with_feeds(tmp_path: Path, urls: dict[str, str], **poll: object) -> Path:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    # Loopback fixture sites: each feed is allowed onto a private address.
    data["feeds"] = [
        {"name": name, "url": url, "allow_private": True} for name, url in urls.items()
    ]
    data["poll"].update(poll)
    path = tmp_path / "newsbot.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path: Path, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env["NEWSBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.db'}"
    env["NEWSBOT_CONFIG"] = str(config)
    return env


def test_config_check_accepts_the_shipped_file() -> None:
    result = CliRunner().invoke(main, ["--config", str(DEFAULT_CONFIG), "config", "check"])
    assert result.exit_code == 0, result.output
    assert "OK (12 feeds, 9 topics" in result.output


def test_config_check_names_the_line_of_a_broken_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("poll:\n  interval: 15m\n  concurrency: lots\ntopics: []\n")
    result = CliRunner().invoke(main, ["--config", str(bad), "config", "check"])
    assert result.exit_code == 1
    assert f"{bad}:3: poll.concurrency" in result.output
    assert "Traceback" not in result.output


def test_config_check_says_the_global_private_switch_is_now_per_feed(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["poll"]["allow_private_addresses"] = True
    old = tmp_path / "old.yaml"
    old.write_text(yaml.safe_dump(data, sort_keys=False))
    lines = old.read_text().splitlines()
    at = next(n for n, text in enumerate(lines, 1) if "allow_private_addresses" in text)
    result = CliRunner().invoke(main, ["--config", str(old), "config", "check"])
    assert result.exit_code == 1
    [line] = [x for x in result.output.splitlines() if x.strip()]
    assert f"{old}:{at}: poll.allow_private_addresses: this setting was removed" in line
    assert "put allow_private: true on each feed that is on your own network" in line


def test_config_check_names_thresholds_story_as_the_retired_joins_replacement(
    tmp_path: Path,
) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["matching"]["grouping"]["join"] = 0.35
    old = tmp_path / "old.yaml"
    old.write_text(yaml.safe_dump(data, sort_keys=False))
    lines = old.read_text().splitlines()
    at = next(n for n, text in enumerate(lines, 1) if text.strip().startswith("join:"))
    result = CliRunner().invoke(main, ["--config", str(old), "config", "check"])
    assert result.exit_code == 1
    [line] = [x for x in result.output.splitlines() if x.strip()]
    assert f"{old}:{at}: matching.grouping.join: this setting was retired" in line
    assert "the story join threshold is thresholds.story" in line
    assert "move its value to thresholds.story and delete this line" in line


def test_demo_prints_alerts_for_relevant_items_only() -> None:
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    cycle1, cycle2 = result.output.split("── cycle 2")
    assert "[ALERT]" not in cycle1 and "stored as backlog" in cycle1
    assert cycle2.count("[ALERT]") >= 10
    # Hard negatives of the labelled set (India–Japan summit, Sensex, Balikatan) stay silent.
    for unrelated in ("Sensex", "Balikatan", "Tokyo"):
        assert unrelated not in cycle2


async def test_run_reports_an_unreachable_feed_and_stops_cleanly_on_ctrl_c(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add_feed("ok.xml", [{"title": "Fixture", "url": "https://example.org/a"}])
    dead = f"http://127.0.0.1:{_closed_port()}/rss"
    config = _config_with_feeds(
        tmp_path, {"Good feed": feed_server.url("ok.xml"), "Dead feed": dead}, interval="1h"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=_env(tmp_path, config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not any("cycle:" in line for line in lines):
                line = (await proc.stdout.readline()).decode()
                assert line, "newsbot run exited early:\n" + "".join(lines)
                lines.append(line)
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    output = "".join(lines) + rest.decode()
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    dead_lines = [line for line in output.splitlines() if "Dead feed" in line]
    assert len(dead_lines) == 1, output
    assert "retry" in dead_lines[0].lower()
    assert "newsbot stopped." in output


async def test_poll_once_runs_one_cycle_and_exits(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.add_feed("ok.xml", [{"title": "Fixture", "url": "https://example.org/a"}])
    config = _config_with_feeds(tmp_path, {"Good feed": feed_server.url("ok.xml")})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "poll",
        "--once",
        env=_env(tmp_path, config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, out.decode()
    assert "polled 1 feeds (0 failed): 1 new items" in out.decode()


def test_config_check_refuses_out_of_range_thresholds_and_lists_every_problem(
    tmp_path: Path,
) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["thresholds"]["relevance"] = 5  # the chat command refuses it too
    data["poll"]["concurrency"] = "lots"
    data["topics"][1]["threshold"] = -0.5
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, sort_keys=False))
    result = CliRunner().invoke(main, ["--config", str(bad), "config", "check"])
    assert result.exit_code == 1
    assert "3 problems:" in result.output
    assert "thresholds.relevance: must be between 0 and 1, not 5" in result.output
    assert "topics.1.threshold: must be between 0 and 1, not -0.5" in result.output
    assert "poll.concurrency" in result.output
    assert "Traceback" not in result.output


def test_poll_without_once_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["poll"])
    assert result.exit_code == 2
    assert "add --once" in result.output and "`newsbot run`" in result.output


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            found += _commands(cmd, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_every_help_names_the_environment_variables() -> None:
    for path in _commands(main):
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0, path
        for name in ("NEWSBOT_CONFIG", "NEWSBOT_DATABASE_URL", "SLACK_BOT_TOKEN", "DISCORD_TOKEN"):
            assert name in result.output, (path, name)


def test_config_check_validates_the_matching_section_too(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data.setdefault("matching", {})["wieghts"] = {"title": 2}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, sort_keys=False))
    result = CliRunner().invoke(main, ["--config", str(bad), "config", "check"])
    assert result.exit_code == 1
    # Checked with the rest of the file, so the message gives the line too.
    assert re.search(
        rf"{re.escape(str(bad))}:\d+: matching\.wieghts: unknown setting", result.output
    )
    assert "Traceback" not in result.output


async def test_a_stop_during_a_start_that_hangs_stops_the_start() -> None:
    # A platform that never answers must not keep a stopped bot from stopping.
    stop = asyncio.Event()
    cancelled = asyncio.Event()

    async def start_forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    asyncio.get_running_loop().call_later(0.05, stop.set)
    assert await asyncio.wait_for(until_stopped(start_forever(), stop), 5) is False
    assert cancelled.is_set()


async def test_a_start_that_finishes_first_lets_the_bot_run() -> None:
    async def start() -> None:
        return None

    assert await until_stopped(start(), asyncio.Event()) is True
