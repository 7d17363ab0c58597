"""The audit repository: an entry written in the change's own transaction, read back as a value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.core.models import AuditEntry, UserRef
from bot.storage import audit
from bot.storage.db import Database

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
OPS = UserRef("discord", "G1", "42", "ops")


def test_entries_come_back_newest_first_as_values(db: Database) -> None:
    def write(s: Session) -> int:
        first = audit.record(
            s,
            OPS,
            action="feeds.add",
            target="feed:https://example.org/rss",
            before=None,
            after={"name": "Example"},
            now=NOW,
        )
        audit.record(
            s,
            OPS,
            action="revert",
            target=first.target,
            before={"name": "Example"},
            after=None,
            now=NOW + timedelta(minutes=1),
            reverts_id=first.id,
        )
        return first.id

    first_id = db.transaction(write)
    newest, oldest = db.transaction(lambda s: audit.latest(s, 10))
    assert isinstance(newest, AuditEntry)
    assert (newest.action, newest.reverts_id, newest.after) == ("revert", first_id, None)
    assert (oldest.id, oldest.user_id, oldest.platform) == (first_id, "42", "discord")
    assert db.transaction(lambda s: audit.get(s, first_id)) == oldest
    assert db.transaction(lambda s: audit.get(s, 999)) is None
