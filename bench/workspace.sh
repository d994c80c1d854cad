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
trap 'lap $L "cs stop" >/dev/null 2>&1 || true; fusermount3 -u -z /home/$M/rawmnt 2>/dev/null; ws_hosts_down $L $M; userdel -r -f $M >/dev/null 2>&1; userdel -r -f $L >/dev/null 2>&1' EXIT
init_client "$L" "$M" >/dev/null
lap "$L" 'mkdir -p proj && cd proj && cs live --no-claude' >/dev/null
MNT=$(lap "$L" 'cs where' | head -1)
LOCAL=/home/$M/local
srv "$M" "mkdir -p $LOCAL"
# The same sshfs -o passive straight on a local sftp-server through two pipes: no SSH, no guard, no network. The
# difference to the workspace mount is what SSH and the laptop's guard cost.
RAWSRC=/home/$M/rawsrc
RAWMNT=/home/$M/rawmnt
srv "$M" "mkdir -p $RAWSRC $RAWMNT && mkfifo /tmp/cs-raw-a /tmp/cs-raw-b &&
  (setsid /usr/lib/openssh/sftp-server -d $RAWSRC <>/tmp/cs-raw-a 1<>/tmp/cs-raw-b &) &&
  (setsid sshfs :$RAWSRC $RAWMNT -f -o passive <>/tmp/cs-raw-b 1<>/tmp/cs-raw-a 2>/dev/null &) && sleep 1 && mountpoint -q $RAWMNT"
say "mount $MNT, local $LOCAL; $RUNS runs, $FILES files, $MB MB"

# ms SCRIPT -- milliseconds SCRIPT takes in one shell of the member on the server.
ms() { srv "$M" "s=\$(date +%s%N); $1; e=\$(date +%s%N); echo \$(((e - s) / 1000000))"; }
median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%d (%d-%d)", m, a[1], a[NR]}'; }
rows=()
# figure NAME PREPARE(dir, on the laptop for the mount) SCRIPT(dir)
figure() {
  local name=$1 prep=$2 script=$3 where dir r
  local -A med
  for where in local raw mount; do
    local times=()
    for r in $(seq "$RUNS"); do
      case $where in
        local) dir=$LOCAL/$r; srv "$M" "rm -rf $dir && mkdir -p $dir && cd $dir && $prep" >/dev/null ;;
        raw) dir=$RAWMNT/$r; srv "$M" "rm -rf $RAWSRC/$r && mkdir -p $RAWSRC/$r && cd $RAWSRC/$r && $prep" >/dev/null ;;
        mount) dir=$MNT/$r; lap "$L" "rm -rf proj/$r && mkdir -p proj/$r && cd proj/$r && $prep" >/dev/null ;;
      esac
      times+=("$(ms "cd $dir && $script")")
    done
    med[$where]=$(printf '%s\n' "${times[@]}" | median)
  done
  ratio() { awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN { printf (a > 0 ? "%.1f×" : "n/a"), b / (a > 0 ? a : 1) }'; }
  rows+=("| $name | ${med[local]} | ${med[raw]} | ${med[mount]} | $(ratio "${med[local]}" "${med[mount]}") | $(ratio "${med[raw]}" "${med[mount]}") |")
  say "$name: local ${med[local]} ms, sshfs direct ${med[raw]} ms, workspace mount ${med[mount]} ms"
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

"sshfs direct" is the same sshfs -o passive on a local sftp-server through two pipes (no SSH, no guard): the last
column is what SSH and the laptop's SFTP guard add.

| operation | local directory | sshfs direct | workspace mount | mount / local | mount / direct |
|---|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")
REPORT
