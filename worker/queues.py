"""The Celery queue and task names, apart from the app so that `vigie up` and the API can name the queues
without building a Celery app."""

ANALYZE_QUEUE = "vigie.analyze"
INDEX_QUEUE = "vigie.index"
NOTIFY_QUEUE = "vigie.notify"  # webhook deliveries and digests: short tasks, never behind a slow receiver's
#: The queues the article worker (its pool of ``--concurrency`` processes) consumes.
WORKER_QUEUES = (ANALYZE_QUEUE, INDEX_QUEUE, NOTIFY_QUEUE)

# Story assignment (worker.story_tasks): its own queue, consumed by one single-process worker (the
# story consumer `vigie worker` starts beside the article worker), so that assignment never holds
# up analysis and indexing, and one process keeps the recent stories it wrote.
STORY_QUEUE = "vigie.stories"
#: The story consumer's Celery hostname starts with this (it loads no models and no knowledge base).
STORY_CONSUMER = "vigie-stories"

#: Every queue (what monitoring reports and what tests wait to be drained).
QUEUES = (*WORKER_QUEUES, STORY_QUEUE)

#: The analysis task the poller queues by name (so the poller does not import the tasks and spaCy).
PROCESS_ITEMS = "vigie.process_items"

#: Writes the analysed articles waiting in Redis (worker.staged_writes), queued by the scheduler's sweep
#: when some wait and no process holds the writers' lease (a writer died).
WRITE_STAGED = "vigie.write_staged"
