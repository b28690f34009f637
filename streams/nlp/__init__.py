"""Named entities with spaCy: `settings` (NEWSCLEAN_NER_*), `model` (loading the pipeline),
`pool` (the model in child processes), `extractor` (entities per article: planning, cache,
merging, place linking with `geodata`). The decisions themselves are in `streams.core`
(entities, mentions, casing, places); this package runs the model and feeds them."""
