"""The alert store the CLI and the HTTP API change rules through: topics checked against the rules in
use, the query's lemma variants computed as `vigie search` does, the workers told of every change
(``state.alert_version``)."""

from __future__ import annotations

from conf.limits import alert_limits, webhook_limits
from conf.settings import Settings
from index.alert_store import AlertStore
from index.client import Elasticsearch, connect
from index.search import LemmaVariants
from ingest.topic_rules import load_rules
from ingest.transport import webhook_policy
from state.alert_version import bump_rules_version
from state.client import Redis
from state.client import connect as connect_redis
from vigie.queries import lemma_variants as query_lemmas


def alert_store_for(settings: Settings, client: Redis | None = None, *, es: Elasticsearch | None = None,
                    lemma_variants: LemmaVariants | None = None) -> AlertStore:
    """``es`` and ``lemma_variants``: the caller's own (the API shares its client and the tables it
    loaded); otherwise the lemma tables are loaded when a rule with words is stored."""
    redis_client = client or connect_redis(settings.redis_url)
    return AlertStore(
        es or connect(settings.es_url), settings.index_prefix,
        known_topics=[topic.name for topic in load_rules(settings.topics_file).topics],
        lemma_variants=lemma_variants or query_lemmas(settings.query_lemma_languages),
        on_change=lambda: bump_rules_version(redis_client),
        webhook_policy=webhook_policy(webhook_limits(settings)),
        limits=alert_limits(settings),
    )
