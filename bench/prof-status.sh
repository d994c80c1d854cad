#!/usr/bin/env bash
# Inside the e2e sandbox: N managed users (default 1000), then timings, syscall counts, a CPU profile and the GC trace
# of one command (default status):
#   bash docker/e2e/run.sh --exec bash bench/prof-status.sh 2000 status --user pu0001
set -euo pipefail
cd "${CS_REPO:?run me through docker/e2e/run.sh --exec}"
N=${1:-1000}
shift || true
# What to time and profile after N: status by default (e.g. status --user pu0001).
CMD=("$@")
((${#CMD[@]})) || CMD=(status)
mount -t tmpfs -o mode=0700 r /root
install -d -m 0700 /root/.claude
exp=$(($(date +%s%3N) + 8 * 3600 * 1000))
printf '{"claudeAiOauth":{"accessToken":"sk-ant-oat01-x","refreshToken":"sk-ant-ort01-x","expiresAt":%s,"scopes":["user:inference"],"subscriptionType":"max","accountUuid":"acct-b"},"mcpOAuth":{}}\n' "$exp" >/root/.claude/.credentials.json
printf '{"oauthAccount":{"accountUuid":"acct-b","emailAddress":"b@example.com"},"hasCompletedOnboarding":true,"projects":{}}\n' >/root/.claude.json
echo '{}' >/root/.claude/settings.json
( umask 077; for i in $(seq -w 1 "$N"); do echo "pu$i:Pw-$i"; done >/tmp/users )
for i in $(seq -w 1 "$N"); do useradd --create-home --shell /bin/bash "pu$i"; done
node dist/src/cli.js init --yes --users-from-file /tmp/users >/tmp/init.out 2>&1 || { tail /tmp/init.out; exit 1; }
node dist/src/cli.js status >/dev/null || { node dist/src/cli.js status | tail; exit 1; }
t() { local s=$EPOCHREALTIME; "$@" >/dev/null 2>&1; local e=$EPOCHREALTIME; echo "$(( (10#${e//./} - 10#${s//./}) / 1000 ))"; }
for k in 1 2 3 4 5 6 7 8 9; do echo "node=$(t node -e 0) cmd=$(t node dist/src/cli.js "${CMD[@]}") version=$(t node dist/src/cli.js --version)"; done
strace -c -f -o /tmp/strace.txt node dist/src/cli.js "${CMD[@]}" >/dev/null 2>&1 || true
head -25 /tmp/strace.txt
rm -rf /tmp/prof; node --cpu-prof --cpu-prof-interval 200 --cpu-prof-dir /tmp/prof dist/src/cli.js "${CMD[@]}" >/dev/null
node bench/top-prof.mjs /tmp/prof/*.cpuprofile 40 2>/dev/null | head -120 || true
echo "--- gc"
node --trace-gc dist/src/cli.js "${CMD[@]}" | grep -E "Scavenge|Mark" | sed 's/\[[0-9:x]*\]//' | head -30
