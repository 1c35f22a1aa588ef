"""What a story assigner keeps between batches (worker.story_memory), with the real Redis."""

from __future__ import annotations

import redis

from conf.settings import Settings
from worker.story_memory import DF_KEY, DOCUMENTS_KEY, FrequencyMemory, RedisFrequencies


def test_the_frequency_memory_starts_again_from_redis_past_its_bound(settings: Settings) -> None:
    client = redis.Redis.from_url(settings.redis_url)
    client.hset(DF_KEY, mapping={f"en:word{n}": n + 1 for n in range(10)})
    client.set(DOCUMENTS_KEY, 40)
    memory = FrequencyMemory(limit=5)
    RedisFrequencies(client, memory).load([f"en:word{n}" for n in range(4)])
    assert len(memory.loaded) == 4 and memory.documents == 40  # within the bound: kept for the next batch
    client.set(DOCUMENTS_KEY, 41)  # (only a holder of the lock writes it; here, to see what is read)
    assert RedisFrequencies(client, memory).documents == 40
    RedisFrequencies(client, memory).load([f"en:word{n}" for n in range(10)])
    assert len(memory.loaded) == 10
    memory.stories.add("story-a")  # a story whose keys are all read (worker.story_assignment)
    following = RedisFrequencies(client, memory)  # past the bound: forgotten, read again from Redis
    assert following.documents == 41 and not memory.loaded and not memory.counts
    assert not memory.stories  # its keys are no longer known to be read: a batch reads them again
    following.load(["en:word9"])
    assert memory.counts == {"en:word9": 10}
