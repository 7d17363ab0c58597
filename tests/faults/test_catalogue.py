"""The suite's kinds and docs/reliability.md's table list the same faults, and enough of them."""

from __future__ import annotations

import re
from pathlib import Path

from tests.faults import (
    test_encoding,
    test_formats,
    test_hostile_xml,
    test_identity,
    test_status,
    test_text,
    test_transport,
)

DOC = Path(__file__).parents[2] / "docs" / "reliability.md"
FAMILIES = (
    test_status,
    test_transport,
    test_encoding,
    test_text,
    test_identity,
    test_formats,
    test_hostile_xml,
)


def suite_ids() -> list[str]:
    return [f.id for family in FAMILIES for f in family.FAULTS] + [test_formats.DEV_ZERO.id]


def test_the_docs_table_lists_every_kind_the_suite_runs() -> None:
    documented = re.findall(r"^\| `([a-z0-9.-]+)` \|", DOC.read_text(), re.MULTILINE)
    assert sorted(documented) == sorted(suite_ids())
    assert f"({len(suite_ids())} kinds;" in DOC.read_text()


def test_the_suite_has_at_least_45_distinct_kinds() -> None:
    ids = suite_ids()
    assert len(ids) == len(set(ids)) >= 45
