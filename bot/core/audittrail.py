"""The audit trail as admins read and use it: the latest changes as diffs, revert (applied as a
new audited change), and the config exported as YAML (functions of an :class:`Admin`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from bot.config import AppConfig
from bot.core.configdiff import change_text
from bot.core.models import Attachment, AuditEntry, Reply, ReplyField, UserRef
from bot.core.usage import UsageError, unknown
from bot.storage import audit as audit_repo
from bot.storage.db import Tx

if TYPE_CHECKING:  # Admin calls these; the import is for type checking only
    from bot.core.admin import Admin


async def audit(admin: Admin, n: int) -> Reply:
    """`/news admin audit [n]`: the latest changes, each as what changed."""
    if not 1 <= n <= 100:
        raise UsageError("<n> must be between 1 and 100")
    rows = await admin.db.run(lambda s: audit_repo.latest(s, n))
    if not rows:
        return Reply(text="No admin changes yet.")
    return Reply(
        text=f"The latest {len(rows)} admin change(s), newest first:",
        fields=tuple(describe_entry(r) for r in rows),
    )


async def revert(admin: Admin, user: UserRef, audit_id: int) -> Reply:
    """`/news admin revert <id>`: the entry's ``before`` applied as a new audited change."""

    def write(s: Tx) -> tuple[AuditEntry, AuditEntry | None]:
        entry = audit_repo.get(s, audit_id)
        if entry is None:
            ids = [str(r.id) for r in audit_repo.latest(s, 20)]
            raise unknown("audit entry", str(audit_id), ids)
        return entry, admin.change(
            s, user, "revert", entry.target, entry.before, reverts_id=entry.id
        )

    entry, new = await admin.db.run(write)
    if new is None:
        return Reply(text=f"#{audit_id} ({entry.action} {entry.target}) is already undone.")
    await admin._after(new.target, new.after)
    return Reply(
        text=f"Reverted #{audit_id} ({entry.action} {entry.target}) as audit #{new.id}.",
        ephemeral=False,
    )


EXPORT_FILE = "newsbot-config.yaml"


async def export(admin: Admin) -> Reply:
    """`/news admin export`: the live config as a YAML file ``load_config`` reads back.

    A file, not a message: a config is longer than any chat message, and cutting or splitting
    it would give back something ``newsbot config apply`` cannot read."""
    cfg = await admin.db.run(admin.live)
    data = export_yaml(cfg).encode("utf-8")
    stamp = admin.clock().strftime("%Y-%m-%d %H:%M UTC")
    attachment = Attachment(EXPORT_FILE, data, "application/yaml", f"newsbot config, {stamp}")
    return Reply(
        text=f"The live config as of {stamp}: {len(cfg.feeds)} feeds, {len(cfg.topics)} topics "
        f"({len(data):,} bytes). Apply it elsewhere with `newsbot config apply {EXPORT_FILE}`.",
        attachments=(attachment,),
    )


def export_yaml(cfg: AppConfig) -> str:
    """The config as YAML that ``load_config`` reads back to an equal AppConfig."""
    data = cfg.model_dump(mode="json", exclude_defaults=False)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def describe_entry(row: AuditEntry) -> ReplyField:
    name = row.user_name or row.user_id
    undo = f" (reverts #{row.reverts_id})" if row.reverts_id else ""
    return ReplyField(
        f"#{row.id} {row.at:%Y-%m-%d %H:%M} UTC — {row.action}{undo} by {name} ({row.platform})",
        _clip(change_text(row.target, row.before, row.after)),
    )


def _clip(text: str, limit: int = 900) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
