"""An article's identity, computed here and nowhere else.

``article_id`` is the first 32 hex digits (128 bits) of the SHA-256 of one key, chosen in this order:

1. the GUID. A GUID that is an http(s) URL (RSS permalinks, many Atom ids) is canonicalised like a
   link, so the permalink GUID of one feed and the plain link of another give the same id (a URL GUID
   marked ``isPermaLink="false"``, like WordPress's ``?p=123``, is canonicalised as well: it is still
   a URL). Any other GUID (``tag:``, ``urn:uuid:``, ``12345``) is used as published, whitespace
   trimmed. GUIDs are not scoped by feed: the same GUID in two feeds is taken to be the same article,
   which is what syndicated copies of one story are;
2. else the canonical link (``canonical_url``);
3. else the title (case- and space-folded) with the publication time in UTC.

The key is prefixed by its source (``url:``, ``guid:``, ``title:``) so a GUID that happens to equal
some title can never collide with it. Changing anything here changes every id: the index would see
every article as new. Tests pin examples.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

#: Query parameters that only say how a reader arrived (campaigns, click ids), never which article.
TRACKING_PARAMETERS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid", "ttclid",
    "mc_cid", "mc_eid",  # Mailchimp
    "xtor", "xts", "xtref",  # AT Internet (Le Monde, France Télévisions, ...)
    "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp", "hsctatracking",  # HubSpot
    "_ga", "_gl", "ocid", "cmpid", "ncid", "sr_share", "ref_src", "ref_url", "spm", "smid",
    "oly_anon_id", "oly_enc_id", "vero_id", "rb_clickid", "s_cid", "wt_mc", "wt.mc_id",
})
#: Prefixes of whole families of tracking parameters (utm_source, at_medium, pk_campaign, mtm_kwd, ...).
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "piwik_", "matomo_", "itm_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_SPACES = re.compile(r"\s+")


def _is_tracking(name: str) -> bool:
    key = name.lower()
    return key in TRACKING_PARAMETERS or key.startswith(TRACKING_PREFIXES)


def _canonical_host(host: str) -> str:
    host = host.lower().rstrip(".")
    try:
        # One spelling per host: "café.fr" and "xn--caf-dma.fr" are the same site.
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def canonical_url(url: str) -> str:
    """The form of ``url`` used for identity.

    Scheme and host lower-cased (IDNA host in ASCII), default port, user info and fragment removed,
    empty path made ``/``, tracking parameters dropped and the remaining ones sorted. Parameters are
    kept byte for byte as published (only percent-escapes are upper-cased), so nothing is re-encoded.
    Fragments that start with ``!`` (``#!/story/42``, old AJAX sites) name content and are kept.
    Anything that is not an absolute http(s) URL is returned trimmed and otherwise unchanged.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return text
    netloc = _canonical_host(parts.hostname)
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = _PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), parts.path) or "/"
    pairs = [pair for pair in parts.query.split("&") if pair and not _is_tracking(pair.split("=", 1)[0])]
    query = "&".join(sorted(_PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), pair) for pair in pairs))
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    return urlunsplit((scheme, netloc, path, query, fragment))


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.netloc)


def _title_key(title: str) -> str:
    return _SPACES.sub(" ", title).strip().casefold()


def _time_key(published: datetime | None) -> str:
    if published is None:
        return ""
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)  # feedparser's times are UTC
    return published.astimezone(UTC).replace(microsecond=0).isoformat()


def identity_key(guid: str | None, link: str | None, title: str | None, published: datetime | None) -> str:
    """The text ``article_id`` hashes (exposed for tests and for debugging a surprising id)."""
    guid = (guid or "").strip()
    if guid:
        return f"url:{canonical_url(guid)}" if _is_web_url(guid) else f"guid:{guid}"
    link = (link or "").strip()
    if link and _is_web_url(link):
        return f"url:{canonical_url(link)}"
    return f"title:{_title_key(title or '')}\x1f{_time_key(published)}"


def article_id(guid: str | None, link: str | None, title: str | None, published: datetime | None) -> str:
    """The stable id of an article: 32 hex digits (see the module docstring for what it is made of)."""
    return hashlib.sha256(identity_key(guid, link, title, published).encode("utf-8")).hexdigest()[:32]
