"""Environment settings: where the bot keeps its database when none is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import REPO_ROOT, Settings, default_database_path


def test_the_default_database_is_the_same_file_from_any_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSBOT_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    here = Settings().database_url
    monkeypatch.chdir(REPO_ROOT)
    assert Settings().database_url == here
    assert here == f"sqlite:///{REPO_ROOT / 'data' / 'newsbot.db'}"
    assert Path(here.removeprefix("sqlite:///")).is_absolute()


def test_an_installed_bot_keeps_its_database_in_the_users_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    path = default_database_path(root=tmp_path / "site-packages")
    assert path == tmp_path / "share" / "newsbot" / "newsbot.db"


def test_a_database_url_in_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", "sqlite:////srv/newsbot/bot.db")
    assert Settings().database_url == "sqlite:////srv/newsbot/bot.db"
