"""`vigie analyze` on oversized input (README "Limits on bad input"), with a small VIGIE_MAX_TEXT_CHARS
so the cuts show on small files: files over 32 MB are refused in one line, plain text is cut at twice
the limit before cleaning and HTML at ten times before extraction, the clean text at the limit, each
time with a warning."""

from __future__ import annotations

import json
import os
from pathlib import Path


from tests.support.processes import run_vigie

LIMIT = 1000
MAX_INPUT_BYTES = 32 * 2**20
# The shipped configuration but the text limit: no VIGIE_* variable of the caller leaks in.
ENV = {key: value for key, value in os.environ.items() if not key.startswith("VIGIE_")}
ENV["VIGIE_MAX_TEXT_CHARS"] = str(LIMIT)


def analyse(path: Path) -> dict:  # type: ignore[type-arg]
    result = run_vigie(["analyze", "--json", str(path)], ENV, check=True)
    return json.loads(result.stdout)


def assert_one_line_error(result, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr, result.stderr
    assert result.stdout == ""


def padded(words: list[str]) -> str:
    """Words with long runs of spaces between them: cleaning keeps a fifth of the characters."""
    return "".join(word + " " * 20 for word in words)


def test_a_file_over_32_mb_gets_a_one_line_error_and_one_of_32_mb_is_read(tmp_path: Path) -> None:
    line = ("Le conseil municipal a voté le budget de la ville pour l'année prochaine. " * 40 + "\n").encode()
    exact = tmp_path / "exact.txt"
    with exact.open("wb") as handle:
        handle.write(b"Un titre\n")
        while handle.tell() + len(line) <= MAX_INPUT_BYTES:
            handle.write(line)
        handle.write(b"x" * (MAX_INPUT_BYTES - handle.tell()))
    assert exact.stat().st_size == MAX_INPUT_BYTES
    analysis = analyse(exact)
    assert len(analysis["text"]) <= LIMIT
    assert any(warning.startswith(f"text truncated to its first {LIMIT} characters") for warning in analysis["warnings"])

    over = tmp_path / "over.txt"
    with exact.open("rb") as source, over.open("wb") as handle:
        handle.write(source.read())
        handle.write(b"y")
    assert_one_line_error(run_vigie(["analyze", str(over)], ENV), "larger than the 32 MB vigie analyze reads")
    piped = run_vigie(["analyze", "-"], ENV, input="a" * (MAX_INPUT_BYTES + 1))
    assert_one_line_error(piped, "standard input: larger than the 32 MB vigie analyze reads")


def test_plain_text_is_cut_at_twice_the_limit_before_cleaning(tmp_path: Path) -> None:
    before = padded([f"avant{i}" for i in range(70)]) + "DERNIERAVANT"
    assert len(before) < 2 * LIMIT
    body = before + " " * (2 * LIMIT - len(before)) + padded(["APRESCOUPE", "encore"])
    path = tmp_path / "spaces.txt"
    path.write_text("Un titre\n" + body, encoding="utf-8")
    analysis = analyse(path)
    # Clean, the whole body would fit in the limit: only the cut before cleaning drops the end.
    assert len(" ".join(body.split())) < LIMIT
    assert "DERNIERAVANT" in analysis["text"] and "APRESCOUPE" not in analysis["text"]
    # (the body of a text file is what follows its title line, without its trailing blanks)
    assert f"text truncated to its first {LIMIT} characters (the text had {len(body.rstrip())})" in analysis["warnings"]


def test_html_is_cut_at_ten_times_the_limit_before_extraction(tmp_path: Path) -> None:
    head = ('<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>La crue</title></head><body>'
            "<article><h1>La crue de la Loire</h1>"
            "<p>La Loire est sortie de son lit mardi à Orléans, où des centaines d'habitants ont été évacués par "
            "les pompiers. DERNIERAVANT la préfecture a déclenché l'alerte rouge dans trois départements.</p>")
    comment = "<!-- " + "balisage " * ((10 * LIMIT - len(head)) // 9) + " -->"
    tail = ("<p>APRESCOUPE les pluies diluviennes de la semaine ont saturé les sols, selon Météo-France, qui "
            "prévoit une décrue lente à partir de jeudi.</p></article></body></html>")
    page = head + comment + tail
    assert len(head) < 10 * LIMIT < len(head) + len(comment) < 11 * LIMIT
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    analysis = analyse(path)
    assert "DERNIERAVANT" in analysis["text"] and "APRESCOUPE" not in analysis["text"]
    assert len(analysis["text"]) < LIMIT
    assert f"text truncated to its first {LIMIT} characters (the HTML had {len(page)})" in analysis["warnings"]

    whole = tmp_path / "whole.html"  # the same page within ten times the limit: its end is kept
    whole.write_text(head + "<!-- court -->" + tail, encoding="utf-8")
    kept = analyse(whole)
    assert "APRESCOUPE" in kept["text"] and not kept["warnings"]


def test_the_clean_text_is_cut_at_the_limit_with_a_warning(tmp_path: Path) -> None:
    sentences = [f"Le conseil numéro {i} a voté le budget de la ville pour l'année prochaine." for i in range(25)]
    body = " ".join(sentences)
    assert LIMIT < len(body) < 2 * LIMIT  # no cut before cleaning
    path = tmp_path / "long.txt"
    path.write_text("Le budget de la ville\n" + body, encoding="utf-8")
    analysis = analyse(path)
    assert LIMIT - 80 < len(analysis["text"]) <= LIMIT
    assert analysis["text"].startswith("Le conseil numéro 0 a voté") and "numéro 24" not in analysis["text"]
    assert body.startswith(analysis["text"].rstrip("…").rstrip())  # cut at a word, nothing rewritten
    assert f"text truncated to its first {LIMIT} characters (the text had {len(body)})" in analysis["warnings"]
    assert analysis["language"] == "fr"
