"""`newsbot console`: `/news …` lines from standard input as a given user in a given channel,
replies on standard output; through click's runner and through a real subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from bot.adapters.console import console_channel
from bot.cli import main
from bot.core.models import UserRef
from bot.repl import parse_line
from bot.settings import DEFAULT_CONFIG
from bot.storage.db import Database
from bot.storage.tables import DeliveryRow, SubscriptionRow
from tests.feedserver import FeedServer

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"NEWSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}",
            "NEWSBOT_CONFIG": str(DEFAULT_CONFIG),
            "SLACK_BOT_TOKEN": "", "DISCORD_TOKEN": ""}  # fmt: skip


def console(env: dict[str, str], lines: str, *args: str) -> tuple[int, str]:
    # No chat token (None unsets it): the console adapter only.
    runner_env: dict[str, str | None] = {k: v or None for k, v in env.items()}
    result = CliRunner().invoke(main, ["console", *args], input=lines, env=runner_env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_commands_run_as_the_given_user_and_channel(env: dict[str, str]) -> None:
    code, out = console(env, "/news subscribe diplomacy\n/news subscriptions\n",
                        "--user", "asha", "--channel", "newsroom")  # fmt: skip
    assert code == 0
    assert "> asha@newsroom: /news subscribe diplomacy" in out
    assert "This channel now follows: diplomacy." in out
    assert "mode: realtime" in out


def test_the_as_prefix_switches_user_and_channel(env: dict[str, str]) -> None:
    lines = ("# a comment, then a blank line\n\n"
             "--as bob@ops /news subscribe military-exercises\n"
             "--as bob@ops /news subscriptions\n"
             "/news subscriptions\n")  # fmt: skip
    code, out = console(env, lines)
    assert code == 0
    assert "> bob@ops: /news subscriptions\nThis channel follows: military-exercises." in out
    # The default console channel follows every topic (it was subscribed at start).
    assert "> console-user@console: /news subscriptions\nThis channel follows: framework" in out


def test_admin_commands_need_admin(env: dict[str, str]) -> None:
    lines = ("/news admin schedule poll 10m\n"
             "--as root@ops --admin /news admin schedule poll 10m\n"
             "--as root@ops --admin /news admin audit\n")  # fmt: skip
    code, out = console(env, lines)
    assert code == 1  # one line failed: the non-admin's
    assert "admins only" in out
    assert "Feeds are now polled every 10m." in out
    assert "schedule.poll by root (console)" in out


def test_a_wrong_argument_shows_usage_and_fails(env: dict[str, str]) -> None:
    code, out = console(env, "/news digest daily 08:00 Asia/Kolkatta\n--as\n")
    assert code == 1
    assert "did you mean `Asia/Kolkata`?" in out
    assert "Usage: `/news digest daily <HH:MM> <time zone>`" in out
    assert "! --as needs user@channel" in out


def test_parse_line() -> None:
    me = UserRef("console", "local", "me", "me")
    parsed = parse_line("--as asha@desk --admin /news admin audit 3", me, console_channel())
    assert parsed is not None
    assert (parsed.user.user, parsed.user.is_admin, parsed.channel.channel, parsed.text) == (
        "asha", True, "desk", "admin audit 3")  # fmt: skip
    assert parse_line("   ", me, console_channel()) is None
    with pytest.raises(ValueError, match="unknown flag --sudo"):
        parse_line("--sudo /news help", me, console_channel())


def test_newsbot_console_in_a_subprocess(env: dict[str, str]) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN")}
    clean.update({k: v for k, v in env.items() if v})
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console", "--user", "asha"],
        input="/news topics\n/news subscribe framwork\n",
        capture_output=True, text=True, env=clean, cwd=REPO, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "9 topics." in proc.stdout
    assert "unknown topic `framwork`; did you mean `framework-agreement`?" in proc.stdout


def test_typed_escapes_and_bidi_are_not_echoed_to_the_terminal(env: dict[str, str]) -> None:
    lines = ("/news topic \x1b]0;pwned\x07diplo\u202emacy\x1b[2J\n"
             "--bogus\x1b[31m /news help\n")  # fmt: skip
    code, out = console(env, lines)
    assert code == 1  # failed lines make a failed run
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "> console-user@console: /news topic diplomacy" in out
    assert "! unknown flag --bogus; use --as user@channel or --admin" in out


def test_a_terminal_session_says_it_is_ready_and_prompts(env: dict[str, str]) -> None:
    code, out = console(env, "/news topics\n", "--prompt")
    assert code == 0
    ready = out.index("newsbot console ready: type /news help")
    assert ready < out.index("news> ")
    # A prompt before the first line, another after its answer, then a clean end of line.
    assert out.count("news> ") == 2
    assert "news> 9 topics." in out
    assert out.endswith("news> \n")


def _interruptible() -> None:
    # As on a terminal: a test run started in the background (`cmd &` in a script) ignores
    # SIGINT, and a child would inherit that and never see the Ctrl-C this test sends.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_leaves_quietly(env: dict[str, str]) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN")}
    clean.update({k: v for k, v in env.items() if v})
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "console", "--prompt"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=clean, cwd=REPO, preexec_fn=_interruptible,
    )  # fmt: skip
    assert proc.stdout is not None
    seen = b""
    while not seen.endswith(b"news> "):  # ready: waiting for a line
        chunk = proc.stdout.read1(100)
        assert chunk, seen
        seen += chunk
    proc.send_signal(signal.SIGINT)
    # stdin stays open until it has gone: closing it (as communicate() does) is an end of input,
    # a clean exit of its own, which could win the race with the signal.
    proc.wait(timeout=30)
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.returncode == 130
    assert b"Aborted" not in err and b"Traceback" not in err, err


async def test_an_alert_for_two_console_channels_prints_once_and_the_prompt_returns(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add_feed("defence.xml", [{
        "title": "India and US sign 10-year defence framework agreement",
        "summary": "Defence Minister Rajnath Singh and US Secretary of War Pete Hegseth signed "
                   "the framework for the US-India major defence partnership in Kuala Lumpur.",
        "url": "https://example.org/framework",
        "published": datetime.now(UTC) - timedelta(minutes=5),
    }])  # fmt: skip
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["feeds"] = [{"name": "Loopback Defence", "url": feed_server.url("defence.xml"),
                      "allow_private": True, "alert_on_first_poll": True}]  # fmt: skip
    config = tmp_path / "newsbot.yaml"
    config.write_text(yaml.safe_dump(data))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(NEWSBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", NEWSBOT_CONFIG=str(config))

    async def console(*args: str, stdin: bytes | None = None) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "console", *args, env=env, cwd=REPO,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip

    # A first session: the newsroom channel follows every topic, as the console channel does.
    topics = " ".join(t["id"] for t in data["topics"])
    setup = await console("--user", "asha", "--channel", "newsroom")
    out, _ = await asyncio.wait_for(setup.communicate(f"/news subscribe {topics}\n".encode()), 60)
    assert setup.returncode == 0, out.decode()

    session = await console("--poll", "--prompt")
    assert session.stdout is not None and session.stdin is not None
    seen = ""
    try:
        async with asyncio.timeout(60):
            while "[ALERT]" not in seen or not seen.endswith("news> "):
                chunk = await session.stdout.read(4096)
                assert chunk, seen
                seen += chunk.decode()
        with contextlib.suppress(TimeoutError):  # time for a second copy, were one coming
            seen += (await asyncio.wait_for(session.stdout.read(4096), 2)).decode()
    finally:
        session.stdin.close()
        rest, _ = await asyncio.wait_for(session.communicate(), 30)
    seen += rest.decode()
    assert seen.count("[ALERT]") == 1, seen
    alert = next(line for line in seen.splitlines() if "[ALERT]" in line)
    assert alert.startswith(("[ALERT] #console: India and US", "[ALERT] #newsroom: India and US"))
    # The alert starts on its own line and the prompt is shown again after it.
    assert "news> \n[ALERT]" in seen
    after = seen.split("[ALERT]", 1)[1]
    assert "\nnews> " in after
    # Both channels were posted to: the second copy was folded, not missing.
    db = Database.open(env["NEWSBOT_DATABASE_URL"])
    try:
        posted = db.transaction(lambda s: sorted(s.scalars(
            select(SubscriptionRow.channel).join(DeliveryRow,
                DeliveryRow.subscription_id == SubscriptionRow.id)
            .where(DeliveryRow.status == "sent"))))  # fmt: skip
    finally:
        db.close()
    assert posted == ["console", "newsroom"]
