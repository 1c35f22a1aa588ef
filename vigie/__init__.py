"""Vigie: streaming news ingestion. The command line, settings and embedded services live here;
the pipeline lives in ingest/ (bytes to records), index/ (Elasticsearch) and worker/ (Celery)."""

__version__ = "0.1.0"
