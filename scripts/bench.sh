#!/usr/bin/env bash
# Reproduce the README's performance table: parse-only vs ssot-lint (with and without the
# prefilter, and on 1 thread) vs ast-grep's 2-pattern rule, paired runs, medians, CPU seconds
# and peak RSS (GNU time).
#
# Usage: scripts/bench.sh [DIR] [THREADS] [RUNS]
#   DIR defaults to the benchmark corpus /tmp/ssot-corpus/vendor (../shared/bench/make-corpus.sh).
#   ast-grep is used when installed: npm install --prefix /tmp/astgrep @ast-grep/cli
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/ssot-corpus/vendor}
threads=${2:-2}
runs=${3:-5}
[ -d "$dir" ] || { echo "no corpus at $dir (../shared/bench/make-corpus.sh)" >&2; exit 1; }
rule=${SSOT_AST_GREP_RULE:-../shared/bench/queries/ast-grep-rule.yml}
cargo bench --locked --bench corpus -- "$dir" --threads "$threads" --runs "$runs" \
  --rule "$rule" --no-prefilter-too --one-thread-too
