"""Loading spaCy pipelines for named-entity recognition only.

A packaged pipeline also tags, parses and lemmatises; Vigie needs none of that (lemmas come from the
lookup tables, see ingest.lemmas). In the small models the ``ner`` component has its own embedding
layer, so everything else (``tok2vec``, ``morphologizer``, ``tagger``, ``parser``, ``attribute_ruler``,
``lemmatizer``, ``senter``) is excluded: it is never loaded, never run. A model whose ``ner`` listens
to a shared ``tok2vec`` or ``transformer`` keeps that one component.
"""

from __future__ import annotations

import spacy
from spacy.language import Language

from ingest.errors import VigieError


class ModelUnavailable(VigieError):
    """A configured spaCy model is not installed or has no NER; the message names it."""

    kind = "model-unavailable"


def load_ner_pipeline(model: str, language: str, max_length: int = 1_000_000) -> Language:
    """The ``ner`` component of a packaged spaCy model, with what it needs and nothing else."""
    try:
        nlp = spacy.load(model, exclude=_not_needed(keep=()))
    except OSError as error:
        raise ModelUnavailable(
            f"spaCy model {model!r} for {language!r} is not installed "
            f"(pip install it, or change VIGIE_MODELS): {error}"
        ) from None
    if "ner" not in nlp.pipe_names:
        raise ModelUnavailable(f"spaCy model {model!r} for {language!r} has no 'ner' component")
    upstream = _listened_to(nlp)
    if upstream:
        nlp = spacy.load(model, exclude=_not_needed(keep=upstream))
    nlp.max_length = max_length
    return nlp


#: Components of spaCy's packaged pipelines that NER does not use. Names a model lacks are ignored;
#: components not listed (an entity_ruler, say) stay, since they may add entities.
_NOT_NEEDED = ("tok2vec", "transformer", "morphologizer", "tagger", "parser", "attribute_ruler",
               "lemmatizer", "trainable_lemmatizer", "senter")


def _not_needed(keep: tuple[str, ...]) -> list[str]:
    return [name for name in _NOT_NEEDED if name not in keep]


def _listened_to(nlp: Language) -> tuple[str, ...]:
    """Shared embedding components the ``ner`` model listens to (none in the small models)."""
    architecture = nlp.config["components"]["ner"]["model"].get("tok2vec", {}).get("@architectures", "")
    if "Listener" not in architecture:
        return ()
    upstream = nlp.config["components"]["ner"]["model"]["tok2vec"].get("upstream", "*")
    return ("tok2vec", "transformer") if upstream == "*" else (upstream,)
