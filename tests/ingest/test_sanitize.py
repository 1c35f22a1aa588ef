"""ingest.sanitize: nothing executable survives, links still work out of context."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingest.sanitize import plain_text, sanitize_html
from tests.support.html import assert_safe_html

BASE = "https://news.example.org/2024/05/feed.xml"


def test_scripts_styles_and_frames_go_with_their_content() -> None:
    html = ("<p>keep</p><script>alert(1)</script><style>p{}</style><iframe src='https://x.org'>fallback</iframe>"
            "<object data='a.swf'>obj</object><embed src='a.swf'><noscript>ns</noscript><svg><script>2</script></svg>")
    assert sanitize_html(html, BASE) == "<p>keep</p>"


def test_event_handlers_and_styles_are_removed() -> None:
    out = sanitize_html('<p onclick="x()" style="position:fixed">t<img src="a.png" onerror="y()"></p>', BASE)
    assert out == '<p>t<img src="https://news.example.org/2024/05/a.png"></p>'


def test_only_web_and_mail_urls_are_kept() -> None:
    html = ('<a href="javascript:alert(1)">j</a><a href=" JaVaScRiPt:alert(1)">k</a>'
            '<a href="data:text/html,<script>x</script>">d</a><img src="data:image/png;base64,AAAA">'
            '<a href="vbscript:x">v</a><a href="mailto:a@b.org">m</a><a href="https://ok.org/">ok</a>')
    out = sanitize_html(html, BASE)
    assert "javascript" not in out.lower() and "data:" not in out and "vbscript" not in out
    assert 'href="mailto:a@b.org"' in out and 'href="https://ok.org/"' in out
    assert_safe_html(out)


def test_forms_are_unwrapped() -> None:
    out = sanitize_html('<form action="https://evil.org/"><input name="p">Text<button>Go</button></form>', BASE)
    assert out == "Text"


def test_relative_urls_are_resolved_against_the_base() -> None:
    out = sanitize_html('<a href="../x.html">x</a><a href="/y">y</a><img src="//cdn.org/i.png">', BASE)
    assert 'href="https://news.example.org/2024/x.html"' in out
    assert 'href="https://news.example.org/y"' in out and 'src="https://cdn.org/i.png"' in out
    assert 'rel="noopener noreferrer"' in out


def test_without_a_usable_base_relative_urls_are_dropped() -> None:
    for base in (None, "file:///etc/", "not a url"):
        out = sanitize_html('<a href="/y">y</a><a href="https://ok.org/">ok</a>', base)
        assert out == '<a rel="noopener noreferrer">y</a><a href="https://ok.org/" rel="noopener noreferrer">ok</a>'


def test_text_and_entities_survive() -> None:
    assert sanitize_html("Tom &amp; Jerry &lt;3 <b>é</b>", BASE) == "Tom &amp; Jerry &lt;3 <b>é</b>"
    assert sanitize_html("", BASE) == ""


def test_plain_text_of_markup() -> None:
    assert plain_text("  <b>Bold</b> &amp; <i>it</i>\n<script>x()</script> a &lt; b ") == "Bold & it a < b"
    assert plain_text("a < b") == "a < b"


FRAGMENTS = ["<script>", "</script>", "<img src=x onerror=alert(1)>", "<a href='javascript:x'>", "<svg onload=x>",
             "<iframe src=//x>", "<p>", "text", "&lt;", "<style>", "<!--", "-->", "<math>", "<a href=\"java\nscript:x\">",
             "<object>", "<base href='javascript:x'>", "<meta http-equiv=refresh content='0;url=javascript:x'>",
             "<form>", "<input onfocus=x autofocus>", "<details open ontoggle=x>", "\"", "'", ">", "<a href=/rel>"]


@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=10), max_size=25))
def test_nothing_executable_survives_any_mix(parts: list[str]) -> None:
    assert_safe_html(sanitize_html("".join(parts), BASE))
