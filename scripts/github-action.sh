#!/usr/bin/env bash
# What action.yml runs after installing ssot-lint: annotations on stdout (workflow
# commands), SARIF for github/codeql-action/upload-sarif, the markdown summary appended to
# $GITHUB_STEP_SUMMARY, and `sarif-file`/`exit-code` in $GITHUB_OUTPUT.
#
# Environment:
#   SSOT_LINT              the binary (default ssot-lint)
#   SSOT_ARGS              extra arguments, split on whitespace; no glob is expanded and no
#                          quote is interpreted
#   SSOT_SARIF_FILE        where to write SARIF (default ssot-lint.sarif, from here)
#   SSOT_FAIL_ON_FINDINGS  true/false
#   SSOT_TRUSTED_REV       a revision (the pull request's base) to read the config and the
#                          baseline from, instead of the checked-out tree the pull request
#                          controls
#   SSOT_CONFIG            with SSOT_TRUSTED_REV: the config's path from here (default
#                          ssot-lint.toml, else Cargo.toml and its [*.metadata.ssot-lint])
#   SSOT_BASELINE          with SSOT_TRUSTED_REV: the baseline's path from here (none when empty)
#
# `sarif-file` is set only when the run succeeded (exit 0 or 1) and wrote that file: never
# for a file the pull request committed (whatever was at the path is removed first).
set -uo pipefail
bin="${SSOT_LINT:-ssot-lint}"
# The summary and the trusted files go to a fresh directory inside the workspace (mktemp: a
# name the tree cannot have prepared), as every file ssot-lint reads or writes.
work="$(mktemp -d "$PWD/.ssot-lint-action.XXXXXX")" || exit 2
trap 'rm -rf "$work"' EXIT
# Not part of the tree being linted: a folder scan (no Cargo.toml at the top) walks as git
# does, so a trusted `Cargo.toml` copied in here is not taken for one of the tree's manifests.
echo '*' >"$work/.gitignore"

outputs() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    if [ "$1" -le 1 ] && [ -f "$sarif" ] && [ ! -L "$sarif" ]; then
      echo "sarif-file=$sarif" >>"$GITHUB_OUTPUT"
    fi
    echo "exit-code=$1" >>"$GITHUB_OUTPUT"
  fi
}

sarif="${SSOT_SARIF_FILE:-ssot-lint.sarif}"
case "$sarif" in /*) ;; *) sarif="$PWD/$sarif" ;; esac
# Its directory as it really is (a committed symlink followed): inside the workspace, or no
# run at all. ssot-lint refuses the same, but the removal below must not reach outside.
sarif_dir="$(cd -- "$(dirname -- "$sarif")" 2>/dev/null && pwd -P)" || sarif_dir=""
case "$sarif_dir/" in
"$(pwd -P)"/*) sarif="$sarif_dir/$(basename -- "$sarif")" ;;
*)
  echo "error: sarif-file: $SSOT_SARIF_FILE is not in an existing directory inside the workspace" >&2
  outputs 2
  exit 2
  ;;
esac
# Whatever is at the path now (a SARIF the pull request committed, a symlink) is not ours.
rm -f -- "$sarif"

# Split on whitespace only: with globbing off, `*` stays `*`, not the tree's file names.
set -f
# shellcheck disable=SC2206
extra=(${SSOT_ARGS:-})
set +f

# The config and the baseline from a trusted revision.
from_rev=()
if [ -n "${SSOT_TRUSTED_REV:-}" ]; then
  rev="$SSOT_TRUSTED_REV"
  if ! git rev-parse --verify --quiet --end-of-options "$rev^{commit}" >/dev/null; then
    echo "error: trusted-rev: \`$rev\` is not a commit of this repository (fetch it: \`fetch-depth: 0\` in actions/checkout)" >&2
    outputs 2
    exit 2
  fi
  prefix="$(git rev-parse --show-prefix)"
  blob() { git cat-file blob "$rev:$prefix$1" 2>/dev/null; }
  exists() { git cat-file -e "$rev:$prefix$1" 2>/dev/null; }
  trusted="$work/trusted"
  mkdir "$trusted" || exit 2
  config="${SSOT_CONFIG:-}"
  if [ -z "$config" ]; then
    if exists ssot-lint.toml; then config=ssot-lint.toml; else config=Cargo.toml; fi
  fi
  name="ssot-lint.toml"
  case "$config" in Cargo.toml | */Cargo.toml) name="Cargo.toml" ;; esac
  if exists "$config"; then
    blob "$config" >"$trusted/$name"
  elif [ -n "${SSOT_CONFIG:-}" ]; then
    echo "error: trusted-rev: \`$rev\` has no \`$prefix$config\`" >&2
    outputs 2
    exit 2
  else
    : >"$trusted/$name" # no config in the revision: the defaults
  fi
  from_rev+=(--config "$trusted/$name")
  if [ -n "${SSOT_BASELINE:-}" ]; then
    if exists "$SSOT_BASELINE"; then
      blob "$SSOT_BASELINE" >"$trusted/baseline.json"
    else
      # No baseline in the revision: nothing is baselined.
      echo '{"version": 1, "tool": "ssot-lint", "entries": []}' >"$trusted/baseline.json"
    fi
    from_rev+=(--baseline "$trusted/baseline.json")
  fi
fi

summary="$work/summary.md"
"$bin" --format github --output "sarif=$sarif" --output "markdown=$summary" \
  ${from_rev[@]+"${from_rev[@]}"} ${extra[@]+"${extra[@]}"}
status=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -s "$summary" ]; then
  cat "$summary" >>"$GITHUB_STEP_SUMMARY"
fi
outputs "$status"
if [ "$status" -eq 1 ] && [ "${SSOT_FAIL_ON_FINDINGS:-true}" != "true" ]; then
  exit 0
fi
exit "$status"
