"""The container image and the compose file, read as their tools would read them: a slim
non-root image running `newsbot run`, and a bot that waits for a healthy PostgreSQL it can
reach, with every secret taken from the operator's environment."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
SECRETS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN")


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _final_stage() -> list[tuple[str, str]]:
    """The Dockerfile's last stage as (instruction, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    steps = [tuple(line.split(None, 1)) for line in lines if not line.startswith("#")]
    last_from = max(i for i, (op, _) in enumerate(steps) if op.upper() == "FROM")
    return [(op.upper(), args) for op, args in steps[last_from:]]  # type: ignore[misc]


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} substitution."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        if name in env and env[name] != "":
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def test_the_image_is_slim_runs_as_a_non_root_user_and_starts_the_bot() -> None:
    stage = _final_stage()
    base = stage[0][1]
    user = [args for op, args in stage if op == "USER"]
    cmd = [args for op, args in stage if op == "CMD"]

    assert re.fullmatch(r"python:3\.(1[1-9])-slim", base), base
    assert user and user[-1] not in ("root", "0")
    assert cmd == ['["newsbot", "run"]']
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "newsbot" in scripts


def test_the_image_installs_the_postgres_driver_and_carries_the_config_it_points_at() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stage = _final_stage()
    env = " ".join(args for op, args in stage if op == "ENV")

    assert "'.[postgres]'" in text
    assert "NEWSBOT_CONFIG=/app/config/newsbot.yaml" in env
    assert ("COPY", "config ./config") in stage
    assert (ROOT / "config" / "newsbot.yaml").is_file()


def test_the_bot_waits_for_a_healthy_database_it_can_reach() -> None:
    services = _compose()["services"]
    db, bot = services["db"], services["bot"]
    env = {"POSTGRES_PASSWORD": "pw"}

    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    url = make_url(_interpolate(bot["environment"]["NEWSBOT_DATABASE_URL"], env))
    assert url.host == "db" and url.port == 5432
    assert url.username == db["environment"]["POSTGRES_USER"]
    assert url.database == db["environment"]["POSTGRES_DB"]
    assert url.password == _interpolate(db["environment"]["POSTGRES_PASSWORD"], env)


def test_no_secret_is_written_in_the_compose_file() -> None:
    compose = _compose()
    bot_env = compose["services"]["bot"]["environment"]

    for name in SECRETS:
        assert name in bot_env and bot_env[name] is None, f"{name} must come from the host"
    password = compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD:?")
    try:
        _interpolate(password, {})
    except KeyError as missing:
        assert "POSTGRES_PASSWORD" in str(missing)
    else:
        raise AssertionError("an unset POSTGRES_PASSWORD must stop compose, not default")


def test_the_database_outlives_its_container_and_both_restart_by_themselves() -> None:
    compose = _compose()
    services = compose["services"]

    assert "pgdata" in compose["volumes"]
    assert any(v.startswith("pgdata:") for v in services["db"]["volumes"])
    assert {services[s]["restart"] for s in ("db", "bot")} == {"unless-stopped"}
    workers = _interpolate(str(services["bot"]["deploy"]["replicas"]), {})
    assert int(workers) >= 1
