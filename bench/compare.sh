#!/usr/bin/env bash
# Two builds side by side in ONE run of the disposable e2e system: the ratios hold however loaded the machine is.
#
#   sudo bash docker/e2e/run.sh --exec bash bench/compare.sh OTHER_REPO     (OTHER_REPO: a built checkout, e.g. a
#   `git worktree add /var/tmp/cs-old REV` + npm ci + npm run build; not under /tmp, which the sandbox replaces)
#
# N managed users (COMPARE_USERS, default 1000), then COMPARE_ROUNDS rounds (default 7), each running, in turn for
# this build and the other: `status`, and `sync` after 10 % of the members were severed with a fresher token.
# Prints medians (ms) and the ratio this/other per figure, plus `node -e 0` for scale.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
source "$REPO/bench/lib.sh"
bench_require_sandbox compare.sh "bash docker/e2e/run.sh --exec bash bench/compare.sh OTHER_REPO"
OTHER=${1:?usage: compare.sh OTHER_REPO}
[[ -f $OTHER/dist/src/cli.js ]] || { echo "compare.sh: $OTHER/dist/src/cli.js missing (npm ci && npm run build there)" >&2; exit 2; }
N=${COMPARE_USERS:-1000}
ROUNDS=${COMPARE_ROUNDS:-7}
NODE=$(command -v node)
declare -A CLI=([this]="$REPO/dist/src/cli.js" [other]="$OTHER/dist/src/cli.js")
ACCOUNT=00000000-0000-4000-8000-00000000bench
now_ms() { local t=$EPOCHREALTIME; echo $((10#${t//[!0-9]/} / 1000)); }
creds() { printf '{"claudeAiOauth":{"accessToken":"sk-ant-oat01-%s","refreshToken":"sk-ant-ort01-%s","expiresAt":%s,"scopes":["user:inference"],"subscriptionType":"max","accountUuid":"%s"},"mcpOAuth":{}}\n' "$2" "$2" "$1" "$ACCOUNT"; }

# root's own home on a tmpfs: its login seeds the shared copy and nothing of the host's /root is touched.
mount -t tmpfs -o mode=0700 compare-root /root
install -d -m 0700 /root/.claude
creds $(($(date +%s%3N) + 8 * 3600 * 1000)) seed >/root/.claude/.credentials.json
printf '{"oauthAccount":{"accountUuid":"%s"},"hasCompletedOnboarding":true}\n' "$ACCOUNT" >/root/.claude.json
echo "compare: $N users" >&2
for ((i = 1; i <= N; i++)); do useradd --create-home --shell /bin/bash "cmp$i"; done
(umask 077; for ((i = 1; i <= N; i++)); do echo "cmp$i:pw"; done >/root/users)
"$NODE" "${CLI[this]}" server init --yes --users-from-file /root/users >/dev/null
for b in this other; do
  rc=0
  "$NODE" "${CLI[$b]}" status >/dev/null 2>&1 || rc=$?
  [[ $rc -eq 0 ]] || { echo "compare.sh: status of the $b build exits $rc on the fresh setup:" >&2; "$NODE" "${CLI[$b]}" status >&2 || true; exit 1; }
done

sever() { # K: every 10th member gets a private file with a fresher token, as Claude leaves it after a refresh
  local i u exp=$(($(date +%s%3N) + 9 * 3600 * 1000 + $1 * 1000))
  for ((i = 10; i <= N; i += 10)); do
    u=cmp$i
    rm -f /home/$u/.claude/.credentials.json
    creds "$((exp + i))" "r$1-$i" >/home/$u/.claude/.credentials.json
    chown "$u:$u" /home/$u/.claude/.credentials.json
    chmod 0600 /home/$u/.claude/.credentials.json
  done
}
declare -A T
timeit() { # KEY CMD...
  local key=$1 t0
  shift
  t0=$(now_ms)
  "$@" >/dev/null 2>&1 || true
  T[$key]+="$(($(now_ms) - t0)) "
}
k=0
for ((r = 1; r <= ROUNDS; r++)); do
  for b in this other; do
    k=$((k + 1))
    timeit "node-e-0" "$NODE" -e 0
    timeit "status-$b" "$NODE" "${CLI[$b]}" status
    sever "$k"
    timeit "sync-$b" "$NODE" "${CLI[$b]}" sync --quiet
  done
  echo "compare: round $r/$ROUNDS" >&2
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| figure ($N users, $ROUNDS rounds, medians) | this build | other build | this / other |"
echo "|---|---:|---:|---:|"
for f in status sync; do
  t=$(median "${T[$f-this]}"); o=$(median "${T[$f-other]}")
  printf '| %s | %s ms | %s ms | %s |\n' "$f" "$t" "$o" "$(awk -v a="$t" -v b="$o" 'BEGIN { printf "%.2f", a / b }')"
done
printf '| node -e 0 | %s ms | | |\n' "$(median "${T[node-e-0]}")"
