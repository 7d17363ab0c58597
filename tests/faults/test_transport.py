"""Transport faults: stalls, trickles, lying lengths, bombs, huge headers, bodies, item counts."""

from __future__ import annotations

import gzip
import time
from typing import Any

import pytest

from tests.faults.harness import (
    COCHIN,
    MAX_BYTES,
    TIMEOUT,
    Fault,
    Outcome,
    Sites,
    fresh,
    params,
    rss,
    run,
)
from tests.faults.rawserver import head, trickle

BODY = rss(fresh(COCHIN)).encode()
XML = {"Content-Type": "application/rss+xml", "Connection": "close"}


def raw(*steps: bytes | float) -> Any:
    return lambda sites: sites.raw.answer("/feed", *steps)


def stall(sites: Sites) -> str:
    return sites.raw.answer("/feed", head(200, XML | {"Content-Length": str(len(BODY))}), 10.0)


def slow_trickle(sites: Sites) -> str:
    steps = trickle(BODY[:100], 0.1)  # 10 s for 100 bytes: far past the 1 s timeout
    return sites.raw.answer("/feed", head(200, XML | {"Content-Length": str(len(BODY))}), *steps)


def gzip_bomb(sites: Sites) -> str:
    bomb = gzip.compress(b"<rss>" + b" " * (MAX_BYTES * 20), compresslevel=9)
    assert len(bomb) < MAX_BYTES // 10
    return sites.web.set_response(
        "/feed", body=bomb, headers={"Content-Encoding": "gzip"}, content_type="text/xml"
    )


def huge_body(*, stream: bool) -> Any:
    filler = b"<!-- " + b"x" * (MAX_BYTES + 100_000) + b" -->"
    body = BODY.replace(b"<channel>", b"<channel>" + filler)
    return lambda sites: sites.web.set_response(
        "/feed", body=body, content_type="application/rss+xml", stream=stream
    )


def many_items(sites: Sites) -> str:
    items = "".join(
        f"<item><title>Market note {n}</title><guid>n{n}</guid></item>" for n in range(20_000)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title>{items}'
    body += "</channel></rss>"
    return sites.web.set_feed("/feed", body)


def all_20k(o: Outcome) -> None:
    assert len(o.items) == 20_000
    assert len({i.key for i in o.items}) == 20_000


FAULTS = [
    Fault("stall-after-headers", stall, fails=("timeout|within",), stored=0),
    Fault("trickle-past-timeout", slow_trickle, fails=("timeout|within",), stored=0),
    Fault(
        "content-length-longer-than-body",
        raw(head(200, XML | {"Content-Length": str(len(BODY) + 5000)}), BODY),
        fails=("cut off|length",),
        stored=0,
    ),
    Fault(
        "content-length-shorter-than-body",
        raw(head(200, XML | {"Content-Length": str(len(BODY) // 2)}), BODY),
        fails=("length|cut off|well-formed",),
        stored=0,
    ),
    Fault(
        "huge-headers",
        raw(head(200, XML | {"X-Padding": "a" * 9000, "Content-Length": str(len(BODY))}), BODY),
        fails=("header",),
        stored=0,
    ),
    Fault(
        "malformed-status-line",
        raw(b"HTTP/1.1 two hundred OK\r\nContent-Length: 5\r\n\r\nhello"),
        fails=("status|HTTP",),
        stored=0,
    ),
    Fault(
        "raw-garbage-bytes",
        raw(bytes(range(256)) * 4),
        fails=("HTTP|malformed",),
        stored=0,
    ),
    Fault("closed-without-answer", raw(), fails=("closed",), stored=0),
    Fault("gzip-bomb", gzip_bomb, fails=("max_bytes",), stored=0),
    Fault("huge-body", huge_body(stream=False), fails=("max_bytes",), stored=0),
    Fault("huge-body-chunked", huge_body(stream=True), fails=("max_bytes",), stored=0),
    Fault("20k-items", many_items, stored=20_000, check=all_20k),
]


@pytest.mark.parametrize("fault", params(FAULTS))
async def test_transport(fault: Fault, sites: Sites, loopback_only: list[Any]) -> None:
    started = time.perf_counter()
    await run(fault, sites, loopback_only)
    if fault.id.startswith(("stall", "trickle")):
        # The cycle gave up at the timeout, not when the 10 s site finished.
        assert time.perf_counter() - started < TIMEOUT + 4
