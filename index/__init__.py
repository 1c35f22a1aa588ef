"""Everything Elasticsearch: mappings (versioned), bulk writes, queries, statistics and alerts.

Nothing outside this package builds an Elasticsearch request body.
"""
