"""`vigie up` on the embedded defaults: the sample article becomes searchable; Ctrl-C stops it all."""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import psutil
import pytest

from tests.support.services import TEST_HOME, vigie_env
from tests.support.processes import VIGIE, Background, vigie_json
from vigie.demo_feed import demo_story

pytestmark = [pytest.mark.integration, pytest.mark.long(65)]

SAMPLE_START = "Le président turc Recep Tayyip Erdogan se rendra jeudi en Russie"


def _search(env: dict[str, str], query: str) -> dict:  # type: ignore[type-arg]
    return vigie_json(["search", query], env, timeout=60)


def _check_web(env: dict[str, str], article_id: str) -> None:
    """The API child of `vigie up`: the page, the sample through the API, health and metrics."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    with httpx.Client(base_url=f"http://127.0.0.1:{env['VIGIE_API_PORT']}", timeout=30) as client:
        deadline = time.monotonic() + 60
        health = {}
        while time.monotonic() < deadline:  # the API loads its lemma tables and the worker its models
            try:
                health = client.get("/health").json()
            except httpx.HTTPError:
                health = {}
            if health.get("workers", {}).get("alive") and health.get("lemmas_loaded"):
                break
            time.sleep(1)
        assert health.get("status") == "ok", health
        assert health["elasticsearch"]["documents"] >= 1 and health["queues"]["vigie.analyze"] == 0
        assert "text/html" in client.get("/").headers["content-type"]
        found = client.get("/api/search", params={"q": "Idleb"}).json()
        assert [hit["id"] for hit in found["hits"]] == [article_id]
        article = client.get(f"/api/articles/{article_id}").json()
        assert any(entity["label"] == "PERSON" and "Erdogan" in entity["text"] for entity in article["entities"])
        assert article["text"].startswith(SAMPLE_START)  # the page's <h1>, the title, is not repeated in the text
        assert client.post("/api/feeds", json={"url": "http://127.0.0.1:9/x.xml"}).status_code == 401
        metrics = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
                   for family in text_string_to_metric_families(client.get("/metrics").text)
                   for sample in family.samples}
        for stage in ("polled", "queued", "indexed"):  # counted by the real poller and worker
            assert metrics[("vigie_articles_total", (("stage", stage),))] >= 1, stage
        assert metrics[("vigie_fetched_to_indexed_seconds_count", ())] >= 1
        assert metrics[("vigie_feeds", (("status", "ok"),))] == 1


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.fixture()
def home() -> Path:
    path = TEST_HOME / "up"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_up_makes_the_sample_searchable_and_ctrl_c_stops_everything(home: Path) -> None:
    env = vigie_env(home)
    up = Background("vigie up", [VIGIE, "up"], env).start()
    try:
        assert up.wait_for_line(" vigie.ready ", timeout=300), up.output()[-4000:]
        ready = time.monotonic()
        children = _children(up.pid)
        assert any("celery" in " ".join(child.cmdline()) for child in children)  # a real Celery worker
        assert any("scheduler" in child.cmdline() for child in children)

        found = None
        while time.monotonic() - ready < 60:  # the promise: searchable within 60 s
            found = _search(env, "Idleb")
            if found["total"]:
                break
            time.sleep(1)
        assert found and found["total"] == 1, up.output()[-4000:]
        hit = found["hits"][0]
        assert hit["language"] == "fr"
        assert hit["title"] == demo_story().title  # the demo feed's headline, not the story's first sentence
        assert hit["text_source"] == "page"  # the demo item has a summary only: the page was fetched
        for query in ("Poutine", "cessez-le-feu"):
            assert [h["id"] for h in _search(env, query)["hits"]] == [hit["id"]], query
        _check_web(env, hit["id"])

        up.signal(signal.SIGINT)  # what Ctrl-C sends
        assert up.process is not None
        assert up.process.wait(120) == 0
    finally:
        up.stop()
    output = up.output()
    assert "vigie.stopped" in output and "Traceback" not in output
    assert "child.stopped child=worker" in output and "child.stopped child=scheduler" in output
    assert "child.stopped child=api" in output
    assert f"open=http://127.0.0.1:{env['VIGIE_API_PORT']}/" in output  # where to open the web page
    assert all(not child.is_running() or child.status() == psutil.STATUS_ZOMBIE for child in children)
    statuses = vigie_json(["services", "status"], env, check=False)
    assert all(status["health"] == "down" for status in statuses)  # the services it started are stopped


def test_sigterm_stops_children_and_leaves_services_it_did_not_start(service_env: dict[str, str]) -> None:
    up = Background("vigie up", [VIGIE, "up", "--no-demo"], service_env).start()
    try:
        assert up.wait_for_line(" vigie.ready ", timeout=300), up.output()[-4000:]
        assert "service.already_running" in up.output()
        children = _children(up.pid)
        assert len(children) >= 3
        assert any("api" in child.cmdline() for child in children)
        up.signal(signal.SIGTERM)
        assert up.process is not None and up.process.wait(120) == 0
    finally:
        up.stop()
    assert all(not child.is_running() or child.status() == psutil.STATUS_ZOMBIE for child in children)
    statuses = vigie_json(["services", "status"], service_env, check=False)
    assert all(status["health"] in ("ok", "green", "yellow") for status in statuses)
