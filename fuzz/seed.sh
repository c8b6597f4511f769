#!/usr/bin/env bash
# Seed corpora for the fuzz targets from the repository's fixtures (written to corpus/,
# which git ignores). Run from anywhere: `bash fuzz/seed.sh`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
out="$here/corpus"
mkdir -p "$out/lint_file" "$out/lint_crate" "$out/fix" "$out/config" "$out/config_globs" \
  "$out/cache_files" "$out/baseline"

n=0
# One Rust file per seed.
while IFS= read -r -d '' f; do
  n=$((n + 1))
  cp "$f" "$out/lint_file/fixture-$n.rs"
done < <(find "$repo/fixtures" -name '*.rs' -size -64k -print0 | sort -z)

# One fixture package per seed, in the `//- /path` format the crate targets split.
n=0
while IFS= read -r -d '' manifest; do
  dir="$(dirname "$manifest")"
  n=$((n + 1))
  seed="$out/lint_crate/package-$n.txt"
  : > "$seed"
  while IFS= read -r -d '' f; do
    rel="${f#"$dir"/}"
    printf '//- /%s\n' "$rel" >> "$seed"
    cat "$f" >> "$seed"
    # A file that does not end in a newline would swallow the next section marker.
    [ -z "$(tail -c1 "$f")" ] || printf '\n' >> "$seed"
  done < <(find "$dir" \( -name target -prune \) -o -type f \( -name '*.rs' -o -name Cargo.toml -o -name ssot-lint.toml \) -print0 | sort -z | head -z -n 16)
  cp "$seed" "$out/fix/package-$n.txt"
done < <(find "$repo/fixtures" -name Cargo.toml -print0 | sort -z)

# Configs and rule packs.
n=0
while IFS= read -r -d '' f; do
  n=$((n + 1))
  cp "$f" "$out/config/seed-$n.toml"
done < <(find "$repo/fixtures" "$repo/lints" -name '*.toml' ! -name Cargo.toml -print0 | sort -z)

# Globs, one per line (see fuzz_targets/config_globs.rs): those the fixtures' configs allow,
# and a few shapes of each kind.
grep -rhoE '"[^"]*"' --include=ssot-lint.toml "$repo/fixtures" | tr -d '"' | grep -E '[*?/]' | sort -u > "$out/config_globs/fixtures.txt" || true
printf 'src/generated/**\n**/tests/*.rs\n{src,benches}/**/*.rs\n[!a-z]*.rs\nsrc/?.rs\n' > "$out/config_globs/shapes.txt"
printf 'raw\n"src/**", "[", 1\n' > "$out/config_globs/raw.txt"
printf 'raw far\n"src/{a,b", "**"\n' > "$out/config_globs/far.txt"


# Cache files and baselines the tool itself writes for fixture cases (on a copy of each):
# each cache file's body (after the magic number and the 32-byte tag) behind its selector
# byte (0 summaries.bin, 1 results.bin), and each baseline as written.
bin="$repo/target/release/ssot-lint"
[ -x "$bin" ] || (cd "$repo" && cargo build --release --locked --quiet --bin ssot-lint)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
n=0
while IFS= read -r -d '' expected; do
  n=$((n + 1))
  rm -rf "$work/tree" "$work/cache"
  cp -r "$(dirname "$expected")" "$work/tree"
  (
    cd "$work/tree" || exit 0
    export XDG_CACHE_HOME="$work/xdg" CI=
    "$bin" --format short --cache-dir "$work/cache" >/dev/null 2>&1 || true
    "$bin" --format short --no-cache --write-baseline baseline.json >/dev/null 2>&1 || true
  ) || true
  [ -f "$work/tree/baseline.json" ] && cp "$work/tree/baseline.json" "$out/baseline/fixture-$n.json"
  for f in summaries results; do
    [ -f "$work/cache/$f.bin" ] || continue
    sel='\000'
    [ "$f" = results ] && sel='\001'
    { printf "$sel"; tail -c +41 "$work/cache/$f.bin"; } >"$out/cache_files/$f-$n.bin"
  done
done < <(find "$repo/fixtures" -name expected.short -print0 | sort -z | head -z -n 40)

for t in lint_file lint_crate fix config config_globs cache_files baseline; do
  echo "$t: $(find "$out/$t" -type f | wc -l) seeds"
done
