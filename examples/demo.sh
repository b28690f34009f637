#!/usr/bin/env bash
# The quickstart's main job: set up (venv, model, Kafka jars), start the local broker unless one
# already answers, run `newsclean demo` (a worker cleaning the sample articles), stop what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup
export NEWSCLEAN_BROKER_PORT="${NEWSCLEAN_BROKER_PORT:-9092}"
if ! .venv/bin/newsclean broker status >/dev/null; then
  trap '.venv/bin/newsclean broker stop' EXIT
  .venv/bin/newsclean broker start
fi
.venv/bin/newsclean demo --broker "127.0.0.1:$NEWSCLEAN_BROKER_PORT" "$@"
