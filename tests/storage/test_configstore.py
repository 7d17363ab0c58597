"""Reading the live config back from the database, including what older versions stored."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import load_config
from bot.settings import DEFAULT_CONFIG
from bot.storage.configstore import load_runtime, seed
from bot.storage.db import Database
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


async def test_a_database_holding_the_retired_grouping_join_loads_and_keeps_grouping(
    db: Database,
) -> None:
    """Before thresholds.story was the story threshold, the grouper read matching.grouping.join
    and the stored thresholds.story did nothing: the value in effect moves over."""
    cfg = load_config(DEFAULT_CONFIG)
    await db.run(lambda s: seed(s, cfg, now=NOW))

    def put_old_keys(s: object) -> None:
        matching = s.get(SettingRow, "matching")  # type: ignore[attr-defined]
        old = dict(matching.value["value"])
        old["grouping"] = {**old.get("grouping", {}), "join": 0.42}
        matching.value = {"value": old}
        thresholds = s.get(SettingRow, "thresholds")  # type: ignore[attr-defined]
        thresholds.value = {"value": {**thresholds.value["value"], "story": 0.5}}

    await db.run(put_old_keys)
    live = await db.run(load_runtime)
    assert live.thresholds.story == 0.42
    assert "join" not in live.matching.grouping.model_dump()
    assert live.matching.grouping == cfg.matching.grouping
