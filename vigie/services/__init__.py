"""The embedded services Vigie runs on one machine: Redis and Elasticsearch, on loopback."""

from __future__ import annotations

from conf.settings import Settings
from vigie.services.elasticsearch_cluster import ClusterNode, ElasticsearchCluster, node_name
from vigie.services.elasticsearch_server import ElasticsearchService
from vigie.services.errors import ServiceError
from vigie.services.redis_server import RedisService

__all__ = ["ElasticsearchCluster", "ElasticsearchService", "RedisService", "ServiceError", "embedded_services",
           "local_cluster"]


def embedded_services(settings: Settings) -> tuple[RedisService, ElasticsearchService | ElasticsearchCluster]:
    """The two services as configured, Redis first (the order they start in). With VIGIE_ES_NODES
    above one, Elasticsearch is a local cluster of that many nodes."""
    redis = RedisService(
        home=settings.home,
        host=settings.redis_host,
        port=settings.redis_port,
        timeout=settings.service_timeout,
    )
    if settings.es_nodes > 1:
        return redis, local_cluster(settings)
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


def local_cluster(settings: Settings) -> ElasticsearchCluster:
    """VIGIE_ES_NODES nodes on the ports of VIGIE_ES_URL (or its port and the next ones), transport on
    VIGIE_ES_TRANSPORT_PORT and the next ones."""
    from urllib.parse import urlsplit

    ports = [urlsplit(url).port or 9200 for url in settings.es_urls][: settings.es_nodes]
    if len(ports) < settings.es_nodes:
        raise ServiceError(
            "elasticsearch", f"VIGIE_ES_NODES is {settings.es_nodes} but VIGIE_ES_URL lists {len(ports)} URLs.",
            "List one URL per node in VIGIE_ES_URL (comma-separated), or a single one: the nodes then use "
            "its port and the ports after it.")
    transport = [settings.es_transport_port + i for i in range(settings.es_nodes)]
    names = tuple(node_name(i + 1) for i in range(settings.es_nodes))
    nodes = [
        ClusterNode(
            home=settings.home, dist=settings.es_dist_dir, host=settings.es_host, port=port,
            heap=settings.es_heap, java_home=settings.java_home, user=settings.es_user,
            timeout=max(settings.service_timeout, 180.0),
            number=i + 1, cluster_root=settings.home / "elasticsearch-cluster", transport_port=transport[i],
            seed_ports=tuple(transport), node_names=names,
        )
        for i, port in enumerate(ports)
    ]
    return ElasticsearchCluster(nodes, timeout=max(settings.service_timeout, 180.0))
