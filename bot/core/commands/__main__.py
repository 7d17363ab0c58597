"""``python -m bot.core.commands > docs/commands.md`` writes the generated command reference."""

from bot.core.commands import reference_markdown

print(reference_markdown(), end="")
