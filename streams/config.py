"""Settings: built once from the environment (the only place that reads it) and passed down.

Every setting is `NEWSCLEAN_<NAME>`; core thresholds (dedup, limits, NER) are read from the
same prefix using their field names, e.g. NEWSCLEAN_HORIZON_DAYS for `DedupSettings.horizon_days`."""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, TypeVar

from .core.settings import DedupSettings, FeedSettings, InputSettings, Limits, PipelineSettings
from .logs import LEVELS
from .nlp.settings import NerSettings

PREFIX = "NEWSCLEAN_"
# Read by the tools around the worker, not by `from_env`.
OTHER_NAMES = frozenset({"BROKER_PORT", "KAFKA_HOME", "TEST_BROKER", "DEMO_BROKER", "BENCH_EVAL"})
T = TypeVar("T")
# NEWSCLEAN_COMPRESSION: the codec of every record newsclean writes. Reading needs no setting:
# the consumer decodes each batch by the codec named in its header (all four are installed).
COMPRESSION_CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
STATE_INDEXES = ("dict", "compact")  # streams.worker.state.INDEXES


class ConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Settings:
    broker_url: str = "kafka://127.0.0.1:9092"  # one or more kafka://host:port, comma-separated
    input_topics: tuple[str, ...] = ("newsclean-raw",)  # comma-separated
    input_pattern: str = ""  # a regex of input topic names; when set, input_topics is ignored
    output_topic: str = "newsclean-clean"
    dlq_topic: str = "newsclean-dlq"
    app_id: str = "newsclean"  # the consumer group; also prefixes internal topics
    store: str = "memory://"  # Faust table store: memory:// (rebuilt from the changelog) or rocksdb://
    # The feed-state index in memory (streams/worker/state.py): dict, or compact for a large feed
    # (~5 x less RSS a key; ~0.16-0.4 ms more CPU an article: bench/README.md "100,000 articles a day")
    state_index: str = "dict"
    data_dir: str = ".newsclean"  # Faust's local state directory
    partitions: int = 8  # partitions of the internal by-source topic and table changelog
    web_enabled: bool = True  # health and metrics endpoints only; table and router views stay off
    web_port: int = 6066
    web_host: str = "127.0.0.1"
    log_level: str = "INFO"  # DEBUG adds one "cleaned" line per article
    ner_enabled: bool = True
    # Most articles an agent takes at once. An idle agent takes what has arrived at once
    # (`streams.batches`); under load a batch fills while the previous one is processed.
    batch_size: int = 32
    # How long the group waits for a silent worker (crashed, SIGKILLed) before its partitions move
    # to the others — and before a restarted worker may take them back; at least the broker's
    # group.min.session.timeout.ms (6 s by default). Faust's own default is 60 s.
    session_timeout_s: float = 15.0
    # Codec of the records newsclean writes: output, dead letters, by-source, changelog, replay
    # topics (none|gzip|snappy|lz4|zstd). snappy: about half the bytes of `none` for the least CPU
    # of the four; the worker sends many small batches, and zstd's fixed cost per batch (41 + 26 µs
    # to write and read a one-record batch, against 14 + 5 for snappy) showed as about 0.3 ms more
    # CPU per article without NER (snappy: 0.07). zstd gives the fewest bytes (README "Compression").
    compression: str = "snappy"
    # Security (see README "Security"): PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"  # or PLAIN
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)  # never logged
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    ner: NerSettings = field(default_factory=NerSettings)

    @property
    def producer_compression(self) -> str | None:
        """The codec as aiokafka's and Faust's `compression_type` take it (None: uncompressed)."""
        return None if self.compression == "none" else self.compression

    @property
    def bootstrap_servers(self) -> list[str]:
        return [re.sub(r"^\w+://", "", part.strip()) for part in self.broker_url.split(",") if part.strip()]


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    _reject_unknown(env)
    pipeline = PipelineSettings(dedup=_read(DedupSettings, env), feed=_read(FeedSettings, env), limits=_read(Limits, env),
                                input=_read(InputSettings, env))
    settings = _read(Settings, env, pipeline=pipeline, ner=_read(NerSettings, env, prefix=PREFIX + "NER_"))
    _check(settings)
    return settings


def known_names() -> set[str]:
    names = {PREFIX + n for n in OTHER_NAMES}
    for cls, prefix in ((Settings, PREFIX), (DedupSettings, PREFIX), (FeedSettings, PREFIX), (Limits, PREFIX),
                        (InputSettings, PREFIX), (NerSettings, PREFIX + "NER_")):
        names.update(prefix + f.name.upper() for f in dataclasses.fields(cls) if f.name not in ("pipeline", "ner"))
    return names


def _reject_unknown(env: Mapping[str, str]) -> None:
    """A misspelt variable would otherwise leave its setting at the default without a word."""
    known = known_names()
    unknown = sorted(name for name in env if name.startswith(PREFIX) and name not in known)
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=1)
            hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
        raise ConfigError("unknown setting(s): " + ", ".join(hints))


def _read(cls: type[T], env: Mapping[str, str], prefix: str = PREFIX, **given: Any) -> T:
    values: dict[str, Any] = dict(given)
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = prefix + f.name.upper()
        if f.name in given or name not in env:
            continue
        values[f.name] = _coerce(name, env[name], f.default if f.default is not dataclasses.MISSING else None)
    try:
        return cls(**values)
    except ValueError as exc:  # a settings class's own consistency check
        raise ConfigError(f"invalid {cls.__name__}: {exc}") from None


def _coerce(name: str, raw: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if raw.lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError("expected true or false")
            return raw.lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, tuple):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return raw
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r}: {exc}") from None


def _check(s: Settings) -> None:
    problems = []
    if not s.bootstrap_servers:
        problems.append("NEWSCLEAN_BROKER_URL is empty")
    if not s.input_topics and not s.input_pattern:
        problems.append("set NEWSCLEAN_INPUT_TOPICS or NEWSCLEAN_INPUT_PATTERN")
    if s.input_pattern:
        try:
            re.compile(s.input_pattern)
        except re.error as exc:
            problems.append(f"NEWSCLEAN_INPUT_PATTERN is not a regex: {exc}")
    if s.output_topic in s.input_topics or s.dlq_topic in s.input_topics:
        problems.append("the output and dead-letter topics must differ from the input topics")
    if s.log_level.upper() not in LEVELS:
        problems.append(f"NEWSCLEAN_LOG_LEVEL={s.log_level!r} is not one of {', '.join(LEVELS)}")
    if s.partitions < 1 or s.batch_size < 1:
        problems.append("NEWSCLEAN_PARTITIONS and NEWSCLEAN_BATCH_SIZE must be at least 1")
    if s.state_index not in STATE_INDEXES:
        problems.append(f"NEWSCLEAN_STATE_INDEX={s.state_index!r} is not one of {', '.join(STATE_INDEXES)}")
    if s.compression not in COMPRESSION_CODECS:
        problems.append(f"NEWSCLEAN_COMPRESSION={s.compression!r} is not one of {', '.join(COMPRESSION_CODECS)}")
    if s.security_protocol not in {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}:
        problems.append(f"NEWSCLEAN_SECURITY_PROTOCOL={s.security_protocol!r} is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL")
    if s.security_protocol.startswith("SASL") and not (s.sasl_username and s.sasl_password):
        problems.append("SASL needs NEWSCLEAN_SASL_USERNAME and NEWSCLEAN_SASL_PASSWORD")
    if s.sasl_mechanism not in {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}:
        problems.append(f"NEWSCLEAN_SASL_MECHANISM={s.sasl_mechanism!r} is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
