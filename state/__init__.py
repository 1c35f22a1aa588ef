"""State held in Redis that needs no Celery: the feed registry and its schedule, seen article ids,
counters, dead letters, the alert rules' version. The worker, the CLI and the API share it."""
