"""The README stays true: two set-up commands, CI runs its test command, the command table."""

from __future__ import annotations

import re
from pathlib import Path

from bot.core.commands import command_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def test_the_first_section_gives_exactly_two_set_up_commands() -> None:
    first = re.search(r"^## (.+)$", README, re.M)
    assert first and first.group(1) == "Set-up: two commands"
    blocks = re.findall(r"```sh\n(.*?)```", _section("Set-up: two commands"), re.S)
    assert len(blocks) == 2
    assert all(len(block.strip().splitlines()) == 1 for block in blocks)
    assert "newsbot run" in blocks[0] and "pytest" in blocks[1]


def test_ci_runs_the_readmes_test_command() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", _section("Set-up: two commands"), re.S)
    test_command = blocks[1].strip().split("&&")[-1].strip().removeprefix(".venv/bin/")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()


def test_the_command_table_is_generated_from_the_parser() -> None:
    block = re.search(r"<!-- commands:start -->\n(.*?)\n<!-- commands:end -->", README, re.S)
    assert block, "README lost its command table markers"
    assert block.group(1) == command_table(), (
        "README's command table is stale: paste the output of "
        "`python -c 'from bot.core.commands import command_table; print(command_table())'`"
    )
