#!/usr/bin/env bash
# `--fix --unsafe-fixes` over a copy of the benchmark corpus (../shared/bench/make-corpus.sh):
# one module per crate marked as SSOT, one module marked deprecated. Checks that every
# rewritten file still parses (the fixer refuses otherwise), that a second run changes
# nothing, and that the diff touches only files that had findings.
#
# Usage: scripts/corpus-fix.sh [ssot-lint binary]   (default target/release/ssot-lint)
set -euo pipefail
bin=$(realpath "${1:-target/release/ssot-lint}")
corpus=${SSOT_CORPUS_DIR:-/tmp/ssot-corpus}/vendor
[ -d "$corpus" ] || { echo "no corpus at $corpus: run ../shared/bench/make-corpus.sh" >&2; exit 2; }
work=$(mktemp -d /tmp/ssot-corpus-fix.XXXXXX)
cp -R "$corpus" "$work/vendor"
cd "$work/vendor"

# The config: for every crate with a lib, its first `mod x;` declared at the top level of the
# lib's root file (at the start of a line) whose file exists. An indented one can sit inside
# a `macro_rules!` body (serde's `mod private;`), which declares no module: naming it made
# the run exit 2 ("module `serde::private` does not exist").
python3 - <<'PY' > ssot-lint.toml
import os, re, tomllib
mods = []
for d in sorted(os.listdir('.')):
    man = os.path.join(d, 'Cargo.toml')
    if not os.path.isfile(man):
        continue
    try:
        t = tomllib.load(open(man, 'rb'))
    except Exception:
        continue
    pkg = t.get('package', {})
    lib = t.get('lib', {})
    root = os.path.join(d, lib.get('path', 'src/lib.rs'))
    if 'name' not in pkg or not os.path.isfile(root):
        continue
    name = lib.get('name', pkg['name']).replace('-', '_')
    src = open(root, encoding='utf-8', errors='replace').read()
    base = os.path.dirname(root)
    for m in re.finditer(r'^(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;', src, re.M):
        x = m.group(1)
        if os.path.isfile(os.path.join(base, x + '.rs')) or os.path.isfile(os.path.join(base, x, 'mod.rs')):
            mods.append(f'{name}::{x}')
            break
print('[ssot]')
print('modules = [' + ', '.join(f'"{m}"' for m in mods) + ']')
print()
print('[deprecated]')
print('"tokio::sync" = "tokio::task"')
PY
echo "config: $(grep -o '::' ssot-lint.toml | wc -l) module paths"

git init -q . && git add -A && git -c user.email=x@y -c user.name=corpus commit -qm base
"$bin" --format short . > "$work/before.short" 2>/dev/null || true
echo "findings before: $(wc -l < "$work/before.short") ($(cut -d' ' -f2 "$work/before.short" | sort | uniq -c | tr '\n' ' '))"
start=$(date +%s.%N)
"$bin" --fix --unsafe-fixes --allow-dirty --format short . > "$work/after.short" 2> "$work/fix.err" || true
end=$(date +%s.%N)
tail -1 "$work/fix.err"
echo "fix run: $(echo "$end - $start" | bc) s"
git diff --stat | tail -1
changed=$(git diff --name-only | sort)
with_findings=$(cut -d: -f1 "$work/before.short" | sort -u)
extra=$(comm -23 <(echo "$changed") <(echo "$with_findings") | sed '/^$/d' | wc -l)
echo "changed files without findings: $extra"
git add -A && git -c user.email=x@y -c user.name=corpus commit -qm fixed
"$bin" --fix --unsafe-fixes --format short . > /dev/null 2>&1 || true
echo "second run changed: $(git status --porcelain | wc -l) files"
echo "work dir: $work"
