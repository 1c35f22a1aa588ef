"""`GET /health` and `GET /metrics`: for people, load balancers and Prometheus."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from index.store import ArticleStore
from state.deadletter import DLQ_KEY
from vigie import __version__
from vigie.api.context import ApiContext, context
from vigie.api.metrics import CONTENT_TYPE
from vigie.api.schemas import Health
from worker.queues import QUEUES

router = APIRouter(tags=["system"])


def _timed(check: Any) -> tuple[Any, float, str | None]:
    began = time.perf_counter()
    try:
        value, error = check(), None
    except Exception as failure:  # noqa: BLE001 - a health check reports, it does not raise
        value, error = None, f"{type(failure).__name__}: {failure}"
    return value, round((time.perf_counter() - began) * 1000, 1), error


def health_report(ctx: ApiContext) -> dict[str, Any]:
    def queue_depths() -> list[int]:
        with ctx.redis.pipeline(transaction=False) as pipe:
            for queue in QUEUES:
                pipe.llen(queue)
            pipe.hlen(DLQ_KEY)
            return [int(value) for value in pipe.execute()]

    depths, redis_ms, redis_error = _timed(queue_depths)  # one round trip: the ping too
    queues = dict(zip(QUEUES, depths)) if depths else {}
    dead_letters = depths[-1] if depths else None

    health_store = ArticleStore(ctx.health_es, ctx.prefix)
    reachable, es_ms, _ = _timed(health_store.ping)
    documents, es_error = None, None if reachable else f"Elasticsearch at {ctx.settings.es_url} does not answer"
    if reachable:
        documents, _, count_error = _timed(lambda: ctx.store().count())
        if count_error:
            es_error = count_error

    workers, worker_error = ctx.alive_workers() if redis_error is None else ([], "Redis is unavailable")
    down = redis_error is not None or es_error is not None
    return {
        "status": "down" if down else ("ok" if workers else "degraded"),
        "version": __version__,
        "redis": {"ok": redis_error is None, "latency_ms": redis_ms, "error": redis_error},
        "elasticsearch": {"ok": es_error is None, "latency_ms": es_ms, "error": es_error, "documents": documents},
        "workers": {"ok": bool(workers), "alive": workers,
                    "error": worker_error or (None if workers else "no Celery worker answered a ping")},
        "queues": queues,
        "dead_letters": dead_letters,
        "lemmas_loaded": ctx.lemmas_loaded,
        "entities_loaded": ctx.entities_loaded,
    }


@router.get("/health", response_model=Health,
            responses={503: {"model": Health, "description": "Redis or Elasticsearch is unreachable."}},
            summary="Redis, Elasticsearch, workers and queues")
def health(ctx: ApiContext = Depends(context)) -> Any:
    """200 when Redis and Elasticsearch answer (``status`` is ``degraded`` when no worker does), else 503."""
    report = health_report(ctx)
    if report["status"] == "down":
        return JSONResponse(Health.model_validate(report).model_dump(), status_code=503)
    return report


@router.get("/metrics", response_class=Response, summary="Prometheus metrics",
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus text exposition format."}})
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)
