#!/usr/bin/env bash
# Runs every test project and ends with one line "N passed, N failed, N skipped" counted from the
# TRX results. Exits non-zero when a test fails, the build fails, or no test ran.
set -uo pipefail
cd "$(dirname "$0")/.."

results="$(pwd)/TestResults"
rm -rf "$results"
configuration="${CONFIGURATION:-Release}"

dotnet build Predastore.Pipeline.sln -c "$configuration" -nologo -clp:ErrorsOnly
build=$?
if [ $build -ne 0 ]; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit $build
fi

dotnet test Predastore.Pipeline.sln -c "$configuration" --no-build -nologo \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" "$@"
status=$?

passed=0; failed=0; skipped=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  p=$(get passed); f=$(get failed); t=$(get total); e=$(get executed)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${t:-0} - ${e:-0}))
done

# Every skip says why (for example QUIC without MsQuic): the reasons are in the TRX files.
for trx in "$results"/*.trx; do
  awk '/<UnitTestResult / {
         skipped = ($0 ~ /outcome="NotExecuted"/)
         name = ""
         if (match($0, /testName="[^"]*"/)) name = substr($0, RSTART + 10, RLENGTH - 11)
       }
       skipped && /<Message>/ {
         reason = $0; sub(/.*<Message>/, "", reason); sub(/<\/Message>.*/, "", reason)
         print "skipped " name ": " reason
         skipped = 0
       }' "$trx"
done

if [ $status -ne 0 ] && [ $failed -eq 0 ]; then
  # The runner failed without a failed test to show for it (a crash, a hang, a missing result file).
  failed=1
fi
if [ $((passed + failed)) -eq 0 ]; then
  echo "no test ran"
  status=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ $status -eq 0 ] && [ $failed -eq 0 ]
