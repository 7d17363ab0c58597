"""Hostile XML: external entities (local files, remote DTDs), billion laughs, quadratic blowup."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.faults.harness import COCHIN, Fault, Outcome, Sites, fresh, params, rss, run

SECRET = "SECRET-" + secrets.token_hex(8)


def with_doctype(doctype: str, title: str) -> str:
    body = rss(fresh(COCHIN, title="TITLE-MARK"))
    body = body.replace("<rss ", f"{doctype}\n<rss ", 1)
    return body.replace("TITLE-MARK", title)


def local_file(sites: Sites) -> str:
    secret = sites.tmp / "secret.txt"
    secret.write_text(SECRET)
    doctype = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    return sites.web.set_feed("/feed", with_doctype(doctype, f"&xxe; {COCHIN['title']}"))


def external_dtd(sites: Sites) -> str:
    dtd = sites.raw.answer("/evil.dtd", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    doctype = f'<!DOCTYPE rss SYSTEM "{dtd}">'
    return sites.web.set_feed("/feed", with_doctype(doctype, f"&xxe; {COCHIN['title']}"))


def parameter_entity(sites: Sites) -> str:
    dtd = sites.raw.answer("/evil.dtd", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    doctype = f'<!DOCTYPE rss [<!ENTITY % remote SYSTEM "{dtd}"> %remote;]>'
    return sites.web.set_feed("/feed", with_doctype(doctype, COCHIN["title"]))


def billion_laughs(sites: Sites) -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10)
    ]
    doctype = "<!DOCTYPE rss [" + "".join(entities) + "]>"
    return sites.web.set_feed("/feed", with_doctype(doctype, f"&lol9; {COCHIN['title']}"))


def quadratic(sites: Sites) -> str:
    doctype = f'<!DOCTYPE rss [<!ENTITY big "{"B" * 50_000}">]>'
    return sites.web.set_feed("/feed", with_doctype(doctype, "&big;" * 2_000))


def secret_never_read(o: Outcome) -> None:
    stored = " ".join(f"{i.title} {i.summary}" for i in o.all_items)
    shown = " ".join(f"{c.headline} {c.extract}" for c in o.cards)
    assert SECRET not in stored and SECRET not in shown and SECRET not in o.console


def dtd_never_fetched(o: Outcome) -> None:
    assert not o.sites.raw.requests, f"the parser fetched {o.sites.raw.requests}"
    assert not [c for c in o.connections if c[1] == o.sites.raw.port], "the DTD host was dialled"


def not_expanded(run_of: str) -> Any:
    def check(o: Outcome) -> None:
        for item in o.all_items:
            assert run_of not in item.title and run_of not in item.summary, "entities expanded"

    return check


FAULTS = [
    Fault("xxe-local-file", local_file, check=secret_never_read),
    Fault("xxe-external-dtd", external_dtd, check=dtd_never_fetched),
    Fault("xxe-parameter-entity-dtd", parameter_entity, check=dtd_never_fetched),
    Fault("billion-laughs", billion_laughs, check=not_expanded("lol" * 100)),
    Fault("quadratic-blowup", quadratic, check=not_expanded("B" * 100_000)),
]


@pytest.mark.parametrize("fault", params(FAULTS))
async def test_hostile_xml(fault: Fault, sites: Sites, loopback_only: list[Any]) -> None:
    await run(fault, sites, loopback_only)
