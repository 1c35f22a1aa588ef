"""ingest.feeds: feeds in every shape the web serves them, hostile ones included, to FeedItems."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import tracemalloc
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import FeedError
from ingest.feeds import ParsedFeed, parse_feed
from ingest.identity import article_id
from tests.ingest import torture_server as docs
from tests.support.html import assert_safe_html
from tests.support.processes import ROOT

FEED_URL = "http://news.example.org/dir/feed.xml"


def parse(body: bytes, charset: str | None = None, base_url: str | None = None) -> ParsedFeed:
    return parse_feed(body, feed_url=FEED_URL, content_type_encoding=charset, base_url=base_url)


def feed_error(body: bytes, charset: str | None = None) -> FeedError:
    with pytest.raises(FeedError) as caught:
        parse(body, charset)
    return caught.value


def everything(feed: ParsedFeed) -> str:
    """All text the parse produced, to search for what must never come out."""
    fields = [feed.title, feed.link or "", *feed.warnings]
    for item in feed.items:
        fields += [item.title, item.summary, item.content or "", item.url or "", item.guid or "", item.author or ""]
    return "\n".join(fields)


# --- formats -----------------------------------------------------------------------------------------


def test_rss20_items_are_typed_and_complete() -> None:
    feed = parse(docs.rss20(3))
    assert (feed.title, feed.link, feed.language, feed.format) == (
        "Torture RSS", "http://news.example.org/", "en", "rss20")
    first = feed.items[0]
    assert first.title == "Item 1" and first.url == "http://news.example.org/articles/1.html"
    assert first.guid == "item-1" and first.article_id == article_id("item-1", None, None, None)
    assert first.summary == "<p>Summary 1</p>" and first.content is None
    assert first.published == datetime(2024, 5, 5, 23, 0, tzinfo=UTC)  # 01:00 +0200
    assert first.feed_url == FEED_URL and first.language_hint == "en"
    assert feed.warnings == ()


def test_atom_with_content_and_language() -> None:
    feed = parse(docs.ATOM)
    assert feed.format == "atom10" and feed.title == "Torture Atom"
    one, two = feed.items
    assert one.guid == "tag:atom.example.org,2024:1" and one.url == "http://atom.example.org/1"
    assert one.language_hint == "fr"
    assert two.content == "<p>Deux, en entier</p>"  # full text present: no page fetch needed
    assert two.summary == two.content  # a summary is derived when the feed has only content
    assert two.published == datetime(2024, 5, 5, 7, 30, tzinfo=UTC)


def test_dates_are_read_without_feedparser_s_deprecated_fallback() -> None:
    """An unreadable <pubDate> gives no date (feedparser keeps ``published_parsed`` None): asking for
    ``updated_parsed`` then went through feedparser's deprecated mapping to ``published_parsed``, which warns
    and is to be removed. An Atom entry with only <updated> still takes it as its date."""
    rss = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>http://x.example/</link>'
           b"<item><title>A</title><guid>a</guid><pubDate>not a date</pubDate></item></channel></rss>")
    atom = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
            b"<entry><title>A</title><id>a</id><updated>2024-05-05T07:30:00Z</updated></entry></feed>")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        undated, = parse(rss).items
        updated, = parse(atom).items
    assert undated.published is None
    assert updated.published == datetime(2024, 5, 5, 7, 30, tzinfo=UTC)


def test_rss10_rdf() -> None:
    feed = parse(docs.RSS10)
    assert feed.format == "rss10" and [i.title for i in feed.items] == ["RDF one", "RDF two"]
    assert feed.items[0].published == datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def test_rss091_with_netscape_doctype_and_html_entities() -> None:
    feed = parse(docs.RSS091)
    assert feed.format.startswith("rss091")
    assert feed.items[0].title == "Café crème" and feed.language == "fr"


def test_an_empty_but_valid_feed_is_not_an_error() -> None:
    feed = parse(b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>')
    assert feed.items == () and feed.title == "Quiet" and feed.warnings == ()


# --- not feeds ---------------------------------------------------------------------------------------


def test_html_page_is_not_a_feed_and_the_advertised_feed_is_named() -> None:
    error = feed_error(docs.HTML_PAGE)
    assert error.kind == "not-a-feed" and not error.transient
    assert "HTML page" in str(error) and "http://news.example.org/feed/rss20" in str(error)
    assert FEED_URL in str(error) and error.feed_url == FEED_URL


@pytest.mark.parametrize(("body", "words"), [
    (b"", "empty"),
    (b"   \n\t ", "empty"),
    (docs.garbage(), "binary"),
    (b'{"version": "https://jsonfeed.org/version/1.1"}', "JSON"),
    (b"just some text, no markup", "not XML"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><item>x</item></svg>', "<svg>"),
])
def test_non_feeds_are_not_a_feed(body: bytes, words: str) -> None:
    error = feed_error(body)
    assert error.kind == "not-a-feed" and words in str(error)


def test_a_body_naming_a_local_file_is_never_read(tmp_path: Path) -> None:
    # feedparser.parse(bytes) tries bytes as a file name first; a feed body must never be one.
    secret = tmp_path / "secret.xml"
    secret.write_bytes(docs.rss20(1, channel_title=docs.SECRET_MARKER))
    error = feed_error(str(secret).encode())
    assert error.kind == "not-a-feed" and docs.SECRET_MARKER not in str(error)


def test_broken_feed_with_nothing_readable_is_malformed() -> None:
    error = feed_error(b'<rss version="2.0"><channel><title>Cut before any item')
    assert error.kind == "malformed-feed" and "no readable item" in str(error)


# --- XML attacks -------------------------------------------------------------------------------------


def test_billion_laughs_is_defused_fast_and_small() -> None:
    tracemalloc.start()
    feed = parse(docs.BILLION_LAUGHS)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5_000_000  # fully expanded it would be 3 GB of "lol": it never was, so it was fast too
    assert len(everything(feed)) < 2_000 and "lollol" not in everything(feed)
    assert feed.items[0].url == "http://laughs.example.org/1"
    assert any("DOCTYPE removed" in warning for warning in feed.warnings)


def test_xxe_never_reads_a_local_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(docs.SECRET_MARKER)
    feed = parse(docs.xxe(str(secret)))
    assert docs.SECRET_MARKER not in everything(feed)
    assert [item.url for item in feed.items] == ["http://xxe.example.org/1"]
    assert "root:" not in everything(parse(docs.xxe("/etc/passwd")))


def test_external_dtd_is_never_fetched() -> None:
    # A listening socket that accepts nothing itself: a connection the parser opened to load the DTD
    # would complete in the kernel and wait in the backlog, where accept() finds it.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        feed = parse(docs.xxe_parameter(f"http://127.0.0.1:{listener.getsockname()[1]}/evil.dtd"))
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    assert feed.items[0].url == "http://xxe.example.org/2" and "root:" not in everything(feed)


def test_hostile_markup_is_sanitised_everywhere() -> None:
    feed = parse(docs.HOSTILE)
    item = feed.items[0]
    text = everything(feed).lower()
    for forbidden in ("<script", "onclick", "onerror", "javascript:", "<iframe", "<object", "<embed", "<form",
                      "data:image", "<style", "position:fixed"):
        assert forbidden not in text, forbidden
    assert_safe_html(item.summary)
    assert item.title == "Hostile"  # the escaped <script> in the title is gone, the words stay
    assert item.url is None  # a javascript: link is no link
    assert 'href="http://ok.example.org/"' in item.summary
    assert '<img src="http://news.example.org/dir/x.png">' in item.summary


# --- charsets ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "charset"), [
    (docs.french_feed("windows-1252"), None),
    (docs.french_feed("ISO-8859-1"), None),  # read as windows-1252, as browsers do: ’ and œ survive
    (docs.french_feed(None), None),  # nothing declared, not UTF-8: sniffed
    (docs.french_feed(None), "ISO-8859-1"),  # only the HTTP header says it
    (docs.french_feed(None), "utf-8"),  # the header lies: the body is not UTF-8
    (docs.french_feed_utf8(), "iso-8859-1"),  # the header lies the other way: the body is UTF-8
    (docs.french_feed_utf8(), None),
    ("\ufeff".encode("utf-16-le") + docs.french_feed_utf8().decode().encode("utf-16-le"), None),
    (docs.french_feed_utf8().decode().encode("utf-16-be"), None),  # no BOM: recognised from "<"
    (b"\xef\xbb\xbf" + docs.french_feed_utf8(), "iso-8859-1"),  # a BOM beats the header
])
def test_french_accents_come_out_right(body: bytes, charset: str | None) -> None:
    feed = parse(body, charset)
    assert feed.items[0].title == docs.FRENCH_TITLE
    assert feed.items[0].summary == docs.FRENCH_SUMMARY
    assert feed.title == "Fil français"


# --- repairs -----------------------------------------------------------------------------------------


def test_truncated_feed_keeps_intact_items_and_warns() -> None:
    feed = parse(docs.TRUNCATED)
    assert [item.title for item in feed.items] == ["Whole one", "Whole two"]
    assert any("malformed XML" in w and "dropped" in w for w in feed.warnings)


def test_a_broken_item_in_the_middle_costs_only_that_item() -> None:
    body = (b'<rss version="2.0"><channel><title>T</title>'
            b"<item><title>one</title><link>http://x.org/1</link></item>"
            b"<item><title>two < three</title><link>http://x.org/2</link></item>"
            b"<item><title>four</title><link>http://x.org/4</link></item></channel></rss>")
    feed = parse(body)
    assert [item.title for item in feed.items] == ["one", "four"]
    assert "1 broken or truncated one(s) dropped" in feed.warnings[0]


def test_everyday_sloppiness_is_repaired_without_losing_items() -> None:
    body = (b'<rss version="2.0"><channel><title>Tom & Jerry &copy; 2024</title>'
            b"<item><title>Caf&eacute; &hellip; &bogus; \x0b&#1;</title><dc:creator>Ana</dc:creator>"
            b'<media:content url="http://x.org/i.jpg"/><link>http://x.org/1</link></item></channel></rss>')
    feed = parse(body)
    assert feed.title == "Tom & Jerry © 2024"
    assert feed.items[0].title == "Café … &bogus;" and feed.items[0].author == "Ana"
    assert any("without declaration: dc, media" in w for w in feed.warnings)


def test_junk_before_the_xml_is_skipped() -> None:
    feed = parse(docs.JUNK_PREFIX)
    assert len(feed.items) == 2 and any("junk" in w for w in feed.warnings)


# --- items -------------------------------------------------------------------------------------------


def test_duplicates_collapse_by_guid_and_canonical_link() -> None:
    feed = parse(docs.DUPLICATES)
    assert [item.title for item in feed.items] == ["First", "Tracked", "Other"]
    assert len({item.article_id for item in feed.items}) == 3
    assert any("2 duplicate" in w for w in feed.warnings)


def test_relative_links_are_made_absolute_against_where_the_feed_was_read() -> None:
    feed = parse(docs.RELATIVE, base_url="http://mirror.example.com/feeds/feed.xml")
    one, two = feed.items
    assert one.url == "http://mirror.example.com/feeds/articles/1.html"
    assert two.url == "http://mirror.example.com/abs/2.html"
    assert 'href="http://mirror.example.com/more.html"' in one.summary
    assert 'src="http://mirror.example.com/img/1.png"' in one.summary
    assert one.feed_url == FEED_URL  # items still belong to the feed as registered
    assert feed.link == "http://mirror.example.com/"


def test_xml_base_wins_for_links_and_content() -> None:
    item = parse(docs.XML_BASE).items[0]
    assert item.url == "http://cdn.example.net/news/2024/b1.html"
    assert 'href="http://cdn.example.net/news/x.html"' in (item.content or "")


def test_plain_text_summaries_stay_text() -> None:
    body = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>tag:x,1</id>'
            b'<title type="text">a &lt; b</title><summary type="text">5 &lt; 6 &lt;script&gt;</summary></entry></feed>')
    item = parse(body).items[0]
    assert item.title == "a < b" and item.summary == "5 &lt; 6 &lt;script&gt;"


def test_item_without_anything_identifying_is_skipped() -> None:
    feed = parse(b'<rss version="2.0"><channel><title>T</title><item></item>'
                 b"<item><title>Only a title</title></item></channel></rss>")
    assert [item.title for item in feed.items] == ["Only a title"]
    assert any("skipped" in w for w in feed.warnings)


def test_ids_are_stable_across_parses_and_charsets() -> None:
    first = [item.article_id for item in parse(docs.french_feed("windows-1252")).items]
    again = [item.article_id for item in parse(docs.french_feed_utf8()).items]
    assert first == again


def test_the_item_cap_bounds_a_feed_of_many_items() -> None:
    body = (b'<rss version="2.0"><channel><title>Many</title>'
            + b"".join(b"<item><title>t%d</title><link>http://x.org/%d</link></item>" % (i, i) for i in range(6000))
            + b"</channel></rss>")
    feed = parse(body)
    assert len(feed.items) == 5000 and any("more than 5,000 items" in w for w in feed.warnings)


@pytest.mark.parametrize("body", [
    b"<rss>" + b"<" * (4 * 1024 * 1024),
    b'<rss version="2.0"><channel>' + b"<item><title>x" * 300_000,
    b'<rss version="2.0"><channel><item><title>' + b"&a;" * 1_000_000,
    b'<rss version="2.0"><channel>' + b"<a/>" * 1_000_000 + b"</channel></rss>",
])
def test_pathological_documents_are_bounded(body: bytes) -> None:
    # feedparser's lenient parser took minutes on such input; Vigie must stay in seconds.
    started = time.perf_counter()
    with pytest.raises(FeedError) as caught:
        parse(body)
    assert caught.value.kind == "malformed-feed"
    assert time.perf_counter() - started < 10.0


# Measured in a fresh interpreter: in this process, once another test loaded the spaCy models, the peak
# resident set is already far above anything parsing needs, so a growth of it could never show. The child
# builds the feed, resets its own peak (``/proc/self/clear_refs``), parses, and reports the new peak.
MEMORY_PROBE = """
import gc, json, re
from ingest.feeds import parse_feed
from tests.ingest import torture_server as docs

def peak_kb():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+)", status.read()).group(1))

body = docs.big_valid_feed()
gc.collect()
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak resident set starts again from the current one
before = peak_kb()
feed = parse_feed(body, feed_url="http://news.example.org/dir/feed.xml")
print(json.dumps({"items": len(feed.items), "grown_mb": (peak_kb() - before) / 1024}))
"""


def test_a_nearly_10mb_feed_parses_within_memory() -> None:
    result = subprocess.run([sys.executable, "-c", MEMORY_PROBE], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    assert measured["items"] >= 4_000 and measured["grown_mb"] < 250, measured


# --- property-based ----------------------------------------------------------------------------------

SEEDS = [docs.rss20(4), docs.ATOM, docs.RSS10, docs.RSS091, docs.HOSTILE, docs.DUPLICATES, docs.RELATIVE,
         docs.french_feed("windows-1252"), docs.BILLION_LAUGHS, docs.xxe("/etc/passwd")]
NASTY = [b"<", b">", b"&", b"&lol;", b"]]>", b"<![CDATA[", b"<!--", b"</item>", b"<item>", b"<entry>", b"\x00",
         b"&#0;", b"&#xD800;", b'<!DOCTYPE x [<!ENTITY a "b">]>', b"<x:y>", b'"', b"\xff\xfe", b"\xe9", b"<?xml",
         b"</channel></rss>", b"<rss>", b"<feed>"]


@st.composite
def mutated_feeds(draw: st.DrawFn) -> bytes:
    body = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(body)))
        action = draw(st.sampled_from(["insert", "delete", "truncate", "flip", "duplicate"]))
        if action == "insert":
            body[position:position] = draw(st.sampled_from(NASTY) | st.binary(max_size=8))
        elif action == "delete":
            del body[position:position + draw(st.integers(1, 40))]
        elif action == "truncate":
            del body[position:]
        elif action == "flip" and position < len(body):
            body[position] = draw(st.integers(0, 255))
        elif action == "duplicate":
            body[position:position] = body[position:position + draw(st.integers(1, 200))]
    return bytes(body)


def check_outcome(body: bytes) -> None:
    started = time.perf_counter()
    try:
        feed = parse(body)
    except FeedError as error:
        assert error.kind in {"not-a-feed", "malformed-feed"} and FEED_URL in str(error)
        return
    finally:
        assert time.perf_counter() - started < 10.0  # as bounded as the pathological documents above
    ids = [item.article_id for item in feed.items]
    assert len(ids) == len(set(ids))
    assert "lollollol" not in everything(feed)
    for item in feed.items:
        for markup in (item.summary, item.content or ""):
            assert_safe_html(markup)
        assert item.feed_url == FEED_URL
        assert item.url is None or item.url.startswith(("http://", "https://"))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise_anything_but_feed_error(body: bytes) -> None:
    check_outcome(body)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_feeds())
def test_mutated_feeds_never_raise_anything_but_feed_error(body: bytes) -> None:
    check_outcome(body)
