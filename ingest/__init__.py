"""Pure transformation: feed bytes to typed records, articles to their analysis.

No Celery, no Elasticsearch, no global state. The HTTP fetch layer (ingest.fetch) is the only
network code here.
"""
