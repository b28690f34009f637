#!/usr/bin/env bash
# THE test command: `bash tests/run.sh [pytest args]`. Sets up, then runs pytest against
# NEWSCLEAN_TEST_BROKER if given, else against a local broker on NEWSCLEAN_BROKER_PORT (9092):
# the one already answering there, or one started here and stopped again on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup

if [ -z "${NEWSCLEAN_TEST_BROKER:-}" ]; then
  export NEWSCLEAN_BROKER_PORT="${NEWSCLEAN_BROKER_PORT:-9092}"
  export NEWSCLEAN_TEST_BROKER="127.0.0.1:$NEWSCLEAN_BROKER_PORT"
  if ! .venv/bin/python -m streams.dev.broker status >/dev/null; then
    stop_broker() { local rc=$?; .venv/bin/python -m streams.dev.broker stop || true; exit "$rc"; }
    trap stop_broker EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    .venv/bin/python -m streams.dev.broker start
  fi
fi

status=0
.venv/bin/pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "tests/run.sh: pytest collected no tests; that counts as a failure" >&2
  status=1
fi
exit "$status"
