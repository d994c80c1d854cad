#!/usr/bin/env bash
# Workspace mode's mount against a plain local directory (issue 16), on the two hosts of test/workspace/hosts.bash
# inside the disposable e2e system; the markdown report goes to bench/out/workspace.md.
#
#   sudo bash bench/workspace-run.sh            (part of npm run bench)
#   BENCH_WS_RUNS=5 BENCH_WS_FILES=1000 BENCH_WS_MB=100 sudo -E bash bench/workspace-run.sh
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=test/workspace/deps.sh
source test/workspace/deps.sh
ws_deps
bench_build_if_stale bench
vars=()
for v in BENCH_WS_RUNS BENCH_WS_FILES BENCH_WS_MB; do [[ -z "${!v:-}" ]] || vars+=("$v=${!v}"); done
mkdir -p bench/out
out=bench/out/workspace.md
rc=0
bash docker/e2e/run.sh --exec env ${vars[@]+"${vars[@]}"} bash bench/workspace.sh >"$out.tmp" || rc=$?
mv -f "$out.tmp" "$out"
cat "$out"
echo "bench: report saved to $out (exit $rc)" >&2
exit "$rc"
