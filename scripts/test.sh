#!/usr/bin/env bash
# The test command: installs Azurite if missing, starts it on free loopback ports, builds and
# runs every test project, stops Azurite, and ends with "N passed, N failed[, N skipped]".
# Extra arguments go to 'dotnet test' (e.g. --filter "Category!=Slow").
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
source scripts/azurite.sh

results="$repo_root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
trap azurite_stop EXIT

export AZURITE_LOG="$results/azurite.log"
azurite_start
export MAILGUNFUNCTIONS_TEST_STORAGE="$AZURITE_CONNECTION_STRING"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

build_ok=1
dotnet build MailgunFunctions.sln -c Release -nologo -v quiet || build_ok=0

passed=0; failed=0; skipped=0; status=0
if [ "$build_ok" = 1 ]; then
  for proj in tests/*/*.Tests.csproj; do
    name="$(basename "$proj" .csproj)"
    log="$results/$name.log"
    set +e
    dotnet test "$proj" -c Release --no-build --logger "trx;LogFileName=$name.trx" \
      --results-directory "$results" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    # VSTest summary line: "Passed!  - Failed:     0, Passed:    12, Skipped:     0, Total: ..."
    line="$(grep -E '(Passed|Failed)! +- Failed: ' "$log" | tail -1 || true)"
    if [ -z "$line" ]; then
      echo "No test summary from $name (exit code $rc): counted as a failure" >&2
      failed=$((failed + 1)); status=1; continue
    fi
    f=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$line")
    p=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$line")
    s=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    [ "$rc" = 0 ] || status=1
  done
else
  echo "Build failed: no tests were run" >&2
  failed=1; status=1
fi

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
