#!/usr/bin/env bash
# What action.yml runs after installing ssot-lint: annotations on stdout (workflow
# commands), SARIF for github/codeql-action/upload-sarif, the markdown summary appended to
# $GITHUB_STEP_SUMMARY, and `sarif-file`/`exit-code` in $GITHUB_OUTPUT.
#
# Environment: SSOT_LINT (the binary, default ssot-lint), SSOT_ARGS (extra arguments, split
# on spaces), SSOT_SARIF_FILE (default ssot-lint.sarif), SSOT_FAIL_ON_FINDINGS (true/false).
set -uo pipefail
bin="${SSOT_LINT:-ssot-lint}"
sarif="${SSOT_SARIF_FILE:-ssot-lint.sarif}"
case "$sarif" in /*) ;; *) sarif="$PWD/$sarif" ;; esac
summary="$(mktemp)"
trap 'rm -f "$summary"' EXIT
# shellcheck disable=SC2086
"$bin" --format github --output "sarif=$sarif" --output "markdown=$summary" ${SSOT_ARGS:-}
status=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -s "$summary" ]; then
  cat "$summary" >>"$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "sarif-file=$sarif"; echo "exit-code=$status"; } >>"$GITHUB_OUTPUT"
fi
if [ "$status" -eq 1 ] && [ "${SSOT_FAIL_ON_FINDINGS:-true}" != "true" ]; then
  exit 0
fi
exit "$status"
