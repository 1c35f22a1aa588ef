"""The story lock as a renewed lease (worker.lease.RenewedLock), on the real Redis: a holder working
longer than the lease keeps the lock; a holder killed with SIGKILL frees it within one lease; a lease
lost meanwhile is reported at release."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest
import redis
from redis.exceptions import LockError

from conf.settings import Settings
from worker.lease import RenewedLock

pytestmark = pytest.mark.integration

KEY = "vigie:test:lease"


def test_a_holder_working_longer_than_its_lease_keeps_the_lock(redis_client: redis.Redis) -> None:
    holder = RenewedLock(redis_client, KEY, lease=0.6, wait=0.1)
    assert holder.acquire()
    try:
        for _ in range(4):  # 2 s of work: more than three leases
            time.sleep(0.5)
            assert not RenewedLock(redis_client, KEY, lease=0.6, wait=0.05).acquire()
            assert redis_client.pttl(KEY) > 0
    finally:
        holder.release()
    assert not holder.renewal_failed
    other = RenewedLock(redis_client, KEY, lease=0.6, wait=0.1)
    assert other.acquire()
    other.release()


def _hold(redis_url: str, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    lock = RenewedLock(redis.Redis.from_url(redis_url), KEY, lease=1.0, wait=5.0)
    assert lock.acquire()
    ready.set()
    time.sleep(60)  # killed long before


def test_a_holder_killed_frees_the_lock_within_one_lease(redis_client: redis.Redis, settings: Settings) -> None:
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    child = context.Process(target=_hold, args=(settings.redis_url, ready))
    child.start()
    try:
        assert ready.wait(30), "the child never took the lock"
        time.sleep(1.5)  # its lease renewed at least once: the key is still there
        assert redis_client.exists(KEY)
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        killed = time.monotonic()
        lock = RenewedLock(redis_client, KEY, lease=1.0, wait=10.0)
        assert lock.acquire()
        freed = time.monotonic() - killed
        lock.release()
    finally:
        child.kill()
        child.join(10)
    # One lease (1 s) plus the time a loaded machine takes to notice; the fixed lease was 120 s.
    assert freed <= 2.5, f"the lock was freed {freed:.2f} s after its holder was killed (lease 1 s)"


def test_a_lease_lost_meanwhile_is_reported_at_release(redis_client: redis.Redis) -> None:
    holder = RenewedLock(redis_client, KEY, lease=0.6, wait=0.1)
    assert holder.acquire()
    redis_client.delete(KEY)  # as if the lease had run out while Redis was unreachable
    time.sleep(0.5)
    assert holder.renewal_failed
    with pytest.raises(LockError):
        holder.release()
