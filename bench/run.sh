#!/usr/bin/env bash
# Host-side entry of the benchmark: builds dist/ if it is missing or older than
# the sources, then runs bench/bench.sh inside the disposable e2e system
# (docker/e2e/run.sh --exec) and saves its markdown report to bench/out/.
#
#   sudo bash bench/run.sh                          # BENCH_SIZES, BENCH_RUNS, ... pass through
#   BENCH_SIZES=10,100 BENCH_RUNS=3 sudo -E bash bench/run.sh
#
# Never run bench/bench.sh directly on a machine: it creates and deletes users.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_build_if_stale bench

# The sandbox starts from a clean environment (env -i): hand the BENCH_* knobs
# over through the command line.
vars=()
for v in BENCH_SIZES BENCH_RUNS BENCH_FAST_RUNS BENCH_INIT_USERS BENCH_SEVER_PCT BENCH_PROFILE BENCH_LABEL; do
  [[ -z "${!v:-}" ]] || vars+=("$v=${!v}")
done

mkdir -p bench/out
out=bench/out/results.md
rc=0
bash docker/e2e/run.sh --exec env ${vars[@]+"${vars[@]}"} bash bench/bench.sh "$@" >"$out.tmp" || rc=$?
mv -f "$out.tmp" "$out"
cat "$out"
echo "bench: report saved to $out (exit $rc)" >&2
exit "$rc"
