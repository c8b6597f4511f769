#!/usr/bin/env bash
# Neovim headless (Debian's package) with its built-in LSP client runs `ssot-lint server` on a
# copy of the incident fixture: every source file opened, the diagnostics it shows must be the
# command line's findings, line for line; then a hover and a code action applied by Neovim
# (see nvim-lsp.lua). Usage: bash .ci/nvim-lsp.sh [BIN] (default target/debug/ssot-lint).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/debug/ssot-lint}")

if ! command -v nvim >/dev/null; then
  apt-get update -qq && apt-get install -y -qq neovim >/dev/null
fi
nvim --version | head -n 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r fixtures/incident "$tmp/incident"
root=$(realpath "$tmp/incident")
rm -rf "$root/.ssot-lint-cache" "$root/target"

# What the command line reports (exit 1: findings).
status=0
(cd "$root" && "$bin" --no-cache --format short) >"$tmp/cli" || status=$?
if [ "$status" != 1 ]; then
  echo "ssot-lint on the incident exited $status, expected 1" >&2
  exit 1
fi
sort "$tmp/cli" >"$tmp/cli.sorted"

files=$(cd "$root" && find src -name '*.rs' | sort)
# The server's summary cache (when CI is not set) in the scratch directory, not the user's.
XDG_CACHE_HOME="$tmp/cache" SSOT_BIN="$bin" SSOT_ROOT="$root" SSOT_FILES="$files" SSOT_OUT="$tmp/nvim" \
  timeout 300 nvim --headless -u NONE -i NONE -n -c "luafile .ci/nvim-lsp.lua" </dev/null

if ! diff -u "$tmp/cli.sorted" "$tmp/nvim"; then
  echo "Neovim's diagnostics differ from the command line's findings (above: - CLI, + Neovim)" >&2
  exit 1
fi
echo "Neovim shows the incident's $(wc -l <"$tmp/nvim") findings, as the command line reports them"
