"""Canonical article links: one spelling per article, so the same link from two feeds is one."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

# Query parameters that only track the reader; the same article with and without them is one.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "cmpid",
        "ocid",
        "igshid",
        "yclid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "smid",
        "ito",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "soc_src",
        "soc_trk",
        "at_medium",
        "at_campaign",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "__twitter", "_ga")

# The common shape of a feed link; anything else goes through urllib.
_PLAIN_URL = re.compile(
    r"^([Hh][Tt][Tt][Pp][Ss]?)://([A-Za-z0-9.-]+(?::\d{1,5})?)(/[^?#\s]*)?"
    r"(?:\?([^#\s]*))?(?:#\S*)?$"
)
# Anything urllib could still read as an http(s) link starts like this; GUIDs such as
# "urn:…" or "tag:…" and bare ids are turned away without taking them apart.
_HTTP_LIKE = re.compile(r"\s*https?:", re.IGNORECASE)
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def canonical_url(value: str) -> str | None:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters.

    Returns None for anything that is not an absolute http(s) link. Invisible characters
    inside a link (controls, bidi, zero-width) are percent-encoded, so a link cannot reorder
    or hide part of the line it is shown in.
    """
    if not value.isprintable():
        value = _visible(value)
    m = _PLAIN_URL.match(value)
    if m is None:
        return _canonical_slow(value) if _HTTP_LIKE.match(value) else None
    scheme, host, path, query = m.group(1).lower(), m.group(2).lower(), m.group(3), m.group(4)
    if host.endswith(_DEFAULT_PORTS[scheme]):
        host = host[: -len(_DEFAULT_PORTS[scheme])]
    if query:
        query = _drop_trackers(query)
    return f"{scheme}://{host}{path or '/'}" + (f"?{query}" if query else "")


def _visible(value: str) -> str:
    # Surrounding whitespace (line ends in a <link>) is trimmed, not encoded.
    value = value.strip()
    return "".join(ch if ch.isprintable() else quote(ch, safe="", errors="replace") for ch in value)


def _canonical_slow(value: str) -> str | None:
    # Userinfo, IPv6 literals, stray spaces and the like: let urllib take them apart.
    value = value.strip()
    if not value:
        return None
    try:
        parts = urlsplit(value)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return None
    netloc = host.lower()
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    if port is not None and f":{port}" != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", _drop_trackers(parts.query), ""))


def _drop_trackers(query: str) -> str:
    # Kept in their order and their original encoding; only trackers are dropped.
    return "&".join(p for p in query.split("&") if p and not _is_tracker(p))


def _is_tracker(pair: str) -> bool:
    name = pair.split("=", 1)[0].lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)
