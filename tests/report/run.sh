#!/usr/bin/env bash
# Browser test of `vigil report`: opens the page of the national sample findings in headless
# Chromium (playwright-core driving the system's /usr/bin/chromium) and checks its totals,
# search and escaping, with no console error and no request beyond file: and data:.
#
#   tests/report/run.sh [path/to/vigil]      (default: target/debug/vigil; builds nothing)
#
# Needs node (20 or later), npm and chromium (Debian: apt-get install -y chromium).
# Exit code 0 only if every check passed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

bin="${1:-$repo/target/debug/vigil}"
case "$bin" in
  /*) ;;
  *) bin="$PWD/$bin" ;;
esac
if [ ! -x "$bin" ]; then
  echo "FAIL: setup: no executable vigil binary at $bin (build it with: cargo build -p vigil)" >&2
  echo "report test: 0 passed, 1 failed"
  exit 1
fi
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "FAIL: setup: no chromium at $chromium (apt-get install -y chromium)" >&2
  echo "report test: 0 passed, 1 failed"
  exit 1
fi
echo "$("$chromium" --version 2>/dev/null | head -n 1); vigil: $bin"

cd "$here"
npm ci --no-audit --no-fund --silent
# An outer limit so that a hung browser can never hang CI.
VIGIL_BIN="$bin" CHROMIUM="$chromium" timeout 300 node report_test.mjs
