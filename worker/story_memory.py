"""What a story assigner keeps between batches, and the document frequencies it counts.

Document frequencies for IDF are counted in Redis (``DF_KEY``: term or name -> articles, and
``DOCUMENTS_KEY``), updated under the story lock (worker.story_assignment) after the stories are
written. Only the lock's holder changes them, so an assigner keeps those it has read or added between
batches (``FrequencyMemory``) for as long as it is the last holder, and reads only keys it has never
seen.

A story written is readable by id at once but searchable only after the next index refresh (every
``STORIES_REFRESH_SECONDS``, index.mappings). So the assigner that holds the lock remembers the
stories it wrote in the last ``RECENT_SECONDS`` (their search keys, ``RecentStories``) and adds those
sharing most names, words or figures with an article (as many as the search returns, 12) to its
candidates, read by id. It also keeps the stories it wrote or read whole (``RecentStories.read_drafts``):
as the only writer while it holds the lock, it reads from Elasticsearch only the candidates it has not
seen.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from index.mappings import STORIES_REFRESH_SECONDS
from index.stories import CANDIDATES, StoryDraft, StoryStore
from ingest.stories import Frequencies, StoryFeatures
from worker.runtime import Runtime

DF_KEY = "vigie:stories:df"
DOCUMENTS_KEY = "vigie:stories:documents"
#: The consumer takes a guess's candidates instead of searching while they are at most this old (s)
#: (worker.story_assignment).
FRESH_SEARCH = 3.0
#: Stories this assigner wrote in the last RECENT_SECONDS are remembered as candidates: a story written
#: since the last refresh of the stories index, or since a guess's search it takes (``FRESH_SEARCH``),
#: with a second of clock skew between hosts allowed for, may not be searchable yet.
RECENT_SECONDS = FRESH_SEARCH + STORIES_REFRESH_SECONDS + 1.0
RECENT_MAX = 2000
#: Stories an assigner keeps whole between batches (``RecentStories.read_drafts``): the candidates of
#: a busy hour, at tens of kilobytes each.
DRAFTS_MAX = 256
#: Frequency keys an assigner keeps between batches before it starts again from Redis (about 185 bytes
#: each in the process, key included: some 18 MB at most).
FREQUENCY_MEMORY_KEYS = 100_000


class FrequencyMemory:
    """The document frequencies this assigner read from Redis or added there, kept between batches.
    Only the holder of the story lock changes them, so while this assigner is the last holder
    (``HOLDER_KEY``) they are Redis's own and need no reading again: a batch reads only the keys it
    has never seen. Forgotten with the recent stories (another holder wrote, or a batch failed)."""

    def __init__(self, limit: int = FREQUENCY_MEMORY_KEYS) -> None:
        self.limit = limit
        self.documents: int | None = None
        self.counts: Counter[str] = Counter()
        self.loaded: set[str] = set()
        #: Stories whose every key is in ``loaded``: a story's keys, once read, only gain keys its
        #: articles brought (read with them) or a story merged into it brought (read as a candidate),
        #: so a later batch need not walk its keys again (hundreds a story, tens of stories a batch).
        self.stories: set[str] = set()

    def forget(self) -> None:
        self.documents = None
        self.counts = Counter()
        self.loaded = set()
        self.stories = set()


class RedisFrequencies(Frequencies):
    """Document frequencies read from Redis on demand (a batch's at once), counted locally during one
    batch, on top of what ``memory`` holds from earlier batches."""

    def __init__(self, client: redis.Redis, memory: FrequencyMemory | None = None) -> None:
        memory = memory if memory is not None else FrequencyMemory()
        if len(memory.loaded) > memory.limit:
            memory.forget()  # a bounded memory: read again what the next batches need
        if memory.documents is None:
            memory.documents = int(client.get(DOCUMENTS_KEY) or 0)
        super().__init__(memory.documents)
        self.client = client
        self.memory = memory
        self.counts = memory.counts  # shared: a failed batch forgets the memory (assign_features)
        self.loaded = memory.loaded
        self.added: dict[str, int] = {}
        self.added_documents = 0

    def load(self, keys: Sequence[str]) -> None:
        missing = [key for key in dict.fromkeys(keys) if key not in self.loaded]
        if not missing:
            return
        self.counted({key: int(value) for key, value in zip(missing, self.client.hmget(DF_KEY, missing))
                      if value is not None})
        self.loaded.update(missing)

    def count(self, keys: Sequence[str]) -> None:
        self.load(keys)
        super().count(keys)
        self.added_documents += 1
        for key in keys:
            self.added[key] = self.added.get(key, 0) + 1

    def save(self) -> None:
        """Add this batch's counts, atomically, in one command (a script) with one argument (JSON):
        thousands of arguments cost the consumer more CPU to encode than the rest of its Redis work."""
        if not self.added_documents:
            return
        pairs = json.dumps([item for pair in self.added.items() for item in pair], ensure_ascii=False)
        self.client.eval(_SAVE_FREQUENCIES, 2, DF_KEY, DOCUMENTS_KEY, self.added_documents, pairs)
        self.memory.documents = self.documents


#: KEYS: the frequencies hash, the documents counter; ARGV: documents added, then the key, count
#: pairs as one flat JSON array.
_SAVE_FREQUENCIES = """
local counts = cjson.decode(ARGV[2])
for i = 1, #counts, 2 do redis.call('HINCRBY', KEYS[1], counts[i], counts[i + 1]) end
redis.call('INCRBY', KEYS[2], ARGV[1])
return #counts
"""


@dataclass(frozen=True)
class _Recent:
    written: float  # time.monotonic()
    first_seen: datetime
    last_seen: datetime
    names: frozenset[str]  # what candidate search matches: the story's strongest names, words, figures
    terms: frozenset[str]
    numbers: frozenset[str]


class RecentStories:
    """The stories this assigner wrote in the last ``RECENT_SECONDS``, by their search keys: the
    candidates an index refresh may not have made searchable yet; and the document frequencies it
    knows (``FrequencyMemory``). Both hold only while this assigner is the last to hold the lock."""

    def __init__(self, seconds: float = RECENT_SECONDS) -> None:
        self.token = uuid.uuid4().hex
        self.seconds = seconds
        self.stories: dict[str, _Recent] = {}
        self.frequencies = FrequencyMemory()
        #: The stories this assigner wrote or read, by id, as Elasticsearch holds them (``read_drafts``)
        self.drafts: dict[str, StoryDraft] = {}
        #: When this assigner last took the lock over from another (``time.time()``, just before its
        #: refresh): a guess's candidates searched earlier may miss a story the other one wrote.
        self.held_since = float("inf")
        #: The candidate index's mark as this assigner last wrote it (worker.story_search): another mark
        #: means Redis lost what it recorded, or another assigner wrote since.
        self.index_upto: float | None = None

    def forget(self) -> None:
        self.stories.clear()
        self.frequencies.forget()
        self.drafts.clear()
        self.index_upto = None

    def read_drafts(self, store: StoryStore, story_ids: Sequence[str]) -> dict[str, StoryDraft]:
        """The living stories among ``story_ids``, each as this assigner last wrote or read it: only it
        writes stories while it holds the lock, so what it keeps is what Elasticsearch holds, and only
        the others are read (a story's centroid is tens of kilobytes, read on every batch it is a
        candidate in). What is read is kept too. A batch that fails forgets them all (``forget``):
        a draft is changed in place before it is written."""
        found = {story: self.drafts[story] for story in story_ids if story in self.drafts}
        missing = [story for story in story_ids if story not in found]
        if missing:
            read = store.drafts(missing)
            found.update(read)
            self._keep(read.values())
        return found

    def _keep(self, drafts: Iterable[StoryDraft]) -> None:
        for draft in drafts:
            self.drafts.pop(draft.centroid.story_id, None)  # re-inserted last: the oldest go first
            self.drafts[draft.centroid.story_id] = draft
        while len(self.drafts) > DRAFTS_MAX:
            del self.drafts[next(iter(self.drafts))]

    def remember(self, drafts: Sequence[StoryDraft], gone: Sequence[str]) -> None:
        now = time.monotonic()
        for story in gone:
            self.stories.pop(story, None)
            self.drafts.pop(story, None)
        self._keep(drafts)
        for draft in drafts:
            keys = draft.search_keys()
            self.stories.pop(draft.centroid.story_id, None)  # re-inserted last: the dict stays in write order
            self.stories[draft.centroid.story_id] = _Recent(now, draft.centroid.first_seen, draft.centroid.last_seen,
                                                            frozenset(keys["names"]), frozenset(keys["terms"]),
                                                            frozenset(keys["numbers"]))
        for story in [story for story, recent in self.stories.items() if now - recent.written > self.seconds]:
            del self.stories[story]
        while len(self.stories) > RECENT_MAX:
            del self.stories[next(iter(self.stories))]

    def candidates(self, features: StoryFeatures, window_hours: float, limit: int = CANDIDATES) -> list[str]:
        """The recent stories candidate search would return for ``features`` once they are searchable:
        the same filters (a shared name, word or figure, within the window), the best ``limit`` by
        what they share (a name counting twice, as the search boosts names)."""
        if not self.stories:
            return []
        horizon = time.monotonic() - self.seconds
        keys = StoryStore.query_keys(features)
        names, terms, numbers = set(keys["names"]), set(keys["terms"]), set(keys["numbers"])
        window = timedelta(hours=window_hours)
        scored = []
        for story, recent in self.stories.items():
            if recent.written < horizon or recent.last_seen < features.time - window \
                    or recent.first_seen > features.time + window:
                continue
            score = 2 * len(recent.names & names) + len(recent.terms & terms) + len(recent.numbers & numbers)
            if score:
                scored.append((-score, story))
        return [story for _, story in sorted(scored)[:limit]]


def story_store(rt: Runtime) -> StoryStore:
    """This process's story store, its indexes made ready once (kept on the runtime)."""
    store = rt.__dict__.get("_story_store")
    if store is None:
        store = StoryStore(rt.es, rt.settings.index_prefix)
        store.ensure_ready()
        rt.__dict__["_story_store"] = store
    return store


def recent_stories(rt: Runtime) -> RecentStories:
    """This assigner's memory of the stories it wrote last (kept on the runtime)."""
    recent = rt.__dict__.get("_recent_stories")
    if recent is None:
        recent = rt.__dict__["_recent_stories"] = RecentStories()
    return recent
