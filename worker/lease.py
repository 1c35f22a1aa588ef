"""A Redis lock held as a short lease and renewed while its holder works.

redis-py's lock expires after a fixed time, so its timeout must exceed the longest a holder may
work: with 120 s, a holder killed with its process (``kill -9``, an out-of-memory kill) left the story
lock taken for up to two minutes, and every story assignment waited that long. ``RenewedLock`` takes
a short lease and renews it from a thread every third of the lease while its holder works: a live
holder keeps the lock as long as it needs, a dead one frees it within one lease.
"""

from __future__ import annotations

import threading

import redis
from redis.exceptions import LockError


class RenewedLock:
    """``acquire`` / ``release`` like redis-py's lock; the lease is renewed in between."""

    def __init__(self, client: redis.Redis, key: str, lease: float, wait: float) -> None:
        self.key = key
        self.lease = lease
        # thread_local=False: the renewing thread must see the token the holder's thread took.
        self._lock = client.lock(key, timeout=lease, blocking_timeout=wait, thread_local=False)
        self._done = threading.Event()
        self._renewer: threading.Thread | None = None
        #: set when a renewal failed (Redis unreachable, or the lease already gone): the holder may
        #: have lost the lock before ``release``, which then raises ``LockError``
        self.renewal_failed = False

    def acquire(self) -> bool:
        if not self._lock.acquire():
            return False
        self._done.clear()
        self._renewer = threading.Thread(target=self._renew, name=f"lease {self.key}", daemon=True)
        self._renewer.start()
        return True

    def _renew(self) -> None:
        while not self._done.wait(self.lease / 3):
            try:
                self._lock.reacquire()  # the lease starts again from now
            except (LockError, redis.RedisError):
                self.renewal_failed = True
                return

    def release(self) -> None:
        """Stop renewing and free the lock; ``LockError`` when the lease had expired meanwhile."""
        self._done.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        self._lock.release()
