"""One Analyzer per test session, configured as Vigie ships (models load once: a few seconds)."""

from __future__ import annotations

from functools import cache

from conf.settings import load_settings
from ingest.analyze import Analyzer


@cache
def shipped_analyzer() -> Analyzer:
    settings = load_settings()
    return Analyzer(settings.models, settings.languages, settings.topics_file, settings.max_text_chars)
