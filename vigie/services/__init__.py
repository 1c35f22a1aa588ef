"""The embedded services Vigie runs on one machine: Redis and Elasticsearch, on loopback."""

from __future__ import annotations

from conf.settings import Settings
from vigie.services.elasticsearch_server import ElasticsearchService
from vigie.services.errors import ServiceError
from vigie.services.redis_server import RedisService

__all__ = ["ElasticsearchService", "RedisService", "ServiceError", "embedded_services"]


def embedded_services(settings: Settings) -> tuple[RedisService, ElasticsearchService]:
    """The two services as configured, Redis first (the order they start in)."""
    redis = RedisService(
        home=settings.home,
        host=settings.redis_host,
        port=settings.redis_port,
        timeout=settings.service_timeout,
    )
    elasticsearch = ElasticsearchService(
        home=settings.home,
        dist=settings.es_dist_dir,
        host=settings.es_host,
        port=settings.es_port,
        heap=settings.es_heap,
        java_home=settings.java_home,
        user=settings.es_user,
        timeout=settings.service_timeout,
    )
    return redis, elasticsearch
