"""Kafka plumbing shared by the worker and the replay: `topics` (checks and creation at start),
`security` (client credentials), `delivery` (records out, refused-as-too-large handling), and
the Faust overrides `consumer` (in-order admission, newsclean's own commits) and `transport`."""
