"""`vigie alerts feed` writes the self link the API serves; `vigie search --collapse` counts what it shows."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from index.alert_feed import alert_atom
from index.alerts import new_rule
from index.search import SearchHit, SearchResult
from vigie.api.routes.alerts import router
from vigie.cli.alerts import api_base
from vigie.cli.search import headline_count

ATOM = "{http://www.w3.org/2005/Atom}"


def _self_link(base: str) -> str:
    rule = new_rule("Idleb", topics=["ceasefire"])
    root = ET.fromstring(alert_atom(rule, [], api_base(base)))
    link = next(link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "self")
    assert link is not None
    return link.replace(rule.alert_id, "{key}")


def test_the_cli_feed_self_link_is_a_route_of_the_api() -> None:
    served = {f"{router.prefix}{route.path}" if not route.path.startswith(router.prefix) else route.path
              for route in router.routes}
    link = _self_link("http://127.0.0.1:8766")
    assert link == "http://127.0.0.1:8766/api/alerts/{key}/feed"
    assert link.removeprefix("http://127.0.0.1:8766") in served
    # A base URL given with a trailing slash, or already ending in /api, gives the same link.
    assert _self_link("http://127.0.0.1:8766/") == link == _self_link("http://127.0.0.1:8766/api")


def _hit(article_id: str) -> SearchHit:
    return SearchHit(**{**{name: None for name in SearchHit.__dataclass_fields__},
                        "article_id": article_id, "title": article_id, "language": "fr", "topics": (),
                        "entities": (), "highlights": {}})


def test_a_collapsed_search_says_how_many_it_shows_and_how_many_before() -> None:
    result = SearchResult(total=3, hits=(_hit("a"), _hit("b")), took_ms=4, query="Idleb")
    assert headline_count(result, collapsed=True).startswith("2 article(s) (3 before collapsing) for 'Idleb'")
    assert headline_count(result, collapsed=False).startswith("3 article(s) for 'Idleb'")
