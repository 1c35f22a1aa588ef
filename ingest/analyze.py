"""The whole analysis of an article: clean text, language, entities, topics and lemmas.

``Analyzer.analyze`` is what ``vigie analyze`` and the worker task call; ``analyze_many`` gives the
same results for a batch, faster, by running each language's texts through ``nlp.pipe`` together.

Bad input never raises here: an article with nothing usable (no article in the page, no text left
after cleaning, an undetermined language) comes back with the empty fields and a warning saying why,
so a worker records it and moves on. Only ``article_from_file`` refuses input, with ExtractionError,
when a file is empty or binary: there is then no article to build.

Time and memory are bounded by ``max_text_chars``: plain text is cut at twice that before cleaning
(cleaning only shortens text), HTML at ten times that (markup), and the clean text at that; a
warning says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from spacy.attrs import IDX
from spacy.language import Language
from spacy.tokens import Doc

from ingest.clean import clean_line, clean_text, fold_key, headline_from_text, html_to_text
from ingest.entities import entities_from_mentions, entities_of, known_entities_of, tidy_mentions
from ingest.entity_kb import KnowledgeBase, default_kb
from ingest.entity_linking import Match, match_from, matches_of
from ingest.extract import main_text, page_title
from ingest.fingerprint import bands, signature
from ingest.files import decode_text, looks_like_html, split_title
from ingest.language import DetectedLanguage, LanguageIdentifier
from ingest.lemmas import Lemmatizer, Word, token_ids
from ingest.mentions import Mention
from ingest.models import UNDETERMINED, Analysis, Article, Entity, TopicMatch
from ingest.ner import load_ner_pipeline
from ingest.reuse import (RecentAnalyses, ReusableAnalysis, ReusePlan, context_agrees, language_kept, plan_reuse,
                          segment_spans, sentence_cuts, sentence_matches, settled_zone, tokens_of)
from ingest.topic_model import TopicModel, default_model
from ingest.topic_rules import load_rules
from ingest.topics import TopicClassifier, TopicExplanation

#: Characters of raw text, and of HTML, read per character of clean text kept.
_RAW_TEXT_FACTOR = 2
_HTML_FACTOR = 10
_MAX_TITLE_CHARS = 500
#: How far into an HTML file its title is looked for (the <head>, the <h1>).
_TITLE_SEARCH_CHARS = 500_000
#: Texts per nlp.pipe batch: enough to amortise, few enough that long articles stay in bounds.
_PIPE_BATCH = 32
#: Text sources that are whole web pages (trafilatura finds the article); the others are fragments.
#: What joins the windows of one wire copy into the one text NER reads of it (ingest.reuse): a
#: paragraph break, as between the title and the text.
_WINDOW_JOINER = "\n\n"

#: A window of a copy as NER read it: (window, region), the entities' spans and the tidied mentions,
#: offsets into the copy's analysed text.
_ReadWindow = tuple[tuple[int, int], tuple[int, int], list[tuple[int, int]], list[Mention]]


@dataclass(slots=True)
class _Prepared:
    """An article's clean title and text, before language and NLP."""

    title: str
    text: str
    title_is_separate: bool  # False when the text begins with the title (it is not read twice)
    warnings: list[str] = field(default_factory=list)

    @property
    def analysed_text(self) -> str:
        """What spaCy reads: the title, a paragraph break, the text (or the text alone)."""
        return f"{self.title}\n\n{self.text}" if self.title_is_separate else self.text

    @property
    def text_start(self) -> int:
        return len(self.title) + 2 if self.title_is_separate else 0


@dataclass(slots=True)
class _Parsed:
    """What the analysis reads of an article's tokens, when it is known without parsing it whole
    (a wire copy: its original's sentences and its own new ones, ingest.reuse) or once for two uses
    (an original: its words, and its sentences kept for later copies)."""

    words: list[Word]  # (surface, lemma), title first
    title_words: int  # how many of them are the title's
    lang: str  # the spaCy pipeline's language
    matches: list[Match] | None  # the knowledge base's phrases in the text (None: found later, if needed)


class Analyzer:
    """Analyses articles; keeps one spaCy pipeline per language, loaded on first use.

    ``models``: spaCy package per language (``{"fr": "fr_core_news_sm"}``); ``languages``: what the
    detector chooses from; ``topics_file``: rule file (the bundled one if None).
    """

    def __init__(self, models: Mapping[str, str], languages: Sequence[str],
                 topics_file: Path | None = None, max_text_chars: int = 200_000,
                 knowledge_base: KnowledgeBase | None | bool = True,
                 topic_model: TopicModel | None | bool = True) -> None:
        if max_text_chars < 1:
            raise ValueError(f"max_text_chars must be positive (got {max_text_chars})")
        self.models = {language.lower(): model for language, model in models.items()}
        self.max_text_chars = max_text_chars
        self._identifier = LanguageIdentifier(languages)
        self._lemmatizer = Lemmatizer()
        #: The learned second opinion on the top-level subject (ingest.topic_model): True for the bundled one,
        #: which reads the bundled rules' evidence, so only with them (another rule file: no model).
        model = (default_model() if topics_file is None else None) if topic_model is True else (topic_model or None)
        self._topics = TopicClassifier(load_rules(topics_file), self._lemmatizer, model)
        self._pipelines: dict[str, Language] = {}
        #: Entity identity (ingest.entity_kb): True for the bundled knowledge base, False or None for none.
        self._kb = default_kb() if knowledge_base is True else (knowledge_base or None)

    @property
    def languages(self) -> tuple[str, ...]:
        return self._identifier.languages

    def pipeline(self, language: str) -> Language | None:
        """The NER pipeline of a language, or None when no model is configured for it."""
        if language not in self.models:
            return None
        if language not in self._pipelines:
            # The title and its separator come on top of the longest text.
            max_length = self.max_text_chars + _MAX_TITLE_CHARS + 2
            self._pipelines[language] = load_ner_pipeline(self.models[language], language, max_length)
        return self._pipelines[language]

    def preload(self) -> int:
        """Load now what is otherwise loaded on first use: each configured model, its language's lemma
        table and tokenizer, lingua's language models, the topic rules of each language with a model
        compiled. Returns how many spaCy models this call loaded
        (0 when they were already there: a worker's pool process forked from a loaded parent)."""
        loaded = 0
        for language in self.models:
            fresh = language not in self._pipelines
            nlp = self.pipeline(language)
            loaded += int(fresh and nlp is not None)
            self._lemmatizer.table(language)
            self._lemmatizer.tokenizer(language)
            if nlp is not None and fresh:
                # The first call builds lazily made parts (tokenizer caches, the model's ops).
                nlp("Vigie.")
        # lingua reads its n-gram models on the first detection.
        self._identifier.detect("Vigie lit les nouvelles du monde entier ; Vigie reads the news of the world.")
        # The topic rules of each language with a model (its lemma table is loaded above), compiled.
        self._topics.preload(self.models)
        return loaded

    def analyze(self, article: Article) -> Analysis:
        return self.analyze_many([article])[0]

    def analyze_many(self, articles: Sequence[Article], recent: RecentAnalyses | None = None,
                     max_changed: float = 0.3,
                     on_reuse: Callable[[Article, ReusePlan], None] | None = None) -> list[Analysis]:
        """The analyses of ``articles``. With ``recent`` (analyses of the last hours), a near-duplicate
        of an article analysed there takes over its mentions where their paragraphs are the same and
        only its other paragraphs go through NER (ingest.reuse; ``on_reuse`` hears of each); the
        articles analysed in full are added to ``recent``.

        Within the batch, the articles are taken as if they came one by one, in their order: an
        article may also take over from an earlier article of the batch analysed in full (those are
        analysed first, then their copies). So an article is taken over iff a recent analysis or an
        earlier article of the batch analysed in full is its near-duplicate (the most similar one
        is its original), whatever the batch size."""
        prepared = [self._prepare(article) for article in articles]
        if recent is not None:
            return self._analyze_reusing(articles, prepared, recent, max_changed, on_reuse)
        detected = [self._identifier.detect(_detection_text(item), article.language_hint)
                    for item, article in zip(prepared, articles)]
        docs: list[Doc | None] = [None] * len(prepared)
        mentions: list[list[Mention] | None] = [None] * len(prepared)
        # A title alone (a feed item with an empty summary) is still worth its lemmas and topics.
        self._ner([index for index, item in enumerate(prepared) if item.analysed_text.strip()],
                  prepared, detected, docs, mentions)
        return [self._analysis(item, language, doc, found)
                for item, language, doc, found in zip(prepared, detected, docs, mentions)]

    def _analyze_reusing(self, articles: Sequence[Article], prepared: Sequence[_Prepared], recent: RecentAnalyses,
                         max_changed: float, on_reuse: Callable[[Article, ReusePlan], None] | None) -> list[Analysis]:
        """``analyze_many`` with recent analyses. A copy is planned (ingest.reuse) before its language
        is known: it keeps its original's when what the detector reads of the two is the same or
        nearly (``language_kept``); otherwise it is detected, and the plan is made again among the
        candidates of that language."""
        detected: list[DetectedLanguage | None] = [None] * len(prepared)
        docs: list[Doc | None] = [None] * len(prepared)
        mentions: list[list[Mention] | None] = [None] * len(prepared)
        parsed: list[_Parsed | None] = [None] * len(prepared)
        signatures = {index: signature(item.text) for index, item in enumerate(prepared) if item.text.strip()}
        found = dict(zip(signatures, recent.candidates(list(signatures.values())))) if signatures else {}
        plans: dict[int, ReusePlan] = {}
        # In the batch's order, as if its articles came one by one: an article may also take over
        # from an earlier article of the batch analysed in full (its mentions, once found, are put
        # into the plan below).
        in_batch: dict[str, list[int]] = {}
        from_batch: dict[int, int] = {}
        for index, (item, article) in enumerate(zip(prepared, articles)):
            if index not in signatures:
                detected[index] = self._identifier.detect(_detection_text(item), article.language_hint)
                continue
            copy_signature, candidates = signatures[index], found[index]
            keys = bands(copy_signature)
            earlier = dict.fromkeys(other for key in keys for other in in_batch.get(key, ()))
            pending = {articles[other].article_id: other for other in earlier}
            pool = [*candidates, *(self._in_batch_original(articles[other], prepared[other], signatures[other],
                                                           detected[other]) for other in earlier)]
            plan = plan_reuse(item.analysed_text, None, copy_signature, pool, max_changed, article.article_id)
            language = self._kept_language(item, plan) if plan is not None else None
            kept = language is not None
            if language is None:
                language = self._identifier.detect(_detection_text(item), article.language_hint)
                if plan is not None and plan.original is not None and plan.original.language != language.code:
                    plan = plan_reuse(item.analysed_text, language.code, copy_signature, pool, max_changed,
                                      article.article_id)
            detected[index] = language
            if language.code not in self.models:
                continue
            if plan is None:
                for key in keys:
                    in_batch.setdefault(key, []).append(index)
                continue
            plans[index] = replace(plan, language_kept=kept)
            if plan.original_id in pending and not any(c.article_id == plan.original_id for c in candidates):
                from_batch[index] = pending[plan.original_id]
        known: list[DetectedLanguage] = [language for language in detected if language is not None]
        assert len(known) == len(prepared)
        # The copies' windows go through NER with the articles analysed in full, in one nlp.pipe per
        # language (a batch of a few short texts costs more per word). A window depends on the texts
        # only, not on the original's mentions: an in-batch original's are not needed yet.
        windows = {index: [(window, region) for region, window in zip(plan.to_analyse, plan.context)]
                   for index, plan in plans.items()}
        # A title alone (a feed item with an empty summary) is still worth its lemmas and topics.
        read = self._ner([index for index, item in enumerate(prepared) if item.analysed_text.strip() and index not in plans],
                         prepared, known, docs, mentions, windows)
        analysed: dict[int, ReusableAnalysis] = {}
        for index in signatures:
            doc = docs[index]
            if index in plans or mentions[index] is None or doc is None:
                continue
            parsed[index], offsets = self._parsed_whole(prepared[index], doc, known[index].code)
            analysed[index] = self._reusable(articles[index], prepared[index], signatures[index], known[index],
                                             mentions[index] or (), parsed[index], offsets)
        for index, original in from_batch.items():
            # The same choice as above, now with the original's mentions, tokens and phrases.
            plan = plan_reuse(prepared[index].analysed_text, known[index].code, signatures[index],
                              [analysed[original]], max_changed, articles[index].article_id)
            assert plan is not None and plan.original_id == articles[original].article_id
            assert (plan.to_analyse, plan.context) == (plans[index].to_analyse, plans[index].context)
            plans[index] = replace(plan, language_kept=plans[index].language_kept)
        in_full = self._settle_copies(prepared, plans, mentions, read)
        if in_full:
            # The change reached the context read around it: these copies are analysed in full.
            for index in in_full:
                del plans[index]
            self._ner([index for index in in_full], prepared, known, docs, mentions)
        for index, plan in plans.items():
            parsed[index] = self._parsed_copy(prepared[index], known[index].code, plan)
        if on_reuse is not None:
            for index, plan in sorted(plans.items()):
                on_reuse(articles[index], plan)
        recent.remember(list(analysed.values()))
        return [self._analysis(item, language, doc, found_mentions, words)
                for item, language, doc, found_mentions, words in zip(prepared, known, docs, mentions, parsed)]

    def _in_batch_original(self, article: Article, item: _Prepared, copy_signature: str,
                           language: DetectedLanguage | None) -> ReusableAnalysis:
        """An earlier article of the batch analysed in full, as a candidate original before its NER."""
        assert language is not None
        return ReusableAnalysis(article.article_id, copy_signature, language.code, item.analysed_text, (),
                                item.text_start, language.confidence if language.note is None else None)

    def _kept_language(self, item: _Prepared, plan: ReusePlan) -> DetectedLanguage | None:
        """The original's language when the copy keeps it (ingest.reuse.language_kept), else None."""
        original = plan.original
        if original is None or original.language_confidence is None:
            return None
        copy_sample = self._identifier.sample(_detection_text(item))
        # The detector reads the title, one line break, the text; the analysed text has two.
        sample_end = len(copy_sample) + int(item.title_is_separate and len(copy_sample) > len(item.title) + 1)
        if not language_kept(plan, copy_sample, self._identifier.sample(original.detection_text()), sample_end):
            return None
        return DetectedLanguage(original.language, original.language_confidence)

    def _parsed_whole(self, item: _Prepared, doc: Doc, language: str) -> tuple[_Parsed, list[int]]:
        """The words and knowledge-base phrases of an article parsed whole (as ``_words`` and
        entity linking find them), and where its tokens begin: read once for its analysis and for
        its later copies."""
        tokens = token_ids(doc)
        title_tokens = _title_token_count(doc, item.text_start)
        title_words = self._lemmatizer.words_of_ids(tokens[:title_tokens], doc.vocab.strings, language)
        words = title_words + self._lemmatizer.words_of_ids(tokens[title_tokens:], doc.vocab.strings, language)
        matches = matches_of(item.analysed_text, doc.lang_, self._kb) if self._kb is not None else None
        return _Parsed(words, len(title_words), doc.lang_, matches), doc.to_array(IDX).tolist()

    def _reusable(self, article: Article, item: _Prepared, copy_signature: str, language: DetectedLanguage,
                  found: Sequence[Mention], parsed: _Parsed, offsets: Sequence[int]) -> ReusableAnalysis:
        """What a later copy of this article, analysed in full, takes over (ingest.reuse)."""
        sentences = segment_spans(item.analysed_text)
        matches = () if parsed.matches is None else sentence_matches(
            sentences, ((match.start, match.end, match.last_word - match.first_word, match.lookup)
                        for match in parsed.matches))
        return ReusableAnalysis(article.article_id, copy_signature, language.code, item.analysed_text, tuple(found),
                                item.text_start, language.confidence if language.note is None else None,
                                sentence_cuts(item.analysed_text, sentences, offsets), matches)

    def _parsed_copy(self, item: _Prepared, language: str, plan: ReusePlan) -> _Parsed:
        """A copy's words and knowledge-base phrases, sentence by sentence: its original's for the
        sentences they share, its own for the others (each tokenised, and its phrases found, alone:
        no token and no phrase runs over a sentence end)."""
        nlp = self.pipeline(language)
        assert nlp is not None and plan.original is not None
        original = plan.original
        text = item.analysed_text
        kept_tokens = len(original.sentence_cuts) > max(plan.sources, default=-1)
        kept_matches = len(original.sentence_matches) > max(plan.sources, default=-1)
        title_tokens: list[str] = []
        tokens: list[str] = []
        matches: list[Match] | None = [] if self._kb is not None else None
        for (start, end), source in zip(plan.sentences, plan.sources):
            if source >= 0 and kept_tokens:
                sentence = tokens_of(text[start:end], original.sentence_cuts[source])
            else:
                sentence = [token.text for token in nlp.tokenizer(text[start:end]) if not token.is_space]
            (title_tokens if start < item.text_start else tokens).extend(sentence)
            if matches is None or self._kb is None:
                continue
            if source >= 0 and kept_matches:
                matches.extend(match_from(self._kb, start + low, start + high, size, lookup)
                               for low, high, size, lookup in original.sentence_matches[source])
            else:
                matches.extend(replace(match, start=start + match.start, end=start + match.end)
                               for match in matches_of(text[start:end], nlp.lang, self._kb))
        title_words = self._lemmatizer.words(title_tokens, language)
        return _Parsed(title_words + self._lemmatizer.words(tokens, language), len(title_words), nlp.lang, matches)

    def _ner(self, indices: Sequence[int], prepared: Sequence[_Prepared], detected: Sequence[DetectedLanguage],
             docs: list[Doc | None], mentions: list[list[Mention] | None],
             windows: Mapping[int, Sequence[tuple[tuple[int, int], tuple[int, int]]]] | None = None,
             ) -> dict[int, list[_ReadWindow] | None]:
        """Parse the articles at ``indices`` whole: NER where the language has a model, tokens otherwise.

        ``windows``: (window, region) of the copies to read in part (languages with a model only), in
        the same nlp.pipe: a copy's windows joined into one text (a short text costs more per word
        alone), each window's entities taken back to it (``_ReadWindow``). None for a copy where an
        entity runs from one window into the next: what it covers cannot be told from there."""
        by_language: dict[str, list[int]] = {}
        for index in indices:
            by_language.setdefault(detected[index].code, []).append(index)
        joined: dict[str, list[tuple[int, list[tuple[tuple[int, int], tuple[int, int], int]], str]]] = {}
        for index, pieces in (windows or {}).items():
            text, placed, at = prepared[index].analysed_text, [], 0
            for window, region in pieces:
                placed.append((window, region, at))
                at += window[1] - window[0] + len(_WINDOW_JOINER)
            by_language.setdefault(detected[index].code, [])
            joined.setdefault(detected[index].code, []).append(
                (index, placed, _WINDOW_JOINER.join(text[window[0]:window[1]] for window, _ in pieces)))
        read: dict[int, list[_ReadWindow] | None] = {}
        for language, in_language in by_language.items():
            texts = [prepared[index].analysed_text for index in in_language]
            in_part = joined.get(language, [])
            texts += [text for _, _, text in in_part]
            nlp = self.pipeline(language)
            parsed = (nlp.pipe(texts, batch_size=_PIPE_BATCH) if nlp is not None
                      else self._lemmatizer.tokenizer(language).pipe(texts, batch_size=_PIPE_BATCH))
            for index, doc in zip(in_language, parsed):
                docs[index] = doc
                if nlp is not None:
                    # doc.text is rebuilt from the tokens on each access; it is the analysed text
                    mentions[index] = tidy_mentions(doc.ents, prepared[index].analysed_text)
            for (index, placed, text), doc in zip(in_part, parsed):
                read[index] = _windows_read(placed, [(entity.start_char, entity.end_char) for entity in doc.ents],
                                            tidy_mentions(doc.ents, text))
        return read

    def _settle_copies(self, prepared: Sequence[_Prepared], plans: Mapping[int, ReusePlan],
                       mentions: list[list[Mention] | None],
                       read_windows: Mapping[int, Sequence[_ReadWindow] | None]) -> list[int]:
        """Each copy's mentions: its original's, and in the regions its original lacks those NER found
        in their windows (each region read with about CONTEXT_CHARS on either side: ``read_windows``).
        Returns the copies whose context did not agree with their original's mentions
        (ingest.reuse.context_agrees): those are to be analysed in full."""
        disagree: set[int] = set()
        zones: dict[int, list[tuple[int, int]]] = {}
        taken: dict[int, list[Mention]] = {}
        checks: dict[int, list[tuple[tuple[int, int], tuple[int, int], list[Mention]]]] = {}
        for index in plans:
            windows = read_windows.get(index, [])
            if windows is None:
                disagree.add(index)
                continue
            for window, region, spans, read in windows:
                if index in disagree:
                    continue
                text = prepared[index].analysed_text
                zone = settled_zone(text, window, region, spans)
                if zone is None:
                    disagree.add(index)
                    continue
                zones.setdefault(index, []).append(zone)
                taken.setdefault(index, []).extend(
                    mention for mention in read if mention.start < zone[1] and zone[0] < mention.end)
                checks.setdefault(index, []).append((window, zone, read))
        for index, plan in plans.items():
            if index in disagree:
                continue
            kept = [mention for mention in plan.reused
                    if not any(mention.start < high and low < mention.end for low, high in zones.get(index, ()))]
            text = prepared[index].analysed_text
            if not all(context_agrees(text, window, zone, read, kept) for window, zone, read in checks.get(index, ())):
                disagree.add(index)
                continue
            mentions[index] = sorted([*kept, *taken.get(index, ())], key=lambda mention: mention.start)
        return sorted(disagree)

    def explain_topic(self, article: Article, name: str) -> TopicExplanation:
        """Why topic ``name`` fired on the article or did not (KeyError: no topic of that name)."""
        item = self._prepare(article)
        language = self._identifier.detect(_detection_text(item), article.language_hint).code
        if language == UNDETERMINED or not item.analysed_text.strip():
            return self._topics.explain([], 0, UNDETERMINED, name)
        nlp = self.pipeline(language)
        doc = nlp(item.analysed_text) if nlp is not None else self._lemmatizer.tokenizer(language)(item.analysed_text)
        title_words, words = self._words(item, doc, language)
        return self._topics.explain(words, len(title_words), language, name)

    def topic_features(self, article: Article) -> tuple[str, frozenset[str]]:
        """The article's language and what the topic model reads of it: what the model is trained on
        (bench/topic_model.py)."""
        language, found, _ = self.topic_evidence(article)
        return language, found

    def topic_evidence(self, article: Article) -> tuple[str, frozenset[str], list[TopicMatch]]:
        """The article's language, what the topic model reads of it, and the topics its rules alone give
        (what the model is trained and judged on: bench/topic_model.py). The words are tokenised as the
        analysis does, by the language's pipeline's own tokenizer, without running its pipes."""
        item = self._prepare(article)
        language = self._identifier.detect(_detection_text(item), article.language_hint).code
        if language == UNDETERMINED or not item.analysed_text.strip():
            return language, frozenset(), []
        nlp = self.pipeline(language)
        tokenizer = nlp.tokenizer if nlp is not None else self._lemmatizer.tokenizer(language)
        title_words, words = self._words(item, tokenizer(item.analysed_text), language)
        return (language, self._topics.model_features(words, len(title_words), language),
                self._topics.topics(words, len(title_words), language, with_model=False))

    def _words(self, item: _Prepared, doc: Doc, language: str) -> tuple[list[Word], list[Word]]:
        """The title's words, and all the words (title first), as (surface, lemma)."""
        tokens = token_ids(doc)
        title_tokens = _title_token_count(doc, item.text_start)
        title_words = self._lemmatizer.words_of_ids(tokens[:title_tokens], doc.vocab.strings, language)
        return title_words, title_words + self._lemmatizer.words_of_ids(tokens[title_tokens:], doc.vocab.strings,
                                                                         language)

    def _prepare(self, article: Article) -> _Prepared:
        warnings: list[str] = []
        body = article.body
        if article.is_html:
            body = self._bounded(body, self.max_text_chars * _HTML_FACTOR, warnings, article)
            if article.text_source == "file":  # an HTML page given to `vigie analyze`
                extracted = main_text(body, article.url)
                if extracted is None:
                    warnings.append("no article found in the HTML page")
                text = clean_text(extracted) if extracted is not None else ""
            else:
                text = html_to_text(body)
        else:
            text = clean_text(self._bounded(body, self.max_text_chars * _RAW_TEXT_FACTOR, warnings, article))
        if len(text) > self.max_text_chars:
            if not warnings:
                warnings.append(_truncation_warning(self.max_text_chars, article))
            text = _cut_at_word(text, self.max_text_chars)
        if not text and not warnings:
            warnings.append("no text left after cleaning")
        title = clean_line(article.title)[:_MAX_TITLE_CHARS] or (headline_from_text(text) if text else "")
        return _Prepared(title, text, title_is_separate=bool(title) and not _begins_with(text, title),
                         warnings=warnings)

    def _bounded(self, body: str, limit: int, warnings: list[str], article: Article) -> str:
        if len(body) <= limit:
            return body
        warnings.append(_truncation_warning(self.max_text_chars, article))
        return body[:limit]

    def _analysis(self, item: _Prepared, detected: DetectedLanguage, doc: Doc | None,
                  mentions: Sequence[Mention] | None = None, parsed: _Parsed | None = None) -> Analysis:
        warnings = list(item.warnings)
        language = detected.code
        if detected.note and item.text:  # with no text, the reason is already there
            warnings.append(detected.note)
        if parsed is not None:
            words, title_count, lang, matches = parsed.words, parsed.title_words, parsed.lang, parsed.matches
        elif doc is not None:
            title_words, words = self._words(item, doc, language)
            title_count, lang, matches = len(title_words), doc.lang_, None
        else:
            return Analysis(language=language, language_confidence=detected.confidence, title=item.title,
                            text=item.text, entities=(), topics=(), lemmas="", warnings=tuple(warnings))

        entities: tuple[Entity, ...] = ()
        topics: list[TopicMatch] = []
        if language != UNDETERMINED:
            if language in self.models and mentions is not None:
                entities = entities_from_mentions(mentions, item.analysed_text, lang, item.text_start, self._kb,
                                                  matches)
            elif language in self.models and doc is not None:
                entities = entities_of(doc, item.text_start, self._kb)
            elif self._kb is not None and doc is not None:
                entities = known_entities_of(doc.text, language, self._kb, item.text_start)
                warnings.append(f"no entity model for {language!r}: known entities only")
            else:
                warnings.append(f"no entity model for {language!r}: entities not extracted")
            if self._topics.has_lexicon(language):
                topics = self._topics.topics(words, title_count, language)
            else:
                warnings.append(f"no topic lexicon for {language!r}: topics not assigned")
        return Analysis(
            language=language,
            language_confidence=detected.confidence,
            title=item.title,
            text=item.text,
            entities=entities,
            topics=tuple(topics),
            lemmas=_lemma_field(words),
            warnings=tuple(warnings),
        )


def article_from_file(raw: bytes | str, source_name: str) -> Article:
    """An article from a file's content: HTML page, or plain text with its title on the first line.

    ExtractionError (naming ``source_name``) when the content is empty or binary.
    """
    text = decode_text(raw, source_name)
    content = raw if isinstance(raw, bytes) else raw.encode("utf-8", errors="surrogatepass")
    article_id = hashlib.sha256(content).hexdigest()[:32]
    if looks_like_html(text):
        title = page_title(text[:_TITLE_SEARCH_CHARS]) or ""
        return Article(article_id=article_id, title=title, body=text, is_html=True, text_source="file")
    title, body = split_title(text)
    return Article(article_id=article_id, title=title, body=body, is_html=False, text_source="file")


def _windows_read(placed: Sequence[tuple[tuple[int, int], tuple[int, int], int]], spans: Sequence[tuple[int, int]],
                  found: Sequence[Mention]) -> list[_ReadWindow] | None:
    """The entities (``spans``) and mentions (``found``) NER read in a copy's joined windows, each
    taken back to its window (``placed``: window, region, where the window begins in the joined
    text), offsets into the copy's text. An entity the model ran from the end of a window into the
    next is cut at the windows' edges, as when each is read alone: both ends of a window cut out of
    the copy are read without their context and are not trusted (ingest.reuse.EDGE_CHARS). None
    if a mention did so (tidied mentions are cut at paragraph breaks: never seen)."""
    read: list[_ReadWindow] = [(window, region, [], []) for window, region, _ in placed]
    for (window, _, at), (_, _, kept_spans, kept_mentions) in zip(placed, read):
        end, shift = at + window[1] - window[0], window[0] - at
        kept_spans.extend((max(start, at) + shift, min(stop, end) + shift) for start, stop in spans
                          if start < end and at < stop)
        for mention in found:
            if mention.start < end and at < mention.end:
                if mention.start < at or mention.end > end:
                    return None
                kept_mentions.append(replace(mention, start=mention.start + shift, end=mention.end + shift))
    return read


def _title_token_count(doc: Doc, text_start: int) -> int:
    if text_start == 0:
        return 0
    span = doc.char_span(0, text_start, alignment_mode="contract")
    return len(span) if span is not None else 0


def _detection_text(item: _Prepared) -> str:
    return f"{item.title}\n{item.text}" if item.title_is_separate else item.text


def _begins_with(text: str, title: str) -> bool:
    # A title derived from the text may end in "…" where it was shortened.
    head = title.rstrip("…").strip()
    return bool(head) and fold_key(text[: len(head)]) == fold_key(head)


def _cut_at_word(text: str, limit: int) -> str:
    space = text.rfind(" ", limit // 2, limit)
    return text[: space if space > 0 else limit].rstrip()


def _truncation_warning(limit: int, article: Article) -> str:
    kind = "HTML" if article.is_html else "text"
    return f"text truncated to its first {limit} characters (the {kind} had {len(article.body)})"


def _lemma_field(words: Sequence[Word]) -> str:
    return " ".join(lemma for _, lemma in words)
