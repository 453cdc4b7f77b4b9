#!/usr/bin/env bash
# End-to-end editor test: drives `vigil lsp` with Neovim's built-in LSP client, headless.
#
#   tests/editor/run.sh [path/to/vigil]      (default: target/debug/vigil; builds nothing)
#
# Needs `nvim` (0.7 or later; Debian: apt-get install -y neovim). Works on a scratch copy of
# rulebooks/cn-national, so the repository is never touched. Exit code 0 only if every step passed.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"

# A relative $1 is taken from the caller's directory; the default from the repository root.
bin="${1:-$repo/target/debug/vigil}"
case "$bin" in
  /*) ;;
  *) bin="$PWD/$bin" ;;
esac
cd "$repo"
if [ ! -x "$bin" ]; then
  echo "FAIL: setup: no executable vigil binary at $bin (build it with: cargo build -p vigil)" >&2
  echo "editor test: 0 passed, 1 failed"
  exit 1
fi
if ! command -v nvim >/dev/null 2>&1; then
  echo "FAIL: setup: nvim is not installed (apt-get install -y neovim)" >&2
  echo "editor test: 0 passed, 1 failed"
  exit 1
fi
echo "$(nvim --version | head -n 1); server: $bin lsp"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp -R rulebooks/cn-national "$tmp/cn-national"

# -u NONE: no user config or plugins; -i NONE: no shada; an outer timeout so that a hung
# client can never hang CI (every step has its own 10 s limit well inside it).
VIGIL_BIN="$bin" VIGIL_BOOK="$tmp/cn-national" HOME="$tmp" XDG_STATE_HOME="$tmp/state" \
  XDG_CACHE_HOME="$tmp/cache" XDG_DATA_HOME="$tmp/data" \
  timeout 180 nvim --headless -u NONE -i NONE -n \
    -c "luafile tests/editor/nvim_lsp_test.lua" </dev/null
