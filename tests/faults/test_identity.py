"""Item identity and metadata: missing, duplicate and churning ids, odd dates, unsafe links."""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.harness import COCHIN, SOSA, Fault, Outcome, Sites, fresh, params, rss, run


def feed(*items: dict[str, Any]) -> Any:
    return lambda sites: sites.web.set_feed("/feed", rss(*items))


def churn(sites: Sites) -> None:
    sites.web.set_feed("/feed", rss(fresh(COCHIN, guid="churn-2")))


def posted(*rows: dict[str, Any]) -> Any:
    def check(o: Outcome) -> None:
        shown = [s.url for c in o.cards for s in c.sources]
        for row in rows:
            assert shown.count(row["url"]) == 1, f"{row['id']} not posted once"

    return check


def dated(value: str) -> Any:
    def serve(sites: Sites) -> str:
        body = rss(fresh(COCHIN, published=None))
        return sites.web.set_feed(
            "/feed", body.replace("</item>", f"<pubDate>{value}</pubDate></item>")
        )

    return serve


def date_unknown(o: Outcome) -> None:
    assert len(o.items) == 1 and o.items[0].published_at is None, o.items[0].published_at


def headline_from_summary(o: Outcome) -> None:
    assert len(o.items) == 1
    assert o.items[0].title.startswith(COCHIN["summary"][:20]), o.items[0].title


def no_link(o: Outcome) -> None:
    assert len(o.items) == 1 and o.items[0].url is None, o.items[0].url


def relative_link(o: Outcome) -> None:
    assert len(o.items) == 1
    url = o.items[0].url
    assert url is None or url.startswith(("http://", "https://")), url


def capped(o: Outcome) -> None:
    assert len(o.items) == 1
    assert len(o.items[0].title) <= 1000 and len(o.items[0].summary) <= 4000


LONG_URL = "https://www.example.com/" + "a" * 3000
FAULTS = [
    Fault(
        "missing-guids",
        feed(fresh(COCHIN, guid=None), fresh(SOSA, guid=None)),
        stored=2,
        cycles=2,
        check=posted(COCHIN, SOSA),
    ),
    Fault(
        "duplicate-guids-different-articles",
        feed(fresh(COCHIN, guid="same"), fresh(SOSA, guid="same")),
        stored=2,
        check=posted(COCHIN, SOSA),
    ),
    Fault(
        "duplicate-items-same-article",
        feed(fresh(COCHIN), fresh(COCHIN), fresh(COCHIN, guid="other-id")),
        stored=1,
        check=posted(COCHIN),
    ),
    Fault(
        "churning-guids",
        feed(fresh(COCHIN, guid="churn-1")),
        cycles=2,
        between=churn,
        stored=1,
        check=posted(COCHIN),
    ),
    Fault(
        "no-guid-no-link",
        feed(fresh(COCHIN, guid=None, url=None)),
        cycles=2,
        stored=1,
    ),
    Fault(
        "empty-item",
        lambda s: s.web.set_feed(
            "/feed", rss(fresh(COCHIN)).replace("</channel>", "<item/></channel>")
        ),
        stored=1,
        warns="skipped|no title",
    ),
    Fault(
        "no-title-item",
        feed(fresh(COCHIN, title=None)),
        check=headline_from_summary,
    ),
    Fault("future-date", dated("Fri, 01 Jan 2100 00:00:00 GMT"), check=date_unknown),
    Fault("epoch-date", dated("Thu, 01 Jan 1970 00:00:00 GMT"), check=date_unknown),
    Fault("pre-1995-date", dated("Mon, 01 Jan 1990 12:00:00 GMT"), check=date_unknown),
    Fault("unparseable-date", dated("the day before yesterday"), check=date_unknown),
    Fault("relative-link", feed(fresh(COCHIN, url="/news/cochin", guid="r1")), check=relative_link),
    *[
        Fault(f"{scheme}-link", feed(fresh(COCHIN, url=link, guid=f"{scheme}-1")), check=no_link)
        for scheme, link in (
            ("javascript", "javascript:alert(document.cookie)"),
            ("data", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
            ("file", "file:///etc/passwd"),
        )
    ],
    Fault(
        "over-long-fields",
        feed(
            fresh(
                COCHIN,
                title=COCHIN["title"] + " and more" * 600,
                url=LONG_URL,
                summary=COCHIN["summary"] + " More." * 10_000,
                guid="long-1",
            )
        ),
        check=capped,
    ),
]


@pytest.mark.parametrize("fault", params(FAULTS))
async def test_identity(
    fault: Fault, sites: Sites, loopback_only: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    await run(fault, sites, loopback_only, caplog)
