"""Articles of the story tests: one earthquake told by outlets in English and French, and an unrelated
local budget story."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ingest.models import AnalyzedArticle
from tests.index.factories import analysed, person, place, topic

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


def quake(article_id: str, language: str, hours: float = 0, **extra: object) -> AnalyzedArticle:
    texts = {
        "en": ("Magnitude 7.4 earthquake strikes Noto peninsula",
               "A magnitude 7.4 earthquake struck the Noto peninsula in Ishikawa, triggering tsunami warnings. "
               "Buildings collapsed in Wajima, the Japan Meteorological Agency said.",
               "magnitude 7.4 earthquake strike noto peninsula ishikawa trigger tsunami warning building collapse wajima"),
        "fr": ("Séisme de magnitude 7,4 sur la péninsule de Noto",
               "Un séisme de magnitude 7,4 a frappé la péninsule de Noto, dans la préfecture d'Ishikawa. "
               "Une alerte au tsunami a été émise et des immeubles se sont effondrés à Wajima.",
               "séisme magnitude 7,4 frapper péninsule noto préfecture ishikawa alerte tsunami immeuble effondrer wajima"),
    }
    title, text, lemmas = texts[language]
    return analysed(article_id, title=title, text=text, lemmas=lemmas, language=language,
                    entities=(place("Noto"), place("Ishikawa"), place("Wajima")), topics=(topic("disasters"),),
                    url=f"https://{language}-outlet-{article_id}.example/a", published=T0 + timedelta(hours=hours),
                    **extra)  # type: ignore[arg-type]


def budget(article_id: str, hours: float = 0) -> AnalyzedArticle:
    return analysed(article_id, title="City council passes its budget",
                    text="The council of Springfield passed a budget of 310 million after a debate led by Mayor "
                         "Quimby on parks and roads.",
                    lemmas="council pass budget springfield million debate lead mayor quimby park road",
                    language="en", entities=(person("Quimby"),), url=f"https://local-{article_id}.example/b",
                    published=T0 + timedelta(hours=hours))
