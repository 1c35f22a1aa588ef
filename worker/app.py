"""The Celery application: broker, delivery guarantees and queues.

Delivery guarantees: a task is acknowledged only when it has finished (``acks_late``) and is given back
to the queue when its worker dies (``reject_on_worker_lost``); a worker takes one task at a time
(``prefetch_multiplier=1``), so a killed worker loses at most the tasks it was running, and those come
back after ``visibility_timeout``. Tasks are idempotent (documents are written by article id,
notifications by (alert, article)), so a second delivery changes nothing.
"""

from __future__ import annotations

import logging
import warnings

from celery import Celery
from celery.signals import setup_logging, worker_init, worker_process_init

from conf.logs import configure_logging, log_event
from conf.settings import Settings, load_settings
from index.mappings import IndexLayout, use_layout
from worker.queues import ANALYZE_QUEUE, INDEX_QUEUE, NOTIFY_QUEUE, STORY_CONSUMER, STORY_QUEUE
from worker.runtime import runtime



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
        task_routes={
            "vigie.index_articles": {"queue": INDEX_QUEUE},
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
def _load_knowledge_base(sender: object = None, **_: object) -> None:
    """Load the entity knowledge base (about 60 MB) in the main worker process, before the pool
    forks: its children share the pages instead of each building its own copy. gc.freeze keeps the
    collector from touching (and so copying) them."""
    import gc

    from ingest.entity_kb import default_kb

    if str(getattr(sender, "hostname", "")).startswith(STORY_CONSUMER):
        return  # the story consumer analyses nothing: features arrive computed

    default_kb()
    gc.freeze()


@worker_process_init.connect
def _load_models(sender: object = None, **_: object) -> None:
    """Load the spaCy models when a pool process starts, not when its first article arrives (not in
    the story consumer, whose solo pool sends this too: it analyses nothing)."""
    if str(sender or "").startswith(STORY_CONSUMER):
        return
    analyzer = runtime(app.conf.vigie_settings).analyzer
    for language in app.conf.vigie_settings.models:
        analyzer.pipeline(language)
