"""Reading the live config back from the database, including what older versions stored."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import load_config
from bot.settings import DEFAULT_CONFIG
from bot.storage.db import Database
from bot.storage.runtime import load_runtime, seed
from bot.storage.tables import SettingRow

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


async def test_a_database_still_holding_the_removed_global_switch_loads(db: Database) -> None:
    cfg = load_config(DEFAULT_CONFIG)
    await db.run(lambda s: seed(s, cfg, now=NOW))

    def put_old_key(s: object) -> None:
        row = s.get(SettingRow, "poll")  # type: ignore[attr-defined]
        row.value = {"value": {**row.value["value"], "allow_private_addresses": True}}

    await db.run(put_old_key)
    live = await db.run(load_runtime)
    assert live.poll == cfg.poll
    assert "allow_private_addresses" not in live.poll.model_dump()
