#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (default 60s) and prints each one's
# executions. Fails on a real finding: Go writes the input to testdata/fuzz/ first. A bare
# "context deadline exceeded" at the end of the time, with no input written, is a race in
# Go's fuzzing coordinator before go1.27 (golang/go#75804): that target is run once more.
# Minimising a new interesting input is capped at 2s: Go's default (60s) spends the whole
# budget of a target whose seeds are kilobytes of YAML minimising its first finds, and its
# execution count stays at the few it had before (counts are reported after minimising).
# Usage: scripts/fuzz.sh [FUZZTIME]
set -uo pipefail
time=${1:-60s}
failed=0
for t in $(grep -rho --include='*_test.go' '^func Fuzz[A-Za-z0-9]*' . | sort -u | sed 's/^func //'); do
  pkg=$(dirname "$(grep -rl --include='*_test.go' "^func $t(" . | head -n 1)")
  for try in 1 2; do
    out=$(go test -run '^$' -fuzz "^$t\$" -fuzztime "$time" -fuzzminimizetime 2s "$pkg" 2>&1)
    rc=$?
    execs=$(echo "$out" | grep -o 'execs: [0-9]*' | tail -n 1)
    if [ $rc = 0 ]; then echo "ok    $t ($pkg): ${execs:-execs: ?}"; break; fi
    if echo "$out" | grep -q 'Failing input written to' || ! echo "$out" | grep -q 'context deadline exceeded' || [ $try = 2 ]; then
      echo "FAIL  $t ($pkg)"; echo "$out" | grep -v '^fuzz: elapsed' | tail -n 20; failed=1; break
    fi
    echo "      $t: the coordinator's deadline race (no input written); once more"
  done
done
exit $failed
