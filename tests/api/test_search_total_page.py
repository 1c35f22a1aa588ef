"""The search page past VIGIE_SEARCH_TOTAL_LIMIT: the count is shown as a lower bound ("2+"), in the
summary and the pager, as the command line says it; under the limit it stays exact."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.index.factories import analysed
from tests.support.api import ApiServer, api_env, serving
from tests.support.browser import Browser

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(service_env: dict[str, str]) -> Iterator[ApiServer]:
    articles = [analysed(f"zanzibar-{number}", title=f"Zanzibar, épisode {number}",
                         text=f"Le port de Zanzibar reçoit le cargo numéro {number}.") for number in range(4)]
    articles.append(analysed("pemba", title="Pemba", text="Le port de Pemba attend la marée."))
    with serving(api_env(service_env, VIGIE_SEARCH_TOTAL_LIMIT="2"), articles) as server:
        yield server


def search(browser: Browser, site: ApiServer, query: str) -> str:
    browser.get(f"{site.base_url}/search?q={query}")
    return browser.text(browser.wait_for("#summary", text=f"“{query}”"))


def test_a_count_past_the_limit_is_shown_as_a_lower_bound(browser: Browser, site: ApiServer) -> None:
    summary = search(browser, site, "Zanzibar")
    assert summary.startswith("2+ articles"), summary
    assert browser.wait_for("#pager .muted", text="of 2+")


def test_a_count_under_the_limit_stays_exact(browser: Browser, site: ApiServer) -> None:
    summary = search(browser, site, "Pemba")
    assert summary.startswith("1 article "), summary
