"""Recent analyses in Redis, so that a wire copy analysed by any worker takes over its original's
mentions (ingest.reuse) instead of going through NER again.

Two kinds of keys, both expiring after ``ttl_seconds`` (VIGIE_REUSE_HOURS):
``vigie:reuse:band:<band key>`` holds the id of the last article analysed in full with that MinHash
band key; ``vigie:reuse:analysis:<article id>`` holds what ingest.reuse needs of its analysis (JSON).
A batch costs two MGETs to look up and one pipelined write to remember.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import redis

from ingest.fingerprint import bands
from ingest.reuse import ReusableAnalysis

BAND_PREFIX = "vigie:reuse:band:"
ANALYSIS_PREFIX = "vigie:reuse:analysis:"


class RecentAnalysesInRedis:
    def __init__(self, client: redis.Redis, ttl_seconds: float) -> None:
        self.redis = client
        self.ttl = max(1, int(ttl_seconds))

    def candidates(self, signatures: Sequence[str]) -> list[list[ReusableAnalysis]]:
        keys = [[BAND_PREFIX + key for key in bands(signature)] for signature in signatures]
        flat = [key for per_article in keys for key in per_article]
        if not flat:
            return [[] for _ in signatures]
        ids = iter(self.redis.mget(flat))
        wanted = [list(dict.fromkeys(value.decode() for value in (next(ids) for _ in per_article) if value))
                  for per_article in keys]
        unique = list(dict.fromkeys(article_id for per_article in wanted for article_id in per_article))
        stored = dict(zip(unique, self.redis.mget([ANALYSIS_PREFIX + article_id for article_id in unique]))) \
            if unique else {}
        return [[ReusableAnalysis.from_dict(json.loads(stored[article_id]))
                 for article_id in per_article if stored.get(article_id)] for per_article in wanted]

    def remember(self, analyses: Sequence[ReusableAnalysis]) -> None:
        if not analyses:
            return
        with self.redis.pipeline(transaction=False) as pipe:
            for analysis in analyses:
                pipe.set(ANALYSIS_PREFIX + analysis.article_id, json.dumps(analysis.to_dict(), ensure_ascii=False),
                         ex=self.ttl)
                for key in bands(analysis.signature):
                    pipe.set(BAND_PREFIX + key, analysis.article_id, ex=self.ttl)
            pipe.execute()
