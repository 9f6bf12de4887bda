#!/usr/bin/env bash
# Runs the whole test suite (the README's test command). Extra arguments go to the test runner,
# e.g. ./test.sh --filter-class 'Discemu.Tests.Block.*'
set -uo pipefail
cd "$(dirname "$0")"
log=$(mktemp)
dotnet test --project tests/Discemu.Tests/Discemu.Tests.csproj -c Release "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# Print the plain closing line CI reads: "N passed, N failed, N skipped".
summary=$(grep -E '^\s*(total|failed|succeeded|skipped):' "$log" | tail -4)
passed=$(echo "$summary" | awk '/succeeded:/{print $2}')
failed=$(echo "$summary" | awk '/failed:/{print $2}')
skipped=$(echo "$summary" | awk '/skipped:/{print $2}')
rm -f "$log"
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit "$rc"
