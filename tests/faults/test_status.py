"""Status codes and redirects: chains, loops, unsafe schemes, a hop to another private address."""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.harness import COCHIN, SOSA, Fault, Outcome, Sites, fresh, params, run

# The 400 and 401 lines say what was wrong but not what to do; no fix for that has landed.
CHALLENGE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    '<div id="cf-browser-verification">Checking your browser</div>'
    '<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script></body></html>'
)


def _feed(sites: Sites) -> str:
    return sites.web.add_feed("/feed.xml", [fresh(COCHIN)], title="Hostile Outlet")


def chain(*statuses: int) -> Any:
    def serve(sites: Sites) -> str:
        _feed(sites)
        target = "/feed.xml"
        for n, status in reversed(list(enumerate(statuses))):
            sites.web.redirect(f"/hop{n}", target, status=status)
            target = f"/hop{n}"
        return sites.web.url(target)

    return serve


def status(code: int, body: str = "", **headers: str) -> Any:
    return lambda sites: sites.web.set_response(
        "/feed", status=code, body=body, headers=headers, content_type="text/html"
    )


def to_location(location: str) -> Any:
    return lambda sites: sites.web.set_response("/feed", status=302, headers={"Location": location})


def stored_cochin(o: Outcome) -> None:
    assert [i.url for i in o.items] == [COCHIN["url"]]


def gone_stops(o: Outcome) -> None:
    # Two forced cycles: the second must not ask the site again, nor tell the admins again.
    assert len(o.sites.web.requests_for("/feed")) == 1, "a 410 feed is still polled"
    told = [line for line in o.console.splitlines() if line.startswith("[ADMIN]")]
    assert len(told) == 1 and "Hostile Outlet" in told[0], f"admins told {told}"


def retry_after_honoured(o: Outcome) -> None:
    assert o.feed.next_fetch_at is not None and o.feed.last_fetched_at is not None
    assert (o.feed.next_fetch_at - o.feed.last_fetched_at).total_seconds() >= 3500


def to_other_private_address(sites: Sites) -> str:
    sites.other.add_feed("/feed.xml", [fresh(SOSA)], title="Internal service")
    return sites.web.redirect("/feed", sites.other.url("/feed.xml"), status=302)


def to_name_resolving_private(sites: Sites) -> str:
    # A public-looking name that the DNS answers with an internal address (rebinding).
    sites.dns.names["intranet.example"] = "127.0.0.2"
    sites.other.add_feed("/feed.xml", [fresh(SOSA)], title="Internal service")
    target = f"http://intranet.example:{sites.other.port}/feed.xml"
    return sites.web.redirect("/feed", target, status=302)


def never_dialled_other(o: Outcome) -> None:
    assert not [c for c in o.connections if c[0] == "127.0.0.2"], "the hop was dialled"
    assert not o.items


FAULTS = [
    Fault("redirect-301-chain", chain(301, 301), stored=1, check=stored_cochin),
    Fault("redirect-302", chain(302), stored=1, check=stored_cochin),
    Fault("redirect-307", chain(307), stored=1, check=stored_cochin),
    Fault("redirect-308", chain(308), stored=1, check=stored_cochin),
    Fault("redirect-mixed-301-302-307-308", chain(301, 302, 307, 308), stored=1),
    Fault("status-304-without-validators", status(304), stored=0),
    Fault("status-400", status(400), fails=("400",), stored=0),
    Fault("status-401", status(401), fails=("401", "login"), stored=0),
    Fault("status-403-plain", status(403), fails=("403",), stored=0),
    Fault(
        "status-403-cloudflare-challenge",
        status(403, CHALLENGE, Server="cloudflare", **{"cf-mitigated": "challenge"}),
        fails=("403", "bot check|challenge", "cloudflare"),
        stored=0,
    ),
    Fault("status-404", status(404), fails=("404",), stored=0),
    Fault(
        "status-410-gone",
        status(410),
        fails=("410", "gone"),
        stored=0,
        cycles=2,
        check=gone_stops,
    ),
    Fault(
        "status-429-retry-after",
        status(429, **{"Retry-After": "3600"}),
        fails=("429", "slow down"),
        stored=0,
        check=retry_after_honoured,
    ),
    Fault("status-500", status(500), fails=("500",), stored=0),
    Fault("status-503", status(503), fails=("503",), stored=0),
    Fault(
        "redirect-loop",
        lambda s: (s.web.redirect("/a", "/b", status=302), s.web.redirect("/b", "/a"))[0],
        fails=("redirect", "loop"),
        stored=0,
    ),
    Fault(
        "too-many-redirects",
        chain(*[302] * 25),
        fails=("redirect",),
        stored=0,
    ),
    *[
        Fault(
            f"redirect-to-{scheme}-scheme",
            to_location(location),
            fails=("redirect",),
            stored=0,
        )
        for scheme, location in (
            ("file", "file:///etc/passwd"),
            ("ftp", "ftp://127.0.0.1/feed.xml"),
            ("javascript", "javascript:alert(document.cookie)"),
            ("data", "data:application/rss+xml;base64,PHJzcy8+"),
        )
    ],
    Fault(
        "redirect-to-other-private-address",
        to_other_private_address,
        fails=("private",),
        stored=0,
        check=never_dialled_other,
    ),
    Fault(
        "redirect-to-name-resolving-private",
        to_name_resolving_private,
        fails=("intranet.example", "private"),
        stored=0,
        check=never_dialled_other,
    ),
]


@pytest.mark.parametrize("fault", params(FAULTS))
async def test_status(fault: Fault, sites: Sites, loopback_only: list[Any]) -> None:
    await run(fault, sites, loopback_only)
