"""The write path's near-duplicate lookup with recent band keys in Redis (state.recent_bands) gives the
very clusters of the Elasticsearch-only lookup, on the real Redis and Elasticsearch: on a stream of
wire copies (one story with more copies than a band keeps), a re-delivered batch, a changed article,
and a batch whose worker died between its bulk write and its Redis record."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
import redis
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.store import ArticleStore
from ingest.fingerprint import RECENT_BAND_MEMBERS, RecentBandRecord, signature
from ingest.models import AnalyzedArticle
from state.recent_bands import RecentBandsInRedis
from tests.index.factories import analysed

pytestmark = pytest.mark.integration

STORIES = 14
WORDS = [f"w{number}" for number in range(900)]


def _story(rng: random.Random) -> list[str]:
    return [rng.choice(WORDS) for _ in range(rng.randint(90, 160))]


def _copy(words: list[str], rng: random.Random, edits: int) -> list[str]:
    """A wire copy: a credit line, ``edits`` words changed, sometimes the last sentence cut."""
    copy = ["afp", rng.choice(WORDS)] + list(words)
    for _ in range(edits):
        copy[rng.randrange(len(copy))] = rng.choice(WORDS)
    return copy[: len(copy) - rng.choice((0, 0, 12))]


def _stream(seed: int, busy_story: bool) -> list[AnalyzedArticle]:
    """Wire copies of STORIES stories and unrelated articles. ``busy_story``: story 0 is one article in
    three, barely edited (more copies in its bands than a band keeps); else one in four, edited as much
    as the others (copies of one story in different clusters, whose choice is what can go wrong)."""
    rng = random.Random(seed)
    stories = [_story(rng) for _ in range(STORIES)]
    items: list[AnalyzedArticle] = []
    for number in range(104):
        # story 0 is everywhere (more copies than a band keeps); the others now and then
        story = 0 if number % (3 if busy_story else 4) == 0 else rng.randrange(STORIES)
        if rng.random() < 0.15:
            words = _story(rng)  # an unrelated article
        else:
            edits = (0, 1, 2) if busy_story and story == 0 else (1, 3, 6, 10, 16)
            words = _copy(stories[story], rng, edits=rng.choice(edits))
        text = " ".join(words)
        items.append(analysed(f"a{number:03d}-{rng.randrange(1000):03d}", text=text, signature=signature(text),
                              feed=f"http://127.0.0.1/feed/{number % 6}.xml"))
    return items


class _DiesBeforeRecording:
    """Redis-backed recent bands whose worker is killed after the bulk write of chosen batches."""

    def __init__(self, inner: RecentBandsInRedis) -> None:
        self.inner = inner
        self.lookup = inner.lookup
        self.forget = inner.forget
        self.die = False

    def record(self, record: RecentBandRecord) -> None:
        if not self.die:
            self.inner.record(record)


def _clusters(store: ArticleStore, ids: Sequence[str]) -> dict[str, str]:
    found = {}
    for article_id in ids:
        document = store.get(article_id)
        assert document is not None, article_id
        found[article_id] = document["cluster_id"]
    return found


@pytest.mark.parametrize("busy_story", [False, True], ids=["copies-edited", "band-overflows"])
def test_recent_band_keys_give_the_clusters_of_the_elasticsearch_lookup(
        es: Elasticsearch, settings: Settings, redis_client: redis.Redis, busy_story: bool) -> None:
    items = _stream(15, busy_story)
    plain = ArticleStore(es, f"{settings.index_prefix}-es")
    recent = _DiesBeforeRecording(RecentBandsInRedis(redis_client, f"{settings.index_prefix}-redis", 3600))
    backed = ArticleStore(es, f"{settings.index_prefix}-redis", recent=recent)
    plain.ensure_ready()
    backed.ensure_ready()
    batches = [items[i: i + 8] for i in range(0, len(items), 8)]
    changed = analysed(items[40].article.article_id, text=" ".join(_story(random.Random(99))),
                       signature=signature(" ".join(_story(random.Random(99)))))
    # re-delivered batches (the same batch twice; the batch a dead worker wrote, retried) and a
    # changed article (same id, another text: another signature)
    batches[7:7] = [batches[6]]
    batches[12:12] = [[changed, *batches[11][:3]]]
    dies = {3, 9}
    retried = {4: batches[3], 10: batches[9]}
    deleted = [batches[0][1].article.article_id]
    deleted_feed = batches[2][1].article.feed_url
    stream = []
    for number, batch in enumerate(batches):
        stream.append((number, batch))
        if number in retried:
            stream.append((-1, retried[number]))
    from_redis = fullest = 0
    for number, batch in stream:
        expected = plain.index_batch(batch)
        plain.refresh()  # what the Elasticsearch lookup sees of the previous batch (Redis sees it at once)
        recent.die = number in dies
        got = backed.index_batch(batch)
        backed.refresh()
        assert got.indexed == expected.indexed
        assert {i: d.cluster_id for i, d in got.documents.items()} == \
               {i: d.cluster_id for i, d in expected.documents.items()}, f"batch {number}"
        from_redis += got.recent_lookups
        fullest = max(fullest, max((redis_client.zcard(key) for key in redis_client.scan_iter(
            f"vigie:dup:{settings.index_prefix}-redis:band:*", count=1000)), default=0))
        if number in (5, len(batches) - 2):  # an article deleted (vigie articles delete), then a feed's
            if number == 5:
                assert plain.delete(deleted[0]) and backed.delete(deleted[0])
            else:
                assert plain.delete_feed_articles(deleted_feed) == backed.delete_feed_articles(deleted_feed) > 0
            plain.refresh()
            backed.refresh()
    ids = [article_id for article_id in dict.fromkeys(item.article.article_id for item in items)
           if plain.get(article_id) is not None]
    assert plain.count() == backed.count() == len(ids)  # one document per article, retries included
    clusters = _clusters(backed, ids)
    assert clusters == _clusters(plain, ids)
    # the stream has real wire copies, and the band of story 0 overflowed what Redis keeps of a band
    assert sum(1 for article_id, cluster in clusters.items() if cluster != article_id) > 30
    if busy_story:
        assert fullest == RECENT_BAND_MEMBERS
    # and Redis answered for most articles (not Elasticsearch under another name)
    assert from_redis > len(items) // 2, from_redis
