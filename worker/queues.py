"""The Celery queue and task names, apart from the app so that `vigie up` and the API can name the queues
without building a Celery app."""

ANALYZE_QUEUE = "vigie.analyze"
INDEX_QUEUE = "vigie.index"
NOTIFY_QUEUE = "vigie.notify"  # webhook deliveries and digests: short tasks, never behind a slow receiver's
QUEUES = (ANALYZE_QUEUE, INDEX_QUEUE, NOTIFY_QUEUE)

#: The analysis task the poller queues by name (so the poller does not import the tasks and spaCy).
PROCESS_ITEMS = "vigie.process_items"
