"""The Celery application: broker, delivery guarantees and queues.

Delivery guarantees: a task is acknowledged only when it has finished (``acks_late``) and is given back
to the queue when its worker dies (``reject_on_worker_lost``); a worker takes one task at a time
(``prefetch_multiplier=1``), so a killed worker loses at most the tasks it was running, and those come
back after ``visibility_timeout``. Tasks are idempotent (documents are written by article id,
notifications by (alert, article)), so a second delivery changes nothing.
"""

from __future__ import annotations

import logging
import os
import time
import warnings

from celery import Celery
from celery.signals import setup_logging, worker_init, worker_process_init

from conf.logs import configure_logging, log_event
from conf.settings import Settings, load_settings
from index.mappings import IndexLayout, use_layout
from worker.queues import ANALYZE_QUEUE, INDEX_QUEUE, NOTIFY_QUEUE, STORY_CONSUMER, STORY_QUEUE
from worker.runtime import runtime

log = logging.getLogger("vigie.worker")

#: How long kombu's restore mutex outlives a worker killed while holding it (seconds).
RESTORE_MUTEX_SECONDS = 30


def create_app(settings: Settings) -> Celery:
    app = Celery("vigie", broker=settings.redis_url, include=["worker.tasks", "worker.alert_tasks"])
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=ANALYZE_QUEUE,
        # Prefork, replacing a dead pool process within half a second (worker.pool); `--pool solo` (the story
        # consumer) overrides it.
        worker_pool="worker.pool:TaskPool",
        task_routes={
            "vigie.index_articles": {"queue": INDEX_QUEUE},
            "vigie.write_staged": {"queue": INDEX_QUEUE},
            "vigie.evaluate_alerts": {"queue": INDEX_QUEUE},
            "vigie.deliver_notification": {"queue": NOTIFY_QUEUE},
            "vigie.redeliver_notifications": {"queue": NOTIFY_QUEUE},
            "vigie.redeliver_digests": {"queue": NOTIFY_QUEUE},
            "vigie.send_digests": {"queue": NOTIFY_QUEUE},
            "vigie.send_digest": {"queue": NOTIFY_QUEUE},
            "vigie.sweep_notifications": {"queue": NOTIFY_QUEUE},
            # Story assignment: one single-process consumer (worker.story_tasks).
            "vigie.assign_story_features": {"queue": STORY_QUEUE},
            "vigie.assign_stories": {"queue": STORY_QUEUE},
        },
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            # Look for the tasks of dead workers every 10 s (kombu's default is every 100 s), so one
            # comes back about ``visibility_timeout`` after its worker died, not minutes later.
            "unacked_restore_interval": 10,
            "unacked_restore_throttle": 1,
            # A restore runs under a Redis mutex that expires after 300 s by default: a worker killed
            # while it held it (kill -9, an out-of-memory kill) stopped every other worker's restores,
            # and a dead worker's tasks came back five minutes late. A restore takes milliseconds.
            "unacked_mutex_expire": RESTORE_MUTEX_SECONDS,
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a Redis restart must not end the worker
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        enable_utc=True,
    )
    app.conf.vigie_settings = settings
    use_layout(IndexLayout(shards=settings.es_shards, replicas=settings.es_replicas))
    return app


#: The app `celery -A worker.app worker` runs; its settings come from the environment.
app = create_app(load_settings())


@setup_logging.connect
def _configure_logging(**_: object) -> None:
    """Vigie's key=value log lines in the worker too (Celery then leaves logging alone); Python
    warnings (Celery's "running as root") become log lines too, not loose text on stderr."""
    configure_logging(app.conf.vigie_settings.log_level)


def _warning_as_log_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                         file: object = None, line: str | None = None) -> None:
    """A Python warning as one Vigie log line (Celery's about running as root is a paragraph, and
    comes before Celery sets logging up: logging is configured here then)."""
    if not logging.getLogger().handlers:
        configure_logging(app.conf.vigie_settings.log_level)
    log_event(logging.getLogger("vigie.worker"), "worker.warning", logging.WARNING, category=category.__name__,
              text=" ".join(str(message).split()), source=f"{filename}:{lineno}")


# From the import on: Celery warns (running as root) before it sets logging up.
warnings.showwarning = _warning_as_log_line


@worker_init.connect
def _load_in_parent(sender: object = None, **_: object) -> None:
    """Load what every pool process reads and never changes in the main worker process, before the
    pool forks: the entity knowledge base (about 60 MB) and, unless VIGIE_WORKER_LOAD_MODELS=children,
    the spaCy models, lingua's detector and the lemma tables. The children share these pages
    copy-on-write, and a child that replaces a dead one is ready at once (no model to load: Celery
    kills a child that is not up within 4 s). gc.freeze keeps the collector from touching (and so
    copying) them. Nothing here opens a connection: Redis, Elasticsearch and HTTP clients are made
    by each child on first use (worker.runtime)."""
    import gc

    from ingest.entity_kb import default_kb, use_cache

    if str(getattr(sender, "hostname", "")).startswith(STORY_CONSUMER):
        return  # the story consumer analyses nothing: features arrive computed
    settings = app.conf.vigie_settings
    configure_logging(settings.log_level)  # Celery sets logging up after this signal
    started = time.perf_counter()
    use_cache(settings.cache_dir)  # built once per installation, read by every worker start
    default_kb()
    if settings.worker_load_models == "parent":
        runtime(settings).analyzer.preload()
    gc.freeze()
    log_event(log, "worker.loaded", where=settings.worker_load_models,
              languages=",".join(settings.models), seconds=round(time.perf_counter() - started, 2))


@worker_process_init.connect
def _child_ready(sender: object = None, **_: object) -> None:
    """Each pool process: load the models here only when the parent did not (``models_loaded`` in
    the ready line says how many this process had to load itself); not in the story consumer, whose
    solo pool sends this too: it analyses nothing."""
    if str(sender or "").startswith(STORY_CONSUMER):
        return
    started = time.perf_counter()
    loaded = runtime(app.conf.vigie_settings).analyzer.preload()
    log_event(log, "worker.process_ready", pid=os.getpid(), models_loaded=loaded,
              seconds=round(time.perf_counter() - started, 3))
