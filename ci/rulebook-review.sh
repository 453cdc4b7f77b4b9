#!/usr/bin/env bash
# Reviews a change to a rulebook, as CI runs it on a pull request: `vigil fmt --check`,
# `vigil check`, `vigil test`, then `vigil diff` of the rulebook at BASE_REV against the
# working tree on the rulebook's sample claims. Writes a Markdown report (each step's result
# and the diff) to $VIGIL_REPORT, appends it to $GITHUB_STEP_SUMMARY when that is set, and
# prints it.
#
# Usage: ci/rulebook-review.sh BOOK [BASE_REV]
#   BOOK      the rulebook folder, relative to the repository's top (rulebooks/cn-national)
#   BASE_REV  the revision to compare with (default HEAD~1). When it does not exist (a shallow
#             clone, a first commit) or has no such rulebook (a new one), the diff is skipped
#             and the report says why; that is not a failure.
# Environment:
#   VIGIL          the vigil command (default: cargo run -q -p vigil --)
#   VIGIL_REPORT   where the Markdown goes (default: rulebook-review.md)
#   VIGIL_FAIL_ON  added|removed|any: passed to `vigil diff --fail-on` as a gate
# Exit status: 0 every step passed, 1 a step failed (the report says which), 2 usage.
set -uo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 BOOK [BASE_REV]" >&2
  exit 2
fi
book=${1%/}
base=${2:-HEAD~1}
report=${VIGIL_REPORT:-rulebook-review.md}
read -r -a vigil <<< "${VIGIL:-cargo run -q -p vigil --}"

if [ ! -f "$book/rulebook.vigil" ]; then
  echo "$0: $book is not a rulebook folder (no rulebook.vigil)" >&2
  exit 2
fi

failed=0
steps=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Runs one step, keeps its output for the report, and records whether it passed.
step() {
  local name=$1
  shift
  printf '\n== %s\n' "$name" >&2
  if "$@" >"$log" 2>&1; then
    cat "$log" >&2
    steps+="- ✅ \`$name\`"$'\n'
    return 0
  fi
  cat "$log" >&2
  failed=1
  steps+="- ❌ \`$name\`"$'\n\n'"<details><summary>output</summary>"$'\n\n```\n'"$(tail -n 40 "$log")"$'\n```\n\n</details>\n\n'
  return 1
}

step "vigil fmt --check $book" "${vigil[@]}" fmt --check "$book"
checked=0
step "vigil check $book" "${vigil[@]}" check "$book" && checked=1
step "vigil test $book" "${vigil[@]}" test "$book"

diff_md=$(mktemp)
trap 'rm -f "$log" "$diff_md"' EXIT
claims="$book/samples/claims.jsonl"
history="$book/samples/history.jsonl"
note=""
if [ "$checked" -ne 1 ]; then
  note="The diff was skipped: \`$book\` does not check."
elif ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
  note="The diff was skipped: there is no revision \`$base\` here (a shallow clone or a first commit; fetch more history to compare)."
elif ! git cat-file -e "$base:$book/rulebook.vigil" 2>/dev/null; then
  note="The diff was skipped: \`$book\` is new (it is not in \`$base\`)."
elif [ ! -f "$claims" ]; then
  note="The diff was skipped: \`$book\` has no sample claims (\`$claims\`)."
else
  args=(diff "$base:$book" "$book" --claims "$claims" --format md --out "$diff_md")
  [ -f "$history" ] && args+=(--history "$history")
  [ -n "${VIGIL_FAIL_ON:-}" ] && args+=(--fail-on "$VIGIL_FAIL_ON")
  step "vigil diff $base:$book $book" "${vigil[@]}" "${args[@]}"
fi

{
  printf '## Rulebook review: `%s` against `%s`\n\n' "$book" "$base"
  printf '%s\n' "$steps"
  [ -n "$note" ] && printf '%s\n\n' "$note"
  [ -s "$diff_md" ] && cat "$diff_md"
} >"$report"

[ -n "${GITHUB_STEP_SUMMARY:-}" ] && cat "$report" >>"$GITHUB_STEP_SUMMARY"
printf '\n' >&2
cat "$report"
exit "$failed"
