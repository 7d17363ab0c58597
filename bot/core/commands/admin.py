"""The admin commands: each one a thin call into :class:`~bot.core.admin.Admin`, declared with
its spec. The owners-only gate is applied once, in dispatch, from ``admin=True``."""

from __future__ import annotations

from bot.core.admin import Admin
from bot.core.commands.grammar import Call, _a, command
from bot.core.commands.specs import _DRY
from bot.core.models import Reply


class AdminCommands:
    """Mixed into :class:`~bot.core.commands.Commands`; every method here is owners-only."""

    admin: Admin

    @command("admin feeds list", "admin feeds list", "Feeds, their health and last fetch.",
             admin=True)  # fmt: skip
    async def _feeds_list(self, call: Call) -> Reply:
        return await self.admin.feeds_list()

    @command("admin feeds add", "admin feeds add <url> [name] [--allow-private]",
             "Fetch a feed once, check it, and poll it from now on; --allow-private lets "
             "it be on your own network.",
             _a("url", "url"), _a("name", "text", required=False), admin=True)  # fmt: skip
    async def _feeds_add(self, call: Call) -> Reply:
        return await self.admin.feeds_add(call.user, call.text("url"), call.text("name"))

    @command("admin feeds allow-private", "admin feeds allow-private <feed> on|off",
             "Let a feed reach its own host on a private network (or stop it).",
             _a("feed", "source"), _a("state", "choice", choices=("on", "off")),
             admin=True)  # fmt: skip
    async def _feeds_allow_private(self, call: Call) -> Reply:
        return await self.admin.feeds_allow_private(
            call.user, call.text("feed"), call.text("state")
        )

    @command("admin feeds remove", "admin feeds remove <feed>", "Stop polling a feed.",
             _a("feed", "source"), admin=True)  # fmt: skip
    @command("admin feeds pause", "admin feeds pause <feed>", "Pause polling a feed.",
             _a("feed", "source"), admin=True)  # fmt: skip
    @command("admin feeds resume", "admin feeds resume <feed>", "Resume a paused feed.",
             _a("feed", "source"), admin=True)  # fmt: skip
    async def _feeds_set(self, call: Call) -> Reply:
        action = call.spec.name.split()[-1]  # remove | pause | resume
        return await self.admin.feeds_set(call.user, call.text("feed"), action)

    @command("admin topics show", "admin topics show [topic]",
             "A topic's description, terms and threshold.",
             _a("topic", "topic", required=False), admin=True)  # fmt: skip
    async def _topics_show(self, call: Call) -> Reply:
        return await self.admin.topics_show(call.text("topic"))

    @command("admin topics edit",
             "admin topics edit <topic> terms add|remove <term, term…> | "
             "description <text> [--dry-run]",
             "Change a topic's terms or description.",
             _a("topic", "topic"), _a("field", "choice", choices=("terms", "description")),
             _a("change", "text"), _DRY, admin=True)  # fmt: skip
    async def _topics_edit(self, call: Call) -> Reply:
        return await self.admin.topics_edit(
            call.user, call.text("topic"), call.text("field"), call.text("change"), call.dry_run
        )

    @command("admin track", "admin track <article text or URL>",
             "Suggest topic terms from an article, for you to accept.",
             _a("article", "text"), admin=True)  # fmt: skip
    async def _track(self, call: Call) -> Reply:
        return await self.admin.track(call.text("article"))

    @command("admin threshold", "admin threshold <topic|relevance|story> <value> [--dry-run]",
             "Change a relevance or story-grouping threshold.",
             _a("target", "topic"), _a("value", "text"), _DRY, admin=True)  # fmt: skip
    async def _threshold(self, call: Call) -> Reply:
        return await self.admin.threshold(
            call.user, call.text("target"), call.text("value"), call.dry_run
        )

    @command("admin feedback", "admin feedback [--days N]",
             "Stories readers flagged not relevant: why they passed, what would stop them.",
             _a("days", "text", required=False), admin=True)  # fmt: skip
    async def _feedback(self, call: Call) -> Reply:
        return await self.admin.feedback(call.text("days"))

    @command("admin schedule poll", "admin schedule poll <interval>",
             "How often feeds are polled (e.g. 10m).", _a("interval", "duration"),
             admin=True)  # fmt: skip
    async def _schedule_poll(self, call: Call) -> Reply:
        return await self.admin.schedule_poll(call.user, call.text("interval"))

    @command("admin audit", "admin audit [n]", "The latest admin changes.",
             _a("n", "int", required=False), admin=True)  # fmt: skip
    async def _audit(self, call: Call) -> Reply:
        return await self.admin.audit(call.number("n", 10))

    @command("admin revert", "admin revert <audit-id>",
             "Undo an admin change (recorded as a new change).", _a("audit-id", "int"),
             admin=True)  # fmt: skip
    async def _revert(self, call: Call) -> Reply:
        return await self.admin.revert(call.user, call.number("audit-id", 0))

    @command("admin export", "admin export", "The current config as a YAML file.", admin=True)
    async def _export(self, call: Call) -> Reply:
        return await self.admin.export()
