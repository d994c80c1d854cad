#!/usr/bin/env bash
# Host-side entry of the watcher benchmark: builds dist/ if it is missing or older than the
# sources, then runs bench/heal.sh inside the disposable e2e system
# (docker/e2e/run.sh --exec) and saves its markdown report to bench/out/heal.md.
#
#   sudo bash bench/heal-run.sh                       # HEAL_* knobs (see bench/heal.sh) pass through
#   HEAL_ITERATIONS=20 HEAL_IDLE_S=10 sudo -E bash bench/heal-run.sh
#
# Never run bench/heal.sh directly on a machine: it creates and deletes users.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_build_if_stale heal

# The sandbox starts from a clean environment (env -i): hand the HEAL_* knobs
# over through the command line.
vars=()
for v in HEAL_ITERATIONS HEAL_GAP_MS HEAL_POLL_MS HEAL_TIMEOUT_S HEAL_DEBOUNCE_MS HEAL_TAIL_S HEAL_IDLE_USERS HEAL_IDLE_S HEAL_SHOW_LOG; do
  [[ -z "${!v:-}" ]] || vars+=("$v=${!v}")
done

mkdir -p bench/out
out=bench/out/heal.md
rc=0
bash docker/e2e/run.sh --exec env ${vars[@]+"${vars[@]}"} bash bench/heal.sh "$@" >"$out.tmp" || rc=$?
mv -f "$out.tmp" "$out"
cat "$out"
echo "heal: report saved to $out (exit $rc)" >&2
exit "$rc"
