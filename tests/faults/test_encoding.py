"""Character encodings: windows-1252 declared or not, UTF-16 and UTF-8 BOMs, a lying charset."""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.harness import COCHIN, Fault, Outcome, Sites, fresh, params, rss, run

# Curly quotes, an e-acute and an em dash: bytes 0x93 0x94 0xE9 0x97 in windows-1252, none of
# them valid UTF-8 on their own.
TITLE = (
    "US Navy gains \u201csecond\u201d Indian repair yard as Cochin joins Kattupalli "
    "\u2014 caf\u00e9"
)


def body(encoding: str, declared: str | None, bom: bytes = b"") -> bytes:
    xml = rss(fresh(COCHIN, title=TITLE))
    decl = f' encoding="{declared}"' if declared else ""
    xml = xml.replace('<?xml version="1.0" encoding="utf-8"?>', f'<?xml version="1.0"{decl}?>')
    return bom + xml.encode(encoding)


def serve(data: bytes, content_type: str = "application/rss+xml") -> Any:
    return lambda sites: sites.web.set_feed("/feed", data, content_type=content_type)


def title_read(o: Outcome) -> None:
    assert [i.title for i in o.items] == [TITLE]
    assert COCHIN["url"] in [s.url for c in o.cards for s in c.sources], "not posted"


FAULTS = [
    Fault("windows-1252-declared", serve(body("cp1252", "windows-1252")), check=title_read),
    Fault("windows-1252-undeclared", serve(body("cp1252", None)), check=title_read),
    Fault(
        "utf-16-with-bom",
        serve(body("utf-16-le", "utf-16", bom=b"\xff\xfe")),
        check=title_read,
    ),
    Fault("utf-8-bom", serve(body("utf-8", "utf-8", bom=b"\xef\xbb\xbf")), check=title_read),
    Fault(
        "mislabelled-charset-header",
        serve(body("cp1252", None), "application/rss+xml; charset=utf-8"),
        check=title_read,
    ),
    Fault(
        "mislabelled-charset-declaration",
        serve(body("cp1252", "utf-8")),
        check=title_read,
    ),
]


@pytest.mark.parametrize("fault", params(FAULTS))
async def test_encoding(fault: Fault, sites: Sites, loopback_only: list[Any]) -> None:
    await run(fault, sites, loopback_only)
