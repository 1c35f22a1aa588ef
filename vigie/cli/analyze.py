"""`vigie analyze [--json] FILE|-` and `vigie topics check|list`: the analysis of one article, no
service running, through the same ``Analyzer`` the worker uses.

Entity merges: when Elasticsearch (VIGIE_ES_URL) answers, the merge rules recorded there (automatic
merges, manual merges and splits: `vigie entities merges`) are applied to the entities printed, by the
functions the worker applies them with (``effective_rules``, ``apply_merges``). When it does not,
the analysis is printed as it is and says so: one line on stderr in text mode; with --json, the
field ``merge_rules`` (``applied`` false and the ``reason``), nothing on stderr (stdout and stderr may
be read together). Reading the rules never creates an index.

Exit codes: 0 analysed (an article with nothing usable still prints its result, with warnings saying
why), 1 a clear one-line error (missing, empty, binary or oversized file; a model not installed;
invalid topic rules), 2 usage error.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from conf.settings import Settings, load_settings
from ingest.models import Analysis
from ingest.topic_rules import TopicRuleError, check_iptc_codes, load_known_codes, load_rules
from vigie.cli.output import emit, json_option, progress

if TYPE_CHECKING:  # ingest.topics imports the lemma tables: loaded only when a command analyses
    from ingest.topics import TopicExplanation

#: Largest input read; larger is refused rather than read into memory (the analysis itself keeps
#: the first VIGIE_MAX_TEXT_CHARS characters of what it is given, and says so).
MAX_INPUT_BYTES = 32 * 2**20
_TEXT_PREVIEW_CHARS = 600
#: Seconds to wait for Elasticsearch's merge rules: the analysis goes on without them after that.
MERGE_RULES_TIMEOUT = 5.0


def _read(source: str) -> tuple[bytes, str]:
    """The bytes of FILE (or standard input for '-') and the name errors use."""
    if source == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        name = "standard input"
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > MAX_INPUT_BYTES:
                raise click.ClickException(
                    f"{source}: {size / 2**20:.1f} MB, larger than the {MAX_INPUT_BYTES // 2**20} MB vigie analyze reads")
            data = path.read_bytes()
        except OSError as error:
            raise click.ClickException(f"{source}: cannot read it: {error.strerror or error}") from None
        name = source
    if len(data) > MAX_INPUT_BYTES:
        raise click.ClickException(f"{name}: larger than the {MAX_INPUT_BYTES // 2**20} MB vigie analyze reads")
    return data, name


def with_merge_rules(analysis: Analysis, settings: Settings) -> tuple[Analysis, dict[str, Any]]:
    """``analysis`` with the merge rules recorded in Elasticsearch applied to its entities, and what
    was done (``applied``, ``rules`` in force, ``entities_changed``; ``reason`` when not applied)."""
    from index.client import connect
    from index.entity_merges import MergeStore
    from index.errors import IndexRejected, IndexUnavailable
    from ingest.entity_merging import apply_merges, effective_rules

    es = connect(settings.es_url, timeout=MERGE_RULES_TIMEOUT)
    try:
        rules = effective_rules(MergeStore(es, settings.index_prefix).recorded_rules())
    except IndexUnavailable:
        return analysis, {"applied": False, "rules": 0, "entities_changed": 0,
                          "reason": f"Elasticsearch at {settings.es_url} is unreachable"}
    except IndexRejected as error:
        return analysis, {"applied": False, "rules": 0, "entities_changed": 0, "reason": str(error)}
    finally:
        es.close()
    entities = apply_merges(analysis.entities, rules)
    changed = sum(1 for entity in entities if entity not in analysis.entities)
    return replace(analysis, entities=entities), {"applied": True, "rules": len(rules), "entities_changed": changed}


def _analysis_text(analysis: Analysis) -> str:
    lines = [
        f"title:    {analysis.title or '(none)'}",
        f"language: {analysis.language} (confidence {analysis.language_confidence:.2f})",
    ]
    if analysis.entities:
        lines.append("entities:")
        lines.extend(f"  {entity.label:<13} {entity.text} ({entity.mentions})" for entity in analysis.entities)
    if analysis.topics:
        lines.append("topics:")
        lines.extend(f"  {topic.name:<17} {topic.score:.2f}  {', '.join(topic.evidence)}" for topic in analysis.topics)
    lines.extend(f"warning: {warning}" for warning in analysis.warnings)
    preview = analysis.text[:_TEXT_PREVIEW_CHARS] + ("…" if len(analysis.text) > _TEXT_PREVIEW_CHARS else "")
    lines.extend(["text:", preview])
    return "\n".join(lines)


def _explanation_text(explanation: TopicExplanation) -> str:
    topic = explanation.topic
    family = f", parent {topic.parent}" if topic.parent else ""
    codes = f" ({topic.iptc}, top {topic.iptc_top}{family})" if topic.iptc else family
    verdict = f"fired, score {explanation.score:.2f}" if explanation.fired else "did not fire"
    if explanation.by == "model":
        verdict = f"given by the topic model, score {explanation.score:.2f}"
    lines = [f"topic {topic.name}{codes}: {verdict}",
             f"  {explanation.reason}",
             f"  total {explanation.total:g}, threshold {topic.threshold:g}"]
    lines.append("  terms found:" if explanation.terms else "  terms found: none")
    for term in explanation.terms:
        strong = ", strong in context: weighs the threshold" if term.strong and term.contribution > term.weight * term.count else ""
        lines.append(f"    {term.contribution:+g}  {' | '.join(term.texts)}  (weight {term.weight:g} x {term.count}{strong}; line {term.line})")
    for name, found in explanation.exclusions:
        if found is None:
            lines.append(f"  not! {name}: present, a veto")
        else:
            lines.append(f"    {found.contribution:+g}  not {name}: {' | '.join(found.texts)}  (weight {found.weight:g} x {found.count}; line {found.line})")
    for name, words in explanation.groups:
        lines.append(f"  all {name}: {', '.join(words) if words else 'MISSING'}")
    return "\n".join(lines)


@click.command()
@json_option
@click.option("--explain", "explain_topic", metavar="TOPIC",
              help="show why TOPIC fired or not: terms found, weights, exclusions, required groups, threshold")
@click.argument("source", metavar="FILE|-")
def analyze(as_json: bool, explain_topic: str | None, source: str) -> None:
    """Analyse one article: clean text, language, entities and topics.

    FILE is plain text with the title on its first line, or an HTML page; '-' reads standard input.
    Models and topic rules come from VIGIE_MODELS, VIGIE_LANGUAGES and VIGIE_TOPICS_FILE.
    """
    # spaCy and the lemma tables: 0.44 s of every command's start-up (measured with -X importtime).
    from ingest.analyze import Analyzer, article_from_file
    from ingest.entity_kb import use_cache

    settings = load_settings()
    use_cache(settings.cache_dir)  # the knowledge base built once, not per command
    data, name = _read(source)
    article = article_from_file(data, name)
    try:
        analyzer = Analyzer(settings.models, settings.languages, settings.topics_file, settings.max_text_chars)
    except ValueError as error:  # a language code the detector does not know
        raise click.ClickException(f"configuration: {error}") from None
    except TopicRuleError as error:
        raise click.ClickException(f"{len(error.errors)} error(s) in the topic rules; "
                                   f"`vigie topics check {error.source}` lists them") from None
    if explain_topic is not None:
        try:
            explanation = analyzer.explain_topic(article, explain_topic)
        except KeyError:
            raise click.ClickException(f"no topic {explain_topic!r} in the rules (`vigie topics list` lists them)") from None
        if as_json:
            emit({"article_id": article.article_id, **explanation.to_dict()}, as_json=True)
        else:
            click.echo(_explanation_text(explanation))
        return
    analysis, merges = with_merge_rules(analyzer.analyze(article), settings)
    if as_json:
        emit({"article_id": article.article_id, **analysis.to_dict(), "merge_rules": merges}, as_json=True)
    else:
        if not merges["applied"]:
            progress(f"entity merges not applied (no merge rules read): {merges['reason']}")
        click.echo(_analysis_text(analysis))


@click.group()
def topics() -> None:
    """The topic rules: check a rule file, list the topics in use."""


@topics.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def check(file: Path) -> None:
    """Validate a topic rule file; every error is printed with its line."""
    try:
        rules = load_rules(file)
        unknown = check_iptc_codes(rules, load_known_codes())
    except TopicRuleError as error:
        for line in error.errors:
            click.echo(line, err=True)
        sys.exit(1)
    if unknown:
        for line in unknown:
            click.echo(line, err=True)
        sys.exit(1)
    names = ", ".join(topic.name for topic in rules.topics)
    click.echo(f"{file}: {len(rules.topics)} topic(s), no error: {names}")
    if rules.vocabulary is not None:
        words = sum(len(term.alternatives) for block in rules.vocabulary.topics for term in block.terms)
        click.echo(f"{rules.vocabulary.source}: vocabulary of {len(rules.vocabulary.topics)} subject(s), "
                   f"{words} words, no error")


@topics.command(name="list")
@json_option
def list_topics(as_json: bool) -> None:
    """The topics of the rule file in use (VIGIE_TOPICS_FILE, or the bundled one)."""
    settings = load_settings()
    try:
        rules = load_rules(settings.topics_file)
    except TopicRuleError as error:
        for line in error.errors:
            click.echo(line, err=True)
        sys.exit(1)
    if not as_json:
        progress(f"topic rules from {rules.source}")
    emit([topic.summary() for topic in rules.topics], as_json, _topics_text)


def _topics_text(summaries: list[dict[str, object]]) -> str:
    return "\n".join(
        f"{summary['name']:<17} {summary['label']}  [{' '.join(summary['languages'])}]"  # type: ignore[arg-type]
        f"  threshold {summary['threshold']}, {summary['terms']} terms"
        for summary in summaries
    )
