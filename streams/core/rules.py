"""The named rules of entity extraction, each of which can be switched off for an ablation
(bench/ner_eval.py --ablate). Production code never switches any off: `disabled` stays empty.

Each name is one mechanism documented where it is implemented; bench/README.md reports what each
one gains on the dev-ner half it was not designed on. `DESIGNED_ON` records which half's errors a
mechanism was designed from ("odd" or "even" uri numbers; "dev": older rules written against the
whole dev set, audited on both halves)."""

from __future__ import annotations

MECHANISMS: dict[str, str] = {
    "trim": "spans trimmed and split (the, 's, edge numbers/lower-case words, brackets, commas, dashes)",
    "recase": "shouted words respelled as the article writes them before the model reads them",
    "dateline": "a wire dateline's places tagged GPE",
    "repeats": "untagged repeats of the article's names tagged",
    "short_forms": "surnames and short forms join the full name",
    "acronyms": "acronyms join their expansion",
    "vote": "one entity per surface, typed by a majority vote over its mentions",
    "roles": "titles and roles before a name cut from it and recorded; a title makes a person",
    "metadata": "the item's outlet is an organisation, its byline names persons",
    "sentence_initial": "a one-word span opening a sentence, written in lower case elsewhere, dropped",
    "bracket_country": "a two- or three-word name followed by a bracketed place is a person",
    "dateline_region": "the region after a dateline's city (\"MANCHESTER, England\") is a place",
    "dateline_sentence": "the text after a wire dateline opens a sentence (\"... 1996-08-30 The Bank\")",
    "lists": "untagged items of a list whose other items share one type get that type",
    "score_teams": "an untagged capitalised name followed by a score in a number-dense line is a team",
    "score_lines": "a name followed by a score in a number-dense line is a team (ORG)",
}

DESIGNED_ON: dict[str, str] = {
    "trim": "dev", "recase": "dev", "dateline": "dev", "repeats": "dev", "short_forms": "dev",
    "acronyms": "dev", "vote": "dev",
    "roles": "odd", "metadata": "odd", "sentence_initial": "odd", "bracket_country": "odd",
    "dateline_region": "odd", "score_lines": "odd",
    "dateline_sentence": "even", "lists": "even", "score_teams": "even",
}

disabled: set[str] = set()  # ablation only


def on(name: str) -> bool:
    if name not in MECHANISMS:
        raise KeyError(name)
    return name not in disabled
