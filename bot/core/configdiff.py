"""A config difference as lines a person reads: what the file adds, removes or changes."""

from __future__ import annotations

from typing import Any

Snapshot = dict[str, Any] | None

_FEED_FIELDS = ("name", "comment", "alert_on_first_poll", "allow_private")
_TOPIC_FIELDS = ("name", "description", "threshold")


def describe(entity: str, before: Snapshot, after: Snapshot) -> str:
    """One line: ``+`` the file adds it, ``-`` the file lacks it, ``~`` the file changes it."""
    kind, _, name = entity.partition(":")
    label = _label(kind, name, after or before or {})
    if before is None:
        return f"+ {label}"
    if after is None:
        return f"- {label}"
    return f"~ {label}: {'; '.join(_changes(kind, before, after))}"


def change_text(entity: str, before: Snapshot, after: Snapshot) -> str:
    """An audited change as a reader wants it: what was added, removed, or which values
    changed from what to what (``mode realtime → digest``), not two whole snapshots."""
    kind, _, name = entity.partition(":")
    label = _label(kind, name, after or before or {})
    if before is None and after is None:
        return f"{label}: nothing"
    if before is None:
        return f"added {label}"
    if after is None:
        return f"removed {label}"
    # A feed's every field (pausing included), leaf by leaf; topics as terms added/removed.
    changes = _value_changes("", before, after) if kind == "feed" else _changes(kind, before, after)
    return f"{label}: {'; '.join(changes or ['no change'])}"


def _label(kind: str, name: str, state: dict[str, Any]) -> str:
    if kind == "channel":
        return f"channel {name}"
    if kind == "feed":
        return f'feed "{state.get("name", "")}" ({name})'
    if kind == "topic":
        return f"topic {name}"
    return f"setting {name}"


def _changes(kind: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    if kind == "setting":
        return _value_changes("", before.get("value"), after.get("value")) or ["reordered"]
    if kind == "channel":
        return _value_changes("", before, after) or ["no change"]
    fields = _FEED_FIELDS if kind == "feed" else _TOPIC_FIELDS
    out = [f"{f} {_short(before.get(f))} → {_short(after.get(f))}"
           for f in fields if before.get(f) != after.get(f)]  # fmt: skip
    if kind == "topic":
        out += _list_change("terms", before.get("terms", []), after.get("terms", []))
        old, new = before.get("extra", {}), after.get("extra", {})
        out += _list_change("actors", old.get("actors", []), new.get("actors", []))
        if old.get("position") != new.get("position"):
            out.append(f"position {old.get('position')} → {new.get('position')}")
    return out or ["reordered"]


def _value_changes(path: str, old: Any, new: Any) -> list[str]:
    """Leaf by leaf, so ``poll.interval 900.0 → 300.0`` rather than two whole sections."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            out += _value_changes(f"{path}.{key}" if path else str(key), old.get(key), new.get(key))
        return out
    if old == new:
        return []
    return [f"{path or 'value'} {_short(old)} → {_short(new)}"]


def _list_change(what: str, old: list[Any], new: list[Any]) -> list[str]:
    added = [x for x in new if x not in old]
    removed = [x for x in old if x not in new]
    parts = [f"+{_short(x)}" for x in added] + [f"-{_short(x)}" for x in removed]
    return [f"{what} {', '.join(parts)}"] if parts else []


def _short(value: Any, limit: int = 60) -> str:
    text = "unset" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
