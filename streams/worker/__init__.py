"""The Faust worker (`newsclean worker`): `main` (entry point), `app` (wiring: topics, tables,
pages, timers), `agents` (route, feed, clean), `state` (the feed state on Faust tables),
`headers` (what one stage tells the next), `metrics` (Prometheus)."""
