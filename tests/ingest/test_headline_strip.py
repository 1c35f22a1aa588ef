"""A page's text does not repeat the headline: the article view and the snippets start with the text."""

from __future__ import annotations

from datetime import datetime, timezone

from conf.limits import FetchLimits
from ingest.articles import article_for
from ingest.extract import main_text, without_headline
from ingest.fetch import Fetcher
from ingest.models import FeedItem
from vigie.demo_feed import ARTICLE_PATH, DemoFeedServer, article_html, demo_story

LIMITS = FetchLimits(user_agent="Vigie tests", total_timeout=5.0)
HEADLINE = "Israel and Hezbollah agree to a ceasefire brokered by US and France"
BODY = ("Israel and Hezbollah agreed on Tuesday to a ceasefire that takes effect at dawn, the two sides said "
        "after weeks of talks.\nThe truce is to last sixty days while the army withdraws from the south.")


def test_a_first_line_that_is_the_headline_goes() -> None:
    assert without_headline(f"{HEADLINE}\n{BODY}", HEADLINE) == BODY


def test_case_and_punctuation_do_not_keep_it() -> None:
    shouted = HEADLINE.upper().replace("by US", "by US,") + " !"
    assert without_headline(f"\n{shouted}\n{BODY}", HEADLINE) == BODY


def test_a_headline_run_into_the_first_paragraph_is_cut_from_it() -> None:
    text = f"{HEADLINE} {BODY}"
    assert without_headline(text, HEADLINE) == BODY


def test_the_headline_side_of_a_page_title_counts() -> None:
    assert without_headline(f"{HEADLINE}\n{BODY}", f"{HEADLINE} - The Daily Example") == BODY


def test_a_text_that_does_not_open_with_the_headline_is_kept() -> None:
    assert without_headline(BODY, HEADLINE) == BODY
    # A short headline the text happens to begin with stays: it is the first words of a sentence.
    text = "Ceasefire talks resumed on Tuesday in Cairo with both delegations present."
    assert without_headline(text, "Ceasefire talks") == text


def test_a_text_that_is_only_the_headline_is_kept_whole() -> None:
    assert without_headline(HEADLINE, HEADLINE) == HEADLINE


def test_the_demo_page_is_stored_without_its_headline() -> None:
    """The path a real item takes: the demo feed's page is fetched, its text extracted, the <h1> dropped."""
    server = DemoFeedServer(0).start()
    try:
        story = demo_story()
        url = server.base_url + ARTICLE_PATH
        extracted = main_text(article_html(story).decode("utf-8"), url)
        assert extracted is not None and extracted.splitlines()[0] == story.title  # trafilatura keeps the <h1>
        item = FeedItem(article_id="demo", feed_url=server.feed_url, url=url, title=story.title,
                        summary=story.summary, published=datetime.now(timezone.utc), guid="urn:demo")
        with Fetcher(LIMITS) as fetcher:
            article = article_for(item, fetcher, fetched_at=datetime.now(timezone.utc))
    finally:
        server.stop()
    assert article.text_source == "page", article.fetch_error
    assert article.body.startswith("Le président turc Recep Tayyip Erdogan")
    assert story.title not in article.body


def test_the_demo_story_has_a_headline_not_its_first_sentence() -> None:
    story = demo_story()
    assert len(story.title) <= 90 and "Erdogan" in story.title and "Idleb" in story.title
    assert not story.paragraphs[0].startswith(story.title)
    assert story.summary.startswith("Le président turc")
