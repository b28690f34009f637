import pytest

from streams.config import ConfigError, from_env


def test_config_defaults_and_overrides():
    settings = from_env({"NEWSCLEAN_INPUT_TOPICS": "a, b", "NEWSCLEAN_PARTITIONS": "3", "NEWSCLEAN_NER_ENABLED": "off",
                         "NEWSCLEAN_HORIZON_DAYS": "2.5", "NEWSCLEAN_MAX_PARAGRAPHS": "9", "NEWSCLEAN_NER_CACHE_SIZE": "0"})
    assert settings.input_topics == ("a", "b") and settings.partitions == 3 and settings.ner_enabled is False
    assert settings.pipeline.dedup.horizon_days == 2.5
    assert settings.pipeline.limits.max_paragraphs == 9
    assert settings.ner.cache_size == 0
    assert from_env({}).output_topic == "newsclean-clean"


def test_config_input_settings_are_read():
    settings = from_env({"NEWSCLEAN_NON_TEXT": "skip", "NEWSCLEAN_NINJS_VERSION": "1.2", "NEWSCLEAN_URI_PREFIX": "tag:x,2024:"})
    given = settings.pipeline.input
    assert (given.non_text, given.ninjs_version, given.uri_prefix) == ("skip", "1.2", "tag:x,2024:")
    assert from_env({}).pipeline.input.non_text == "pass"


def test_config_ner_languages_default_to_en_and_read_a_list():
    assert from_env({}).ner.languages == ("en",)
    assert from_env({"NEWSCLEAN_NER_LANGUAGES": "EN, de,nb"}).ner.languages == ("en", "de", "nb")
    assert from_env({"NEWSCLEAN_NER_LANGUAGES": "*"}).ner.languages == ("*",)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NEWSCLEAN_PARTITONS": "3"}, "did you mean NEWSCLEAN_PARTITIONS"),
        ({"NEWSCLEAN_PARTITIONS": "many"}, "NEWSCLEAN_PARTITIONS='many'"),
        ({"NEWSCLEAN_NER_ENABLED": "maybe"}, "expected true or false"),
        ({"NEWSCLEAN_OUTPUT_TOPIC": "newsclean-raw"}, "must differ from the input topics"),
        ({"NEWSCLEAN_INPUT_PATTERN": "("}, "not a regex"),
        ({"NEWSCLEAN_SECURITY_PROTOCOL": "SASL_SSL"}, "SASL needs"),
        ({"NEWSCLEAN_HORIZON_DAYS": "0"}, "invalid DedupSettings"),
        ({"NEWSCLEAN_NON_TEXT": "drop"}, "invalid InputSettings"),
        ({"NEWSCLEAN_NINJS_VERSION": "4.2"}, "invalid InputSettings"),
        ({"NEWSCLEAN_NER_LANGUAGES": "english,de"}, "invalid NerSettings: languages must be primary language subtags"),
        ({"NEWSCLEAN_NER_LANGUAGES": " , "}, "invalid NerSettings: languages"),
    ],
)
def test_config_rejects_bad_values_naming_the_variable(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        from_env(env)


def test_config_password_is_not_in_the_repr():
    settings = from_env({"NEWSCLEAN_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "NEWSCLEAN_SASL_USERNAME": "u",
                         "NEWSCLEAN_SASL_PASSWORD": "s3cret-value"})
    assert "s3cret-value" not in repr(settings)


def test_config_compression_codec_default_and_choices():
    assert from_env({}).compression == "snappy" and from_env({}).producer_compression == "snappy"
    assert from_env({"NEWSCLEAN_COMPRESSION": "none"}).producer_compression is None
    for codec in ("gzip", "snappy", "lz4", "zstd"):
        assert from_env({"NEWSCLEAN_COMPRESSION": codec}).producer_compression == codec
    with pytest.raises(ConfigError, match=r"NEWSCLEAN_COMPRESSION='brotli' is not one of none, gzip, snappy, lz4, zstd"):
        from_env({"NEWSCLEAN_COMPRESSION": "brotli"})
