"""One Analyzer per test session, configured as Vigie ships (models load once: a few seconds)."""

from __future__ import annotations

from functools import cache

from ingest.analyze import Analyzer
from vigie.settings import load_settings


@cache
def shipped_analyzer() -> Analyzer:
    settings = load_settings()
    return Analyzer(settings.models, settings.languages, settings.topics_file, settings.max_text_chars)
