"""ingest.identity: one article, one id, whichever feed or poll it comes from."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.identity import article_id, canonical_url, identity_key


@pytest.mark.parametrize(("url", "canonical"), [
    ("HTTP://Example.COM/Path/Case", "http://example.com/Path/Case"),
    ("https://example.com", "https://example.com/"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("https://example.com/a#comments", "https://example.com/a"),
    ("https://example.com/a?utm_source=rss&utm_medium=feed&id=3", "https://example.com/a?id=3"),
    ("https://example.com/a?b=2&a=1&fbclid=x&gclid=y", "https://example.com/a?a=1&b=2"),
    ("https://www.lemonde.fr/a.html?xtor=RSS-3208&at_medium=rss", "https://www.lemonde.fr/a.html"),
    ("https://example.com/a?mc_cid=1&mc_eid=2&q=%c3%a9", "https://example.com/a?q=%C3%A9"),
    ("https://user:secret@Example.com/a", "https://example.com/a"),
    ("https://café.example/a", "https://xn--caf-dma.example/a"),
    ("https://example.com./a", "https://example.com/a"),
    ("https://example.com/#!/story/42", "https://example.com/#!/story/42"),
    ("https://example.com/a?ref=home&&", "https://example.com/a?ref=home"),
    ("  https://example.com/a  ", "https://example.com/a"),
])
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


@pytest.mark.parametrize("value", ["tag:example.org,2024:1", "urn:uuid:1234", "12345", "mailto:a@b.c",
                                   "/relative/path", "http://[broken"])
def test_what_is_not_a_web_url_is_left_alone(value: str) -> None:
    assert canonical_url(value) == value


def test_the_id_comes_from_the_guid_first() -> None:
    published = datetime(2024, 5, 6, tzinfo=UTC)
    assert article_id("tag:x,1", "https://a.org/1", "T", published) == article_id("tag:x,1", None, None, None)
    assert identity_key(" tag:x,1 ", None, None, None) == "guid:tag:x,1"


def test_permalink_guid_and_plain_link_give_the_same_id() -> None:
    # Feed A: the permalink as GUID; feed B: the same article by its link, with tracking parameters.
    from_guid = article_id("https://News.example.org/2024/story?utm_source=a", None, "Title", None)
    from_link = article_id(None, "https://news.example.org/2024/story?utm_campaign=b#top", "Other title", None)
    assert from_guid == from_link


def test_the_same_guid_in_two_feeds_is_one_article() -> None:
    assert article_id("urn:uuid:42", "https://a.org/x", None, None) == article_id("urn:uuid:42", "https://b.org/y",
                                                                                   None, None)


def test_without_guid_or_link_title_and_date_identify() -> None:
    when = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    same = article_id(None, None, "  Hello   WORLD ", when.astimezone(timezone(timedelta(hours=2))))
    assert same == article_id(None, None, "hello world", when)
    assert article_id(None, None, "hello world", when) != article_id(None, None, "hello world", None)
    assert article_id(None, None, "hello world", when.replace(tzinfo=None)) == same  # naive means UTC
    assert article_id(None, "javascript:alert(1)", "t", None) == article_id(None, None, "t", None)


def test_ids_are_pinned() -> None:
    # Changing how ids are made re-indexes every article as new: this test makes that a decision.
    assert article_id("tag:example.org,2024:1", None, None, None) == "ad8ff9fe9be0a6c10c52d408987ac3be"
    assert article_id(None, "https://Example.org/a?utm_source=x", None, None) == "010cec320b0ab0d07e31f049c593e848"
    assert article_id(None, None, "Hello World",
                      datetime(2024, 5, 6, 10, 0, tzinfo=UTC)) == "2aa3933718d1da8f1a4ea00cdc12aa48"
    key = identity_key(None, "https://example.org/a", None, None)
    assert article_id(None, "https://example.org/a", None, None) == hashlib.sha256(key.encode()).hexdigest()[:32]


urls = st.builds(
    lambda scheme, host, port, path, params, fragment: (
        f"{scheme}://{host}{port}/{path}" + ("?" + "&".join(params) if params else "") + fragment),
    st.sampled_from(["http", "https", "HTTP", "Https"]),
    st.sampled_from(["example.com", "EXAMPLE.com", "news.example.org", "café.fr"]),
    st.sampled_from(["", ":80", ":443", ":8080"]),
    st.text(alphabet="abcXYZ/%-._~20", max_size=20),
    st.lists(st.sampled_from(["a=1", "b=2", "utm_source=x", "fbclid=z", "q=%c3%a9", "x", "at_medium=rss", "k="]),
             max_size=5),
    st.sampled_from(["", "#frag", "#!/story"]),
)


@given(urls)
def test_canonical_url_is_idempotent_and_drops_tracking(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert "utm_" not in once and "fbclid" not in once and "at_medium" not in once
    assert "#frag" not in once


@given(st.text(max_size=60), st.text(max_size=60) | st.none(), st.text(max_size=60))
def test_article_id_is_always_32_hex_digits(guid: str, link: str | None, title: str) -> None:
    value = article_id(guid or None, link, title, None)
    assert len(value) == 32 and int(value, 16) >= 0
