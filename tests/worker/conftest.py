"""Fixtures for pipeline tests: the local feed server. (The helpers that queue items as the poller does
and count what was indexed are in tests/support/pipeline.py; the real `celery worker` fixture,
``workers``, is in tests/conftest.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.feeds import FeedServer


@pytest.fixture()
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()
