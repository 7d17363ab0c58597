"""Google News items made into the article they point to: its link, its outlet, no boilerplate.

Google News feeds link every item to ``news.google.com/rss/articles/<token>``, a redirect.
The token is base64url of a small protobuf message; the older tokens (``CBMi…``) carry the
article's address as field 4 (and, for AMP pages, the AMP address as field 26), so the
article link is read from the token and canonicalised like any other link: the same article
from the outlet's own feed is then one stored item. Newer tokens (``AU_yqL…`` inside) hold
only an opaque id that Google resolves with a call we do not make; those items keep the
Google link and say so in their outlet ("The Hindu (via Google News)").

Titles come as "Headline - Outlet" and the outlet also in ``<source>``; the description is
Google's markup around the headline (a link to the token, the outlet in ``<font>``, for a
cluster an ``<ol>`` of related headlines and "View Full Coverage on Google News"), which
says nothing the title does not.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass

from bot.core.htmltext import TextCleaner
from bot.core.links import canonical_url
from bot.core.models.labels import VIA

logger = logging.getLogger(__name__)

_HOST_PREFIXES = ("https://news.google.com/", "http://news.google.com/")
_ARTICLE_PATH = re.compile(
    r"^https?://news\.google\.com/(?:rss/|__i/rss/rd/)?articles/([A-Za-z0-9_-]+=*)(?:[/?]|$)"
)
# Protobuf field numbers in an article token.
_ARTICLE_FIELD = 4
_AMP_FIELD = 26
_FULL_COVERAGE = re.compile(r"\s*View Full Coverage on Google News\s*", re.IGNORECASE)
_MAX_OUTLET = 80


@dataclass(frozen=True, slots=True)
class GoogleLink:
    """A Google News article link and the article link decoded from it, if its token has one."""

    link: str
    article_url: str | None


def article_link(url: str) -> GoogleLink | None:
    """``url`` as a Google News article link, or None when it is any other link."""
    if not url.startswith(_HOST_PREFIXES):
        return None
    m = _ARTICLE_PATH.match(url)
    if m is None:
        return None
    decoded = decode_token(m.group(1))
    article = canonical_url(decoded) if decoded else None
    if article is None:
        logger.debug("Google News link %s carries no article address; it is kept as is", url)
    return GoogleLink(url, article)


def decode_token(token: str) -> str | None:
    """The article address inside a Google News token, or None when it carries none."""
    try:
        data = base64.urlsafe_b64decode(token.rstrip("=") + "=" * (-len(token.rstrip("=")) % 4))
    except (ValueError, binascii.Error):
        return None
    fields = _string_fields(data)
    for number in (_ARTICLE_FIELD, _AMP_FIELD):
        value = fields.get(number)
        if not value:
            continue
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if canonical_url(text) is not None:
            return text
    return None


def _string_fields(data: bytes) -> dict[int, bytes]:
    """The length-delimited fields of a protobuf message (first of each number).

    A truncated or garbled message gives the fields read before the damage.
    """
    fields: dict[int, bytes] = {}
    pos = 0
    try:
        while pos < len(data):
            key, pos = _varint(data, pos)
            number, wire = key >> 3, key & 7
            if wire == 0:
                _, pos = _varint(data, pos)
            elif wire == 1:
                pos += 8
            elif wire == 5:
                pos += 4
            elif wire == 2:
                size, pos = _varint(data, pos)
                if pos + size > len(data):
                    break
                fields.setdefault(number, data[pos : pos + size])
                pos += size
            else:
                break
    except IndexError:
        pass
    return fields


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    # Lengths under 128 take one byte, longer article links two (or more).
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise IndexError("varint too long")


def split_title(title: str, outlet: str) -> tuple[str, str]:
    """ "Headline - Outlet" → ("Headline", "Outlet"); ``outlet`` from ``<source>`` wins."""
    head, sep, tail = title.rpartition(" - ")
    if not sep or not head.strip():
        return title, outlet
    if outlet:
        # Stripped only when the suffix is that outlet: "India - US talks" keeps its dash.
        if tail.strip().casefold() == outlet.casefold():
            return head.rstrip(), outlet
        return title, outlet
    if len(tail) <= _MAX_OUTLET:
        return head.rstrip(), tail.strip()
    return title, outlet


def outlet_label(outlet: str, link: GoogleLink) -> str:
    """The outlet as a reader should see it: marked when the link still goes via Google."""
    if link.article_url:
        return outlet
    return f"{outlet} ({VIA})" if outlet else "Google News"


def summary_text(description: str, headline: str, cleaner: TextCleaner) -> str:
    """Google's description without its boilerplate: usually nothing is left, and that is right."""
    if not description:
        return ""
    if "<" in description:
        holder = cleaner.parse(description)
        for node in holder.css("a"):
            if "news.google.com" in (node.attributes.get("href") or ""):
                node.decompose()
        for node in holder.css("font"):
            node.decompose()
        text = holder.text(separator=" ") or ""
    else:
        text = cleaner(description)
    text = " ".join(_FULL_COVERAGE.sub(" ", text).split())
    if headline and text.casefold().startswith(headline.casefold()):
        text = text[len(headline) :].lstrip(" -–—:")
    return text
