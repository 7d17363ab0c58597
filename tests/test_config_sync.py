"""`newsbot config diff` and `config apply`: the file against the database, applied as one
audited (and revertable) change per feed, topic or setting."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select, update

from bot.cli import main
from bot.settings import DEFAULT_CONFIG
from bot.storage.db import Database
from bot.storage.tables import AuditRow, FeedRow
from tests.feedserver import FeedServer
from tests.test_cli import _config_with_feeds, _env
from tests.test_repl import console


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "newsbot.yaml"
    config.write_text(DEFAULT_CONFIG.read_text())
    return {"NEWSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "NEWSBOT_CONFIG": str(config), "SLACK_BOT_TOKEN": "", "DISCORD_TOKEN": ""}  # fmt: skip


def cli(env: dict[str, str], *args: str, answer: str | None = None) -> tuple[int, str]:
    runner_env: dict[str, str | None] = {k: v or None for k, v in env.items()}
    result = CliRunner().invoke(main, list(args), env=runner_env, input=answer)
    return result.exit_code, result.output


def edit(env: dict[str, str], change: Any) -> None:
    path = Path(env["NEWSBOT_CONFIG"])
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _edits(data: dict[str, Any]) -> None:
    data["poll"]["interval"] = "5m"
    data["feeds"].pop(0)
    data["feeds"].append(
        {"name": "Ministry of Defence releases", "url": "https://mod.example.in/rss"}
    )
    topic = next(t for t in data["topics"] if t["id"] == "framework-agreement")
    topic["terms"] = [*topic["terms"], "defence framework renewal"]


def database(env: dict[str, str]) -> Database:
    return Database.open(env["NEWSBOT_DATABASE_URL"])


def test_a_database_just_seeded_matches_its_file(env: dict[str, str]) -> None:
    code, out = cli(env, "config", "diff")

    assert code == 0 and "the database matches" in out


def test_diff_names_each_added_removed_and_changed_entity(env: dict[str, str]) -> None:
    cli(env, "config", "diff")
    edit(env, _edits)

    code, out = cli(env, "config", "diff")

    assert code == 0 and "4 differences" in out
    assert "~ setting poll: interval 900.0 → 300.0" in out
    assert '+ feed "Ministry of Defence releases" (https://mod.example.in/rss)' in out
    assert "~ topic framework-agreement: terms +defence framework renewal" in out
    assert "- feed" in out


def test_apply_makes_the_database_match_with_one_audit_entry_per_entity(
    env: dict[str, str],
) -> None:
    cli(env, "config", "diff")
    edit(env, _edits)

    code, out = cli(env, "config", "apply", "--yes")

    assert code == 0 and "applied 4 changes" in out
    assert "the database matches" in cli(env, "config", "diff")[1]
    assert "interval: 300.0" in cli(env, "config", "export")[1]
    db = database(env)
    entries = db.transaction(lambda s: list(s.scalars(select(AuditRow.action))))
    db.close()
    assert entries == ["config apply"] * 4


def test_an_applied_change_is_undone_by_an_admin_revert(env: dict[str, str]) -> None:
    cli(env, "config", "diff")
    edit(env, lambda d: d["poll"].update(interval="5m"))
    cli(env, "config", "apply", "--yes")
    db = database(env)
    entry = db.transaction(lambda s: s.scalar(select(AuditRow.id)))
    db.close()

    code, out = console(env, f"--admin /news admin revert {entry}\n")

    assert code == 0, out
    assert "~ setting poll: interval 900.0 → 300.0" in cli(env, "config", "diff")[1]


def test_a_feed_an_admin_paused_stays_paused_and_is_no_difference(env: dict[str, str]) -> None:
    cli(env, "config", "diff")
    db = database(env)
    db.transaction(lambda s: s.execute(update(FeedRow).where(FeedRow.id == 1).values(paused=True)))
    edit(env, lambda d: d["poll"].update(interval="5m"))

    code, out = cli(env, "config", "apply", "--yes")

    assert code == 0 and "applied 1 changes" in out
    assert db.transaction(lambda s: s.get(FeedRow, 1).paused) is True
    db.close()


def test_apply_asks_first_and_a_no_changes_nothing(env: dict[str, str]) -> None:
    cli(env, "config", "diff")
    edit(env, lambda d: d["poll"].update(interval="5m"))

    code, out = cli(env, "config", "apply", answer="n\n")

    assert code == 1 and "Aborted" in out
    assert "1 differences" in cli(env, "config", "diff")[1]


async def test_a_started_bot_says_its_file_differs_and_how_to_apply_it(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add_feed("ok.xml", [{"title": "Fixture", "url": "https://example.org/a"}])
    config = _config_with_feeds(tmp_path, {"Good feed": feed_server.url("ok.xml")}, interval="1h")
    env = _env(tmp_path, config)
    cli(env, "config", "diff")  # the first start seeds the database from the file
    edit(env, lambda d: d["poll"].update(interval="2h"))

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not any("newsbot running" in line for line in lines):
                line = (await proc.stdout.readline()).decode()
                assert line, "newsbot run exited early:\n" + "".join(lines)
                lines.append(line)
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.communicate(), timeout=30)

    warning = next(line for line in lines if "differs from the database" in line)
    assert "~ setting poll: interval 3600.0 → 7200.0" in warning
    assert "`newsbot config apply`" in warning
