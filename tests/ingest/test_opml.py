"""ingest.opml: folders (nested outlines) become feed tags, repeated URLs are reported, and a rendered
list reads back with the same feeds in the same folders."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from ingest.opml import Subscription, read_opml, render_opml

NESTED = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>Reader</title></head><body>
  <outline text="News" title="News">
    <outline text="World">
      <outline type="rss" text="Le Wire" xmlUrl="https://wire.example.org/rss.xml"/>
    </outline>
    <outline type="rss" text="Local paper" xmlUrl="https://local.example.org/feed"/>
  </outline>
  <outline text="Tech">
    <outline type="rss" text="Wire again" xmlUrl="https://wire.example.org/rss.xml"/>
  </outline>
  <outline type="rss" text="Loose" xmlUrl="https://loose.example.org/atom"/>
</body></opml>"""


def test_folders_become_tags_and_nested_folders_are_paths() -> None:
    document = read_opml(NESTED, "reader.opml")
    by_url = {sub.url: sub for sub in document.subscriptions}
    assert list(by_url) == ["https://wire.example.org/rss.xml", "https://local.example.org/feed",
                            "https://loose.example.org/atom"]
    assert by_url["https://wire.example.org/rss.xml"].tags == ("News/World", "Tech")
    assert by_url["https://wire.example.org/rss.xml"].name == "Le Wire"
    assert by_url["https://local.example.org/feed"].tags == ("News",)
    assert by_url["https://loose.example.org/atom"].tags == ()


def test_a_url_listed_twice_is_reported_as_a_duplicate_by_name() -> None:
    document = read_opml(NESTED, "reader.opml")
    assert [(sub.url, sub.name, sub.tags) for sub in document.duplicates] == [
        ("https://wire.example.org/rss.xml", "Wire again", ("Tech",))]


def test_round_trip_keeps_the_folders() -> None:
    first = read_opml(NESTED, "reader.opml").subscriptions
    rendered = render_opml(first)
    assert '<outline text="News" title="News">' in rendered and '<outline text="World" title="World">' in rendered
    again = read_opml(rendered.encode(), "export")
    assert sorted((s.url, s.name, s.tags) for s in again.subscriptions) == sorted(
        (s.url, s.name, s.tags) for s in first)
    # a feed in two folders appears in both, as feed readers export it; read back, that is one feed
    assert rendered.count("https://wire.example.org/rss.xml") == 2
    assert [sub.url for sub in again.duplicates] == ["https://wire.example.org/rss.xml"]


_folder = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "Zs", "P"), exclude_characters="/"),
                  min_size=1, max_size=12).map(lambda text: " ".join(text.split())).filter(bool)


@settings(max_examples=60)
@given(st.lists(st.tuples(st.lists(st.lists(_folder, min_size=1, max_size=3).map("/".join), max_size=2,
                                   unique=True),
                          st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")),
                                  min_size=1, max_size=20).map(lambda text: " ".join(text.split())).filter(bool)),
                min_size=1, max_size=6))
def test_any_folders_and_names_survive_a_round_trip(feeds: list[tuple[list[str], str]]) -> None:
    subs = [Subscription(url=f"https://feeds.example.org/{number}.xml", name=name, tags=tuple(tags))
            for number, (tags, name) in enumerate(feeds)]
    again = read_opml(render_opml(subs).encode(), "export").subscriptions
    assert {s.url: (s.name, set(s.tags)) for s in again} == {s.url: (s.name, set(s.tags)) for s in subs}


def test_characters_xml_cannot_carry_are_dropped_not_fatal() -> None:
    rendered = render_opml([Subscription(url="https://x.example.org/f", name="bell\x07 name", tags=("a\x01b",))])
    assert [(s.name, s.tags) for s in read_opml(rendered.encode(), "export").subscriptions] == [("bell name", ("ab",))]
