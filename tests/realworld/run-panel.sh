#!/usr/bin/env bash
# Re-runs the real-world panel of issue 9 (tests/realworld/PANEL.md) over existing checkouts
# and scores the findings against the recorded verdicts (verdicts.tsv). It fetches nothing:
# obtain each repository of repos.tsv at its commit first, e.g.
#   git clone https://github.com/lldap/lldap CHECKOUTS/lldap && git -C CHECKOUTS/lldap checkout 9cc54ab...
#
# Usage: tests/realworld/run-panel.sh CHECKOUTS [BINARY] [OUT_DIR]
#   CHECKOUTS  directory holding one checkout per repos.tsv name
#   BINARY     ssot-lint to run (default: target/release/ssot-lint of this tree)
#   OUT_DIR    where the outputs go (default: CHECKOUTS/out/latest)
# For each repository: `ssot-lint --format short` run in the lint dir with no config, then with
# `--config configs/<name>.toml`. The tool reads no config outside the linted workspace, so the
# config run lints a hard-linked mirror of the checkout (`cp -al`, under a temporary directory
# next to the checkouts, removed afterwards) with the config copied inside it; findings are
# printed relative to the lint dir, so both runs' lines compare as they are. Prints a table per mode (findings, tp, fp, noise, unjudged,
# misses), a subtotal and precision per group of repos.tsv (a `## group: NAME` line starts one)
# and every finding that has no verdict yet (judge it at its source line and add a row).
# A miss is a `miss` row of verdicts.tsv, or a finding once judged tp, with no finding of that
# code on that line any more (or only one judged fp/noise).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { sed -n '2,16p' "$0" >&2; exit 2; }
checkouts=$(realpath "$1")
bin=$(realpath "${2:-$here/../../target/release/ssot-lint}")
out=${3:-$checkouts/out/latest}
[ -x "$bin" ] || { echo "no ssot-lint binary at $bin" >&2; exit 2; }
mkdir -p "$out"
# The mirrors of the config runs: next to the checkouts (hard links need one file system).
mirrors=$(mktemp -d "$checkouts/.panel-mirror.XXXXXX")
trap 'rm -rf "$mirrors"' EXIT

while IFS=$'\t' read -r name github commit dir; do
    case "$name" in ''|'#'*) continue ;; esac
    repo="$checkouts/$name"
    if [ ! -d "$repo" ]; then
        echo "missing checkout $repo (git clone https://github.com/$github $repo && git -C $repo checkout $commit)" >&2
        continue
    fi
    head=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
    [ "$head" = "$commit" ] || echo "warning: $name is at $head, the panel was judged at $commit" >&2
    for mode in noconf conf; do
        args=(--format short)
        lint_dir="$repo/$dir"
        if [ "$mode" = conf ]; then
            # A mirror of the checkout with the config inside, linted without a cache (its
            # root is new each time; an old in-tree cache dir is left out of the mirror, as a
            # hard link to a cache file would let the run rewrite the checkout's copy).
            mirror="$mirrors/$name"
            cp -al "$repo" "$mirror"
            find "$mirror" -name .ssot-lint-cache -prune -exec rm -rf {} +
            lint_dir="$mirror/$dir"
            cp "$here/configs/$name.toml" "$lint_dir/.ssot-lint-panel.toml"
            args+=(--no-cache --config .ssot-lint-panel.toml)
        fi
        status=0
        (cd "$lint_dir" && "$bin" "${args[@]}") > "$out/$name.$mode.short" 2> "$out/$name.$mode.err" || status=$?
        [ "$mode" = conf ] && rm -rf "$mirror"
        if [ "$status" -gt 1 ]; then
            echo "error: $name ($mode) exited $status:" >&2
            cat "$out/$name.$mode.err" >&2
        fi
    done
done < "$here/repos.tsv"

python3 - "$here" "$out" <<'PY'
import os, sys
here, out = sys.argv[1], sys.argv[2]
repos, group_of, groups = [], {}, []
group = 'panel'
for l in open(os.path.join(here, 'repos.tsv')):
    if l.startswith('## group:'):
        group = l[len('## group:'):].strip()
        continue
    if not l.strip() or l.startswith('#'):
        continue
    name = l.split('\t')[0]
    repos.append(name)
    group_of[name] = group
    if group not in groups:
        groups.append(group)
verdicts, misses = {}, []
for l in open(os.path.join(here, 'verdicts.tsv')):
    if not l.strip() or l.startswith('#'):
        continue
    repo, mode, verdict, _cls, _why, finding = l.rstrip('\n').split('\t')
    if verdict == 'miss':
        loc, code = finding.split(' ')
        misses.append((repo, mode, loc, code))
    else:
        verdicts[(repo, mode, finding)] = verdict
        if verdict == 'tp':  # a true positive must keep firing: gone, it counts as a miss
            loc = ':'.join(finding.split(' ', 1)[0].rstrip(':').split(':')[:2])
            misses.append((repo, mode, loc, finding.split(' ')[1]))
misses = sorted(set(misses))
unjudged = []
for mode, title in (('noconf', 'no config'), ('conf', 'with config')):
    print(f'\n{title}')
    print(f'| {"repo":<20} | findings | tp | fp | noise | unjudged | misses |')
    print(f'|{"-"*22}|---------:|---:|---:|------:|---------:|-------:|')
    tot = [0] * 6
    per_group = {g: [0] * 6 for g in groups}
    for repo in repos:
        path = os.path.join(out, f'{repo}.{mode}.short')
        if not os.path.exists(path):
            continue
        row = [0] * 6
        open_sites = set()  # (path:line, code) of findings that are tp or not judged yet
        for line in open(path):
            line = line.rstrip('\n')
            if not line:
                continue
            loc, code = line.split(' ', 2)[:2]
            site = (':'.join(loc.rstrip(':').split(':')[:2]), code)
            row[0] += 1
            v = verdicts.get((repo, mode, line))
            if v is None:
                row[4] += 1
                unjudged.append(f'{repo} ({mode}): {line}')
                open_sites.add(site)
            else:
                row[{'tp': 1, 'fp': 2, 'noise': 3}[v]] += 1
                if v == 'tp':
                    open_sites.add(site)
        row[5] = sum(1 for r, m, loc, code in misses
                     if r == repo and m == mode and (loc, code) not in open_sites)
        tot = [a + b for a, b in zip(tot, row)]
        per_group[group_of[repo]] = [a + b for a, b in zip(per_group[group_of[repo]], row)]
        print(f'| {repo:<20} | {row[0]:8} | {row[1]:2} | {row[2]:2} | {row[3]:5} | {row[4]:8} | {row[5]:6} |')
    if len(groups) > 1:
        for g in groups:
            t = per_group[g]
            label = f'subtotal {g}'
            print(f'| {label:<20} | {t[0]:8} | {t[1]:2} | {t[2]:2} | {t[3]:5} | {t[4]:8} | {t[5]:6} |')
    print(f'| {"total":<20} | {tot[0]:8} | {tot[1]:2} | {tot[2]:2} | {tot[3]:5} | {tot[4]:8} | {tot[5]:6} |')
    def precision(t):
        prec = f'{t[1] / t[0]:.2f}' if t[0] else 'n/a (no findings)'
        return prec + (' (unjudged counted as not tp)' if t[4] else '')
    if len(groups) > 1:
        for g in groups:
            print(f'precision (tp / findings), {g}: {precision(per_group[g])}')
    print(f'precision (tp / findings): {precision(tot)}')
if unjudged:
    print('\nfindings without a verdict (judge them at their source line, add rows to verdicts.tsv):')
    print('\n'.join(unjudged))
PY
