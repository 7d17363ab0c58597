"""The generated command reference (docs/commands.md and the README's table)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.commands.grammar import CommandSpec
from bot.core.walkthrough import WALKTHROUGH


def command_table(specs: Sequence[CommandSpec]) -> str:
    """The Markdown table of every command; the README and docs/commands.md both carry it."""
    lines = ["| command | what it does | who |", "|---|---|---|"]
    for spec in specs:
        usage = spec.usage.replace("|", "\\|")
        who = "admins" if spec.admin else "everyone"
        lines.append(f"| `/news {usage}` | {spec.summary} | {who} |")
    return "\n".join(lines)


def reference_markdown(specs: Sequence[CommandSpec]) -> str:
    """The command reference; docs/commands.md is this text, checked by a test."""
    lines = [
        "# newsbot commands",
        "",
        "Generated from the command specs in `bot/core/commands/` by",
        "`python -m bot.core.commands > docs/commands.md`; a test fails when it drifts.",
        "Type them after `/news` in Slack or Discord, or in `newsbot console`.",
        "A wrong or missing argument gets the command's usage and the closest valid value.",
        "",
        command_table(specs),
        "",
        WALKTHROUGH,
    ]
    return "\n".join(lines)
