#!/usr/bin/env bash
# Workspace mode's mount (sshfs -o passive over one SSH connection, through the laptop's SFTP guard) against a plain
# local directory on the server. Runs INSIDE the disposable e2e system only (bench/workspace-run.sh starts it).
#
#   BENCH_WS_RUNS=3     timed runs per figure (median and min-max)
#   BENCH_WS_FILES=1000 small files (4 KiB each)
#   BENCH_WS_MB=100     the big file's size
#
# Each figure is timed in one shell of the member on the server, once in ~/local (the server's own disk) and once in
# the session's mount. Reads are cold for the mount: the files are made on the laptop, never read through it before.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_require_sandbox workspace.sh "bash bench/workspace-run.sh"
# shellcheck source=test/workspace/hosts.bash
source test/workspace/hosts.bash
RUNS=${BENCH_WS_RUNS:-3}
FILES=${BENCH_WS_FILES:-1000}
MB=${BENCH_WS_MB:-100}
M=csbw1
L=cslapb1
say() { printf 'workspace bench: %s\n' "$*" >&2; }

useradd -m -s /bin/bash "$M"
printf '%s:pw\n' "$M" | chpasswd
ws_hosts_up "$L"
trap 'lap $L "cs stop" >/dev/null 2>&1 || true; ws_hosts_down $L $M; userdel -r -f $M >/dev/null 2>&1; userdel -r -f $L >/dev/null 2>&1' EXIT
init_client "$L" "$M" >/dev/null
lap "$L" 'mkdir -p proj && cd proj && cs live --no-claude' >/dev/null
MNT=$(lap "$L" 'cs where' | head -1)
LOCAL=/home/$M/local
srv "$M" "mkdir -p $LOCAL"
say "mount $MNT, local $LOCAL; $RUNS runs, $FILES files, $MB MB"

# ms SCRIPT -- milliseconds SCRIPT takes in one shell of the member on the server.
ms() { srv "$M" "s=\$(date +%s%N); $1; e=\$(date +%s%N); echo \$(((e - s) / 1000000))"; }
median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%d (%d-%d)", m, a[1], a[NR]}'; }
rows=()
# figure NAME PREPARE(dir, on the laptop for the mount) SCRIPT(dir)
figure() {
  local name=$1 prep=$2 script=$3 where dir lt mt r
  for where in local mount; do
    local times=()
    for r in $(seq "$RUNS"); do
      if [[ $where == local ]]; then dir=$LOCAL/$r; srv "$M" "rm -rf $dir && mkdir -p $dir && cd $dir && $prep" >/dev/null
      else dir=$MNT/$r; lap "$L" "rm -rf proj/$r && mkdir -p proj/$r && cd proj/$r && $prep" >/dev/null; fi
      times+=("$(ms "cd $dir && $script")")
    done
    if [[ $where == local ]]; then lt=$(printf '%s\n' "${times[@]}" | median); else mt=$(printf '%s\n' "${times[@]}" | median); fi
  done
  rows+=("| $name | $lt | $mt | $(awk -v a="${lt%% *}" -v b="${mt%% *}" 'BEGIN { printf (a > 0 ? "%.1f×" : "n/a"), b / (a > 0 ? a : 1) }') |")
  say "$name: local $lt ms, mount $mt ms"
}

mk_small="for i in \$(seq $FILES); do head -c 4096 /dev/urandom >f\$i; done"
figure "write $FILES files of 4 KiB" ":" "for i in \$(seq $FILES); do head -c 4096 /dev/zero >w\$i; done"
figure "read $FILES files of 4 KiB (cold)" "$mk_small" "cat f* >/dev/null"
figure "list and stat $FILES files (ls -l)" "$mk_small" "ls -l >/dev/null"
figure "write one $MB MB file" ":" "dd if=/dev/zero of=big bs=1M count=$MB conv=fsync status=none"
figure "read one $MB MB file (cold)" "head -c ${MB}M /dev/urandom >big" "cat big >/dev/null"
figure "one small file: open, read, close (cold)" "echo x >one" "cat one >/dev/null"

cat <<REPORT
# Workspace mode: the mount against a plain local directory

$(date -u +%Y-%m-%d), $(sshfs --version 2>&1 | grep -m1 'SSHFS version'), $(ssh -V 2>&1 | cut -d, -f1); both hosts on this machine
(network namespaces joined by a veth pair, so no real network latency: what is measured is FUSE, SFTP, SSH's
encryption and the laptop's guard). Milliseconds, median of $RUNS (min-max), as the member on the server.

| operation | local directory | workspace mount | mount / local |
|---|---|---|---|
$(printf '%s\n' "${rows[@]}")
REPORT
