"""`vigie analyze` and `vigie topics`, run as a user runs them: the real command, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import ROOT, VIGIE
from tests.support.samples import SAMPLE_PATH

SAMPLE = SAMPLE_PATH
# The shipped configuration: no VIGIE_* variable of the caller leaks in.
ENV = {key: value for key, value in os.environ.items() if not key.startswith("VIGIE_")}


def vigie(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([VIGIE, *args], env=ENV, cwd=ROOT, input=input, capture_output=True, timeout=300)
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())


def assert_one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr, result.stderr
    assert result.stdout == ""


@pytest.fixture(scope="module")
def sample_analysis() -> dict:  # type: ignore[type-arg]
    """`vigie analyze --json` of the sample, run once for the tests that read it."""
    result = vigie("analyze", "--json", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_analyze_json_on_the_sample_finds_its_language_people_places_and_topics(sample_analysis: dict) -> None:  # type: ignore[type-arg]
    analysis = sample_analysis
    assert analysis["language"] == "fr"
    persons = [entity["text"] for entity in analysis["entities"] if entity["label"] == "PERSON"]
    for person in ("Erdogan", "Poutine", "Peskov", "Merkel", "Borissov"):
        assert any(person in text for text in persons), (person, persons)
    locations = {entity["text"] for entity in analysis["entities"] if entity["label"] == "LOCATION"}
    assert {"Russie", "Syrie", "Idleb", "Ankara", "Moscou", "Damas", "Turquie"} <= locations
    topics = {topic["name"]: topic for topic in analysis["topics"]}
    assert {"migration", "ceasefire"} <= set(topics)
    assert "cessez-le-feu" in topics["ceasefire"]["evidence"]
    erdogan = next(entity for entity in analysis["entities"] if entity["text"] == "Recep Tayyip Erdogan")
    assert all(analysis["text"][start:end] in erdogan["text"] for start, end in erdogan["spans"])


def test_analyze_reads_standard_input_and_prints_text_for_people() -> None:
    article = ("Séisme au Maroc\n\nUn séisme de magnitude 6,8 a frappé le Maroc dans la nuit. Les secouristes "
               "fouillent les décombres à Marrakech, où le roi Mohammed VI s'est rendu.")
    result = vigie("analyze", "-", input=article.encode())
    assert result.returncode == 0, result.stderr
    assert "title:    Séisme au Maroc" in result.stdout
    assert "language: fr" in result.stdout
    assert "Marrakech" in result.stdout and "natural-disaster" in result.stdout


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "empty input"),
    (bytes(range(256)) * 20, "binary data"),
])
def test_analyze_refuses_empty_and_binary_files_in_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    assert_one_line_error(vigie("analyze", "--json", str(path)), f"{path}: {expected}")


def test_analyze_of_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    assert_one_line_error(vigie("analyze", str(tmp_path / "missing.txt")), "cannot read it")


def test_topics_check_accepts_the_bundled_rules() -> None:
    result = vigie("topics", "check", str(ROOT / "ingest" / "data" / "topics.rules"))
    assert result.returncode == 0, result.stderr
    assert "no error" in result.stdout and "ceasefire" in result.stdout


def test_topics_check_lists_every_error_with_its_line(tmp_path: Path) -> None:
    rules = tmp_path / "bad.rules"
    rules.write_text("topic storms\n  languages fr\n  threshold two\n  term 2: tempête\n  tern 1: orage\n")
    result = vigie("topics", "check", str(rules))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"{rules}:3: threshold must be a number (got 'two')",
        f"{rules}:5: unknown statement 'tern' (expected topic, label, languages, iptc, iptc_top, parent, "
        "threshold, cap, term, term!, near, all, not, not!, or '|' to continue a list)",
        f"{rules}:1: topic 'storms' has no 'threshold' line",
    ]


def test_topics_list_json_names_the_topics_in_use() -> None:
    result = vigie("topics", "list", "--json")
    assert result.returncode == 0, result.stderr
    topics = {topic["name"]: topic for topic in json.loads(result.stdout)}
    assert {"migration", "ceasefire"} <= set(topics)
    assert {"fr", "en"} <= set(topics["migration"]["languages"])


def _entities(text: str) -> list[dict[str, object]]:
    result = vigie("analyze", "--json", "-", input=text.encode())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["entities"]


def _entities_at_once(*texts: str) -> list[list[dict[str, object]]]:
    """The entities of each text, each through its own `vigie analyze --json -`, all running at once."""
    processes = [subprocess.Popen([VIGIE, "analyze", "--json", "-"], env=ENV, cwd=ROOT, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in texts]
    found = []
    for process, text in zip(processes, texts):
        stdout, stderr = process.communicate(text.encode(), timeout=300)
        assert process.returncode == 0, stderr.decode()
        found.append(json.loads(stdout)["entities"])
    return found


def test_analyze_gives_one_putin_in_french_english_and_russian(sample_analysis: dict) -> None:  # type: ignore[type-arg]
    french = {entity["text"]: entity for entity in sample_analysis["entities"]}
    english_found, russian_found, idlib_found = _entities_at_once(
        "Putin meets Erdogan\nRussian President Vladimir Putin met his Turkish counterpart in Moscow on Thursday "
        "to discuss the fighting in Syria's north-west.",
        "Путин встретился с Эрдоганом\nПрезидент России Владимир Путин провёл в Москве переговоры "
        "с президентом Турции о ситуации в Сирии.",
        "Idlib under fire\nShelling hit Idlib again on Friday.")
    english = {entity["text"]: entity for entity in english_found}
    russian = {entity["name"]: entity for entity in russian_found}
    assert {"text", "label", "id", "name"} <= set(french["Vladimir Poutine"])
    assert french["Vladimir Poutine"]["id"] == english["Vladimir Putin"]["id"] == russian["Vladimir Putin"]["id"]
    assert french["Vladimir Poutine"]["name"] == "Vladimir Putin" and french["Vladimir Poutine"]["label"] == "PERSON"
    assert "Владимир Путин" in russian["Vladimir Putin"]["variants"]
    assert french["Idleb"]["id"] == idlib_found[0]["id"]


def test_a_german_text_gets_its_persons_and_places() -> None:
    entities = _entities(
        "Merz empfängt Selenskyj\nBundeskanzler Friedrich Merz hat den ukrainischen Präsidenten Wolodymyr "
        "Selenskyj in Berlin empfangen. Danach reiste Selenskyj nach Paris weiter.")
    found = {(entity["name"], entity["label"]) for entity in entities}
    assert {("Friedrich Merz", "PERSON"), ("Volodymyr Zelensky", "PERSON"), ("Berlin", "LOCATION"),
            ("Paris", "LOCATION")} <= found
