"""Commands are declared once, on their handler: the spec tree and the dispatch table are one."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import load_config
from bot.core.chat import HANDLER_FAILED
from bot.core.commands import SPECS, Commands
from bot.core.commands.grammar import Call, command, declared
from bot.core.models import ChannelRef, Command, Reply, UserRef
from bot.settings import DEFAULT_CONFIG
from bot.storage.db import Database

OWNER = UserRef("console", "local", "U1", "alice", is_owner=True)
CHANNEL = ChannelRef("console", "local", "general", "general")


def test_every_spec_is_answered_by_the_method_that_declares_it() -> None:
    pairs = declared(Commands)
    assert [spec for spec, _ in pairs] == list(SPECS)
    for spec, method in pairs:
        assert spec in getattr(getattr(Commands, method), "_news_specs", ())


def test_one_handler_may_serve_several_forms_listed_in_source_order() -> None:
    forms = [spec.name for spec, method in declared(Commands) if method == "_digest"]
    assert forms == ["digest daily", "digest weekly", "digest off"]


def test_a_command_declared_twice_is_refused_when_the_class_is_read() -> None:
    class Twice:
        @command("ping", "ping", "Answers.")
        async def _one(self, call: Call) -> Reply:
            return Reply(text="one")

        @command("ping", "ping", "Answers again.")
        async def _two(self, call: Call) -> Reply:
            return Reply(text="two")

    with pytest.raises(TypeError, match="`ping` is declared twice"):
        declared(Twice)


async def test_a_handler_that_fails_gets_one_plain_reply_and_a_logged_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'bot.db'}")
    commands = Commands(db, load_config(DEFAULT_CONFIG))
    db.close()
    (tmp_path / "bot.db").unlink()  # the database goes away under the bot: not the user's fault
    with caplog.at_level(logging.ERROR, logger="bot.core.commands"):
        reply = await commands.handle(Command("/news admin feeds list", OWNER, CHANNEL))
    assert reply == HANDLER_FAILED
    assert "/news admin feeds list failed" in caplog.text
