#!/usr/bin/env bats
# One member must never stop healing for the others (issue 11). Each case runs an attack AS a member (csalice, through
# `su -`), then proves that the victim (csbob) still gets his Claude refresh healed: his link replaced by a private file
# holding a newer token is promoted and relinked by `claude-share sync` and, where the case says so, by a running
# `server watch` within 3 s. Each case also checks that nothing outside the tool's own tree changed.
#
# Figures go to the TAP output as "# figure: ..." lines: attack events per second survived, root-owned backup bytes a
# member can cause, and the victim's heal time under each attack (ms from the rename of his temp file over his link to
# the link being back with the shared copy holding his new token).

LOG=/tmp/watch-member-attacks.log
LOCK=/run/claude-share/lock
PROM_DIR=/var/lib/cs-prom

setup() {
  load test_helper
  CS_RESET_PATHS+=("$PROM_DIR" "$LOCK" /usr/local/sbin/chpasswd)
  reset_state
  rm -rf /root/users.txt /root/bad.txt /root/pw.txt
  rm -f /tmp/attack.count /tmp/attack.count.tmp /tmp/attack.err /tmp/victim.* /tmp/heal.* /tmp/chpasswd.ran /tmp/fork.*
  # The two cases about init's own input start from a machine where init never ran.
  [[ "$BATS_TEST_DESCRIPTION" == *'fresh machine'* ]] || init_with_login_no_password initial 3600 csalice csbob
  chmod o+rx "$BATS_TEST_DIRNAME"
  BG_PIDS=()
  WATCH_PID=
  VICTIM_SECS=9000
  OUTSIDE=$(outside_state)
}

teardown() {
  local p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n "${WATCH_PID:-}" ]] && kill "$WATCH_PID" 2>/dev/null && wait "$WATCH_PID" 2>/dev/null
  rm -f "$LOCK" /usr/local/sbin/chpasswd
  return 0
}

# ---------------------------------------------------------------------------------------------------------------
# helpers

figure() { echo "# figure: $*" >&3; }

# Everything under /etc (its own config excluded) and root's own Claude and shell files: what no attack may make root create, move, chmod
# or rewrite. With "accounts", the account databases that gpasswd legitimately rewrites are left out.
outside_state() {
  etc_state "$@"
  find /root/.claude /root/.claude.json /root/.bashrc /root/.profile -printf '%p %y %m %u:%g %s %T@ %l\n' 2>/dev/null | sort
}
# (diff, not assert_equal: bats-assert takes minutes to print two listings of /etc)
nothing_outside_changed() {
  local now
  now=$(outside_state "$@")
  [[ "$now" == "$OUTSIDE" ]] && return 0
  echo "changed outside the tool's tree:"
  diff <(echo "$OUTSIDE") <(echo "$now") | head -40
  return 1
}

# Everything init may change, in one string (as in 10-init.bats and 50-security.bats).

# The victim's Claude refresh: a login newer than any before it (VICTIM_TOKEN is its name).
victim_creds() {
  VICTIM_SECS=$((VICTIM_SECS + 60))
  VICTIM_TOKEN=$1
  fake_creds "$(ms_from_now "$VICTIM_SECS")" "$1"
}
victim_sever() {
  victim_creds "$1" >/tmp/victim.json
  chmod 0644 /tmp/victim.json
  claude_as csbob sever "$(cat /tmp/victim.json)"
}
victim_healed() {
  [[ "$(readlink /home/csbob/.claude/.credentials.json)" == "$SHARED" ]] &&
    grep -qF "\"sk-ant-ort01-$VICTIM_TOKEN\"" "$SHARED" 2>/dev/null
}

# sync_heals TOKEN [EXIT CODES] -- csbob refreshes, then one `claude-share sync` (exit code among EXIT CODES, "0" by
# default) heals him: his link is back and the shared copy holds his token. SYNC_MS: how long that sync took.
sync_heals() {
  local codes=${2:-0} t0
  victim_sever "$1"
  t0=$(date +%s%N)
  run timeout 60 claude-share sync
  SYNC_MS=$((($(date +%s%N) - t0) / 1000000))
  if [[ " $codes " != *" $status "* ]]; then
    echo "sync exited $status (expected one of: $codes) after $SYNC_MS ms:"
    echo "$output"
    return 1
  fi
  if ! victim_healed; then
    echo "sync exited $status but csbob is not healed:"
    echo "$output"
    ls -l /home/csbob/.claude/
    return 1
  fi
}

# The watcher is alive and never hit an internal error.
watch_alive() {
  if ! kill -0 "$WATCH_PID" 2>/dev/null || grep -qiE 'internal error|exit 70' "$LOG"; then
    echo "the watcher died or failed:"
    tail -n 40 "$LOG"
    return 1
  fi
}

# watch_heal TOKEN LABEL -- csbob's Claude refreshes (temp file in ~/.claude renamed over the link, as fake-claude.sh's
# sever) while the watcher runs. HEAL_MS: ms from that rename until his link is back and the shared copy holds the new
# token (polled every 5 ms, for up to 8 s), printed as a figure "LABEL: ...". Fails past 3 s.
watch_heal() {
  local label=$2 t0 t1
  victim_creds "$1" >/tmp/victim.json
  chmod 0644 /tmp/victim.json
  rm -f /tmp/victim.t0 /tmp/heal.t1
  cat >/tmp/heal-poll.pl <<'PERL'
use Time::HiRes qw(time sleep);
my ($link, $target, $token, $out) = @ARGV;
my ($t, $end) = (0, time + 8);
while (time < $end) {
  my $l = readlink $link;
  if (defined $l && $l eq $target && open my $f, '<', $target) {
    local $/; my $c = <$f>;
    if (defined $c && index($c, $token) >= 0) { $t = int(time * 1000); last }
  }
  sleep 0.005;
}
open my $o, '>', $out or die; print $o $t; close $o;
PERL
  perl /tmp/heal-poll.pl /home/csbob/.claude/.credentials.json "$SHARED" "\"sk-ant-ort01-$VICTIM_TOKEN\"" /tmp/heal.t1 3>&- &
  local poller=$!
  BG_PIDS+=("$poller")
  su - csbob -c 't=~/.claude/.credentials.json.tmp.$$; (umask 077 && cat /tmp/victim.json >"$t"); date +%s%N >/tmp/victim.t0; mv -f -T "$t" ~/.claude/.credentials.json' 3>&-
  wait "$poller" || true
  t0=$(($(cat /tmp/victim.t0) / 1000000))
  t1=$(cat /tmp/heal.t1)
  if ((t1 == 0)); then
    HEAL_MS=never
    figure "$label: csbob NOT healed by the watcher (waited 8 s)"
    echo "csbob was not healed by the watcher within 8 s"
    ls -la /home/csbob/.claude/ 2>&1
    ls -ld $SD/home/.claude 2>&1
    echo "--- where csbob's new token is now:"
    grep -rlF "\"sk-ant-ort01-$VICTIM_TOKEN\"" $SD /home 2>/dev/null | head
    echo "--- the watcher's lines about csbob:"
    grep -B 3 -A 12 csbob "$LOG" | head -80
    echo "--- the watcher's last lines:"
    tail -n 20 "$LOG"
    return 1
  fi
  HEAL_MS=$((t1 - t0))
  figure "$label: csbob healed by the watcher in $HEAL_MS ms"
  if ((HEAL_MS > 3000)); then
    echo "csbob healed by the watcher only after $HEAL_MS ms (limit 3000)"
    tail -n 40 "$LOG"
    return 1
  fi
}

# attack_start SCRIPT ARGS... -- run perl SCRIPT as csalice in her own session, in the background. The script counts
# its attack events in $n and, on SIGTERM, writes the count to /tmp/attack.count (see ATTACK_PROLOGUE).
ATTACK_PROLOGUE='use Time::HiRes (); my $n = 0; my $t0 = Time::HiRes::time();
$SIG{TERM} = sub {
  open my $c, ">", "/tmp/attack.count.tmp" or exit 1;
  printf $c "%d %d\n", $n, (Time::HiRes::time() - $t0) * 1000; close $c;
  rename "/tmp/attack.count.tmp", "/tmp/attack.count"; exit 0;
};'
attack_start() {
  local script=$1
  shift
  rm -f /tmp/attack.count /tmp/attack.count.tmp
  chmod 0644 "$script"
  ATTACK_PID=$(su - csalice -c "{ setsid perl $script $* </dev/null >/dev/null 2>/tmp/attack.err & echo \$!; }" 3>&-)
  BG_PIDS+=("$ATTACK_PID")
  ATTACK_T0=$(date +%s%N)
  sleep 0.2
  kill -0 "$ATTACK_PID" || { cat /tmp/attack.err; return 1; }
}
# attack_stop -- stop it (or collect what it counted if it ended): ATTACK_N events in ATTACK_MS ms, ATTACK_RATE per s.
attack_stop() {
  kill -TERM "$ATTACK_PID" 2>/dev/null || true
  for _ in $(seq 100); do [[ -s /tmp/attack.count ]] && break; sleep 0.05; done
  read -r ATTACK_N ATTACK_MS </tmp/attack.count
  ((ATTACK_MS > 0)) || ATTACK_MS=1
  ATTACK_RATE=$((ATTACK_N * 1000 / ATTACK_MS))
}

# Bytes of csalice's files in root's backups (what she made root store).
alice_backup_bytes() {
  find $SD/backups -path "$SD/backups/*/csalice/*" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'
}

no_escape_bytes() { # FILE -- no ESC (0x1b) or BEL (0x07) byte in FILE
  local n
  n=$(tr -dc '\033\007' <"$1" | wc -c)
  if ((n != 0)); then
    echo "$n ESC/BEL bytes in $1:"
    od -c "$1" | grep -E '033|\\a' | head
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# 1. hostile values

@test "(1) expiresAt 1e300 in a member's own login: status, sync and the watcher keep working, the absurd copy never wins, csbob is healed" {
  local shared absurd
  shared=$(cat $SHARED)
  absurd=$(fake_creds "$(ms_from_now 60)" absurd | sed 's/"expiresAt":[0-9]*/"expiresAt":1e300/')
  [[ "$absurd" == *'"expiresAt":1e300'* ]]
  claude_as csalice sever "$absurd"
  run claude-share status
  assert_failure 1
  run claude-share status --json
  assert_failure 1
  echo "$output" | node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")); if (d.login.state !== "valid") process.exit(1)'
  # Alone, it never wins: the shared login stays, her copy is backed up and relinked.
  run claude-share sync
  assert_success
  assert_equal "$(cat $SHARED)" "$shared"
  assert_equal "$(readlink /home/csalice/.claude/.credentials.json)" "$SHARED"
  # Next to csbob's real refresh: his token wins in the same sync.
  claude_as csalice sever "$absurd"
  sync_heals newer
  run grep -c 1e300 $SHARED
  assert_output 0
  figure "1e300 expiresAt: sync healing csbob took $SYNC_MS ms"

  # The watcher, while csalice rewrites her absurd login as fast as she can.
  printf '%s\n' "$absurd" >/tmp/absurd.json
  chmod 0644 /tmp/absurd.json
  cat >/tmp/absurd.pl <<PERL
$ATTACK_PROLOGUE
chdir "\$ENV{HOME}/.claude" or die;
open my \$in, '<', '/tmp/absurd.json' or die; local \$/; my \$c = <\$in>; close \$in;
while (1) {
  open my \$f, '>', '.c.tmp' or die; print \$f \$c; close \$f; chmod 0600, '.c.tmp';
  rename '.c.tmp', '.credentials.json' or die; \$n++;
}
PERL
  start_watch
  attack_start /tmp/absurd.pl
  sleep 0.5
  watch_heal w1 '1e300 expiresAt rewritten in a loop'
  watch_heal w2 '1e300 expiresAt rewritten in a loop'
  attack_stop
  figure "1e300 expiresAt: $ATTACK_RATE rewrites/s survived ($ATTACK_N in $ATTACK_MS ms)"
  sleep 1.2
  watch_alive
  run grep -c 1e300 $SHARED
  assert_output 0
  grep -qF '"sk-ant-ort01-w2"' $SHARED
  run claude-share sync
  assert_success
  run claude-share status
  assert_success
  nothing_outside_changed
}

@test "(1)(2) refreshTokenExpiresAt 1e300, then a subscriptionType of escapes and 5,000 characters, in the shared login (written by a member): the login is reported, printed escaped and short" {
  local doc
  doc=$(fake_creds "$(ms_from_now 7200)" rte | sed 's/"expiresAt":\([0-9]*\)/"expiresAt":\1,"refreshTokenExpiresAt":1e300/')
  [[ "$doc" == *'"refreshTokenExpiresAt":1e300'* ]]
  claude_as csalice onehop "$doc"
  grep -q 'refreshTokenExpiresAt":1e300' $SHARED
  run claude-share status
  assert_success
  assert_output --partial 'login: valid'
  run claude-share status --json
  assert_success
  echo "$output" | node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
    if (d.login.state !== "valid" || d.login.refreshTokenExpiresAt !== null || typeof d.login.expiresAt !== "string") {
      console.log(JSON.stringify(d.login)); process.exit(1);
    }'
  sync_heals newer

  node -e '
    const d = JSON.parse(process.argv[1]);
    d.claudeAiOauth.subscriptionType = "\x1b[2Jmax\x1b]52;c;ZXZpbA==\x07" + "x".repeat(5000);
    console.log(JSON.stringify(d));' "$(fake_creds "$(ms_from_now 7200)" subs)" >/tmp/subs.json
  claude_as csalice onehop "$(cat /tmp/subs.json)"
  grep -q 'xxxxxxxxxx' $SHARED
  local rc=0
  claude-share status >/tmp/status.out 2>&1 || rc=$?
  cat -v /tmp/status.out
  assert_equal "$rc" 0
  no_escape_bytes /tmp/status.out
  run grep -E 'x{100}' /tmp/status.out
  assert_failure 1
  run grep -F 'subscription' /tmp/status.out
  assert_success
  assert_output --partial 'max'
  echo "subscription line: ${#output} characters"
  [ "${#output}" -lt 400 ]
  [ "$(stat -c %s /tmp/status.out)" -lt 4096 ]
  claude-share status --json >/tmp/status.json 2>&1 || true
  no_escape_bytes /tmp/status.json
  run grep -E 'x{100}' /tmp/status.json
  assert_failure 1
  sync_heals newer2
  nothing_outside_changed
}

@test "(1) 200,000 nested arrays in the shared settings.json: status 1 shared-invalid, sync 0 rebuilds it (broken one backed up) and heals csbob; the watcher too" {
  su - csalice -c 'perl -e '\''print "{\"hooks\":", "[" x 200000, "]" x 200000, "}"'\'' >~/.claude/settings.json'
  assert_equal "$(stat -c %s $SD/home/.claude/settings.json)" 400010
  run timeout 20 claude-share status
  assert_failure 1
  assert_output --partial shared-invalid
  run timeout 20 claude-share status --json
  assert_failure 1
  echo "$output" | node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
    if (!d.problems.some((p) => p.code === "shared-invalid")) process.exit(1)'
  sync_heals newer
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' $SD/home/.claude/settings.json
  run bash -c "find $SD/backups -path '*/shared/.claude/settings.json*' -size 400010c"
  assert_success
  [ -n "$output" ]
  assert_equal "$(stat -c '%U %a' "${lines[0]}")" 'root 600'
  figure "200,000 nested arrays: sync healing csbob took $SYNC_MS ms"

  start_watch
  su - csalice -c 'perl -e '\''print "{\"hooks\":", "[" x 200000, "]" x 200000, "}"'\'' >~/.claude/settings.json'
  watch_heal w1 '200,000 nested arrays in the shared settings.json'
  watch_alive
  run claude-share sync
  assert_success
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' $SD/home/.claude/settings.json
  nothing_outside_changed
}

@test "(1) status --quiet --prometheus after a refused run (config 0666, written by a member): healthy 0, run_ok 0, last success kept" {
  local prom=$PROM_DIR/claude-share.prom last cfg
  mkdir -p $PROM_DIR
  run claude-share status --quiet --prometheus $prom
  assert_success
  grep -qx 'claude_share_healthy 1' $prom
  grep -qx 'claude_share_run_ok 1' $prom
  last=$(awk '$1 == "claude_share_last_success_timestamp_seconds" {print $2}' $prom)
  [[ "$last" =~ ^[0-9]+$ ]]
  sleep 1.1
  cfg=$(cat $CFG)
  chmod 0666 $CFG
  su - csalice -c "echo 'MANAGED_USERS=csalice' >>$CFG"
  run claude-share status --quiet --prometheus $prom
  assert_failure 77
  refute_output --partial 'internal error'
  cat $prom
  grep -qx 'claude_share_healthy 0' $prom
  grep -qx 'claude_share_run_ok 0' $prom
  grep -qx "claude_share_last_success_timestamp_seconds $last" $prom
  run claude-share sync
  assert_failure 77
  # Once root puts its config back, csbob's refresh is healed again.
  printf '%s\n' "$cfg" >$CFG
  chmod 0644 $CFG
  sync_heals newer
  run claude-share status --quiet --prometheus $prom
  assert_success
  grep -qx 'claude_share_run_ok 1' $prom
  nothing_outside_changed
}

# ---------------------------------------------------------------------------------------------------------------
# 2. root's terminal

@test "(2) a temp file in the shared dir named with \$(touch PWNED), ESC[2J and OSC 52: no ESC or BEL reaches root's terminal, the fix line has no member bytes" {
  cat >/tmp/evil-name.sh <<'SH'
n=$(printf 'x.tmp.$(touch PWNED)\033[2J\033]52;c;ZXZpbA==\007%s' "$1")
: >"/shared/claude-share/home/.claude/$n"
SH
  chmod 0644 /tmp/evil-name.sh
  su - csalice -c 'bash /tmp/evil-name.sh a'
  [ "$(find $SD/home/.claude -maxdepth 1 -name 'x.tmp.*' | wc -l)" -eq 1 ]
  local rc=0
  claude-share status >/tmp/status.out 2>&1 || rc=$?
  cat -v /tmp/status.out
  assert_equal "$rc" 0
  no_escape_bytes /tmp/status.out
  grep -q leftover-temp /tmp/status.out
  run grep -F 'rm -i --' /tmp/status.out
  assert_success
  assert_output --partial 'rm -i -- /shared/claude-share/home/.claude/*.tmp.*'
  refute_output --partial PWNED
  refute_output --partial 'ZXZpbA'
  rc=0
  claude-share status --json >/tmp/status.json 2>&1 || rc=$?
  assert_equal "$rc" 0
  no_escape_bytes /tmp/status.json
  node -e 'JSON.parse(require("fs").readFileSync("/tmp/status.json", "utf8"))'
  victim_sever newer
  rc=0
  claude-share sync >/tmp/sync.out 2>&1 || rc=$?
  assert_equal "$rc" 0
  no_escape_bytes /tmp/sync.out
  victim_healed
  # The watcher's log (the journal, for a service) stays printable too.
  start_watch
  su - csalice -c 'bash /tmp/evil-name.sh b'
  watch_heal w1 'escape sequences in a shared temp file name'
  watch_alive
  no_escape_bytes "$LOG"
  # Nothing ran the member's $(...).
  [ -z "$(find /root /tmp /shared /home /etc "$PWD" -maxdepth 3 -name PWNED 2>/dev/null)" ]
  nothing_outside_changed
}

# ---------------------------------------------------------------------------------------------------------------
# 3. work and storage a member can multiply

@test "(3) 80,000 ~/.claude.json.corrupted.N files: one warning with the count; csbob healed by sync and, while she creates more, by the watcher" {
  local t0 ms
  t0=$(date +%s%N)
  su - csalice -c 'perl -e '\''for (1 .. 80000) { open my $f, ">", "$ENV{HOME}/.claude.json.corrupted.$_" or die "$_: $!" }'\'''
  ms=$((($(date +%s%N) - t0) / 1000000))
  figure "80,000 corrupted files: created by the member in $ms ms"
  t0=$(date +%s%N)
  run timeout 60 claude-share status --json
  ms=$((($(date +%s%N) - t0) / 1000000))
  assert_success
  echo "$output" | node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const c = d.problems.filter((p) => p.code === "claude-json-corrupted");
    if (c.length !== 1 || !c[0].message.includes("80000")) { console.log(JSON.stringify(c).slice(0, 2000)); process.exit(1) }'
  echo "status report: ${#output} characters"
  [ "${#output}" -lt 20000 ]
  run timeout 60 claude-share status
  assert_success
  assert_equal "$(grep -c claude-json-corrupted <<<"$output")" 1
  sync_heals newer
  figure "80,000 corrupted files: status took $ms ms, sync healing csbob $SYNC_MS ms"

  start_watch
  cat >/tmp/corrupt.pl <<PERL
$ATTACK_PROLOGUE
for my \$i (80001 .. 160000) { open my \$f, '>', "\$ENV{HOME}/.claude.json.corrupted.\$i" or die; close \$f; \$n++ }
\$SIG{TERM}->();
PERL
  attack_start /tmp/corrupt.pl
  watch_heal w1 '80,000 corrupted files, more being created'
  attack_stop
  figure "corrupted files created while the watcher runs: $ATTACK_RATE files/s survived ($ATTACK_N in $ATTACK_MS ms)"
  watch_heal w2 "$((80000 + ATTACK_N)) corrupted files"
  watch_alive
  run timeout 60 claude-share status
  assert_success
  assert_equal "$(grep -c claude-json-corrupted <<<"$output")" 1
  assert_output --partial "] $(find /home/csalice -maxdepth 1 -name '.claude.json.corrupted.*' | wc -l) /home/csalice/.claude.json.corrupted.* files"
  nothing_outside_changed
}

@test "(3) 60,000 *.tmp.* files in <shared>/home/.claude: one warning; csbob healed by sync and, while she creates more, by the watcher" {
  local t0 ms
  su - csalice -c "perl -e 'for (1 .. 60000) { open my \$f, \">\", \"$SD/home/.claude/.credentials.json.tmp.\$_\" or die \"\$_: \$!\" }'"
  [ "$(find $SD/home/.claude -name '*.tmp.*' | wc -l)" -eq 60000 ]
  t0=$(date +%s%N)
  run timeout 60 claude-share status --json
  ms=$((($(date +%s%N) - t0) / 1000000))
  assert_success
  echo "$output" | node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const c = d.problems.filter((p) => p.code === "leftover-temp");
    if (c.length !== 1 || !c[0].message.includes("60000")) { console.log(JSON.stringify(c).slice(0, 2000)); process.exit(1) }'
  [ "${#output}" -lt 20000 ]
  sync_heals newer
  assert_equal "$(grep -c 'leftover temp' <<<"$output")" 1
  figure "60,000 shared temp files: status took $ms ms, sync healing csbob $SYNC_MS ms"

  start_watch
  cat >/tmp/temps.pl <<PERL
$ATTACK_PROLOGUE
for my \$i (60001 .. 120000) { open my \$f, '>', "$SD/home/.claude/settings.json.tmp.\$i" or die; close \$f; \$n++ }
\$SIG{TERM}->();
PERL
  attack_start /tmp/temps.pl
  watch_heal w1 '60,000 shared temp files, more being created'
  attack_stop
  figure "shared temp files created while the watcher runs: $ATTACK_RATE files/s survived ($ATTACK_N in $ATTACK_MS ms)"
  watch_heal w2 "$((60000 + ATTACK_N)) shared temp files"
  watch_alive
  run timeout 60 claude-share status
  assert_success
  assert_equal "$(grep -c leftover-temp <<<"$output")" 1
  nothing_outside_changed
}

@test "(3) backups: a member replacing her settings.json link with 16 MiB files, then 500 KiB files, in a loop: at most 8 MiB of root backups, the rest kept in her home, csbob healed" {
  local base
  base=$(alice_backup_bytes)
  # The same 300 KiB twice: stored once.
  head -c 307200 /dev/urandom >/tmp/same.bin
  chmod 0644 /tmp/same.bin
  for i in 1 2; do
    su - csalice -c 'cp /tmp/same.bin ~/.claude/s.tmp && mv -f -T ~/.claude/s.tmp ~/.claude/settings.json'
    run claude-share sync
    assert_success
    assert_equal "$(readlink /home/csalice/.claude/settings.json)" "$SD/home/.claude/settings.json"
  done
  assert_equal "$(($(alice_backup_bytes) - base))" 307200

  start_watch
  # 16 MiB files (sparse: the size is what counts), as fast as she can.
  cat >/tmp/big.pl <<PERL
$ATTACK_PROLOGUE
chdir "\$ENV{HOME}/.claude" or die;
while (1) {
  open my \$f, '>', 's.tmp' or die; truncate \$f, 16 * 1024 * 1024 or die; close \$f;
  rename 's.tmp', 'settings.json' or die; \$n++;
  select undef, undef, undef, 0.01;
}
PERL
  local b0 t0
  b0=$(alice_backup_bytes)
  attack_start /tmp/big.pl
  sleep 0.5
  watch_heal w1 '16 MiB settings.json files in a loop'
  sleep 1
  attack_stop
  sleep 1
  watch_alive
  figure "16 MiB settings.json loop: $ATTACK_RATE replacements/s survived ($ATTACK_N in $ATTACK_MS ms); root backups grew by $(($(alice_backup_bytes) - b0)) bytes"
  assert_equal "$(alice_backup_bytes)" "$b0"
  run find $SD/backups -type f -size +1024k
  assert_output ''
  run find /home/csalice/.claude -name 'settings.json.claude-share-kept.*' -size 16M
  [ -n "$output" ]
  run find /home/csalice/.claude -name 'settings.json.claude-share-kept.*' ! -user csalice
  assert_output ''

  # 500 KiB files, each different.
  cat >/tmp/mid.pl <<PERL
$ATTACK_PROLOGUE
chdir "\$ENV{HOME}/.claude" or die;
open my \$r, '<', '/dev/urandom' or die; read \$r, my \$buf, 500 * 1024; close \$r;
while (1) {
  substr(\$buf, 0, 20) = sprintf('%020d', \$n);
  open my \$f, '>', 's.tmp' or die; print \$f \$buf; close \$f;
  rename 's.tmp', 'settings.json' or die; \$n++;
  select undef, undef, undef, 0.2;
}
PERL
  b0=$(alice_backup_bytes)
  t0=$(date +%s%N)
  attack_start /tmp/mid.pl
  sleep 0.5
  watch_heal w2 '500 KiB settings.json files in a loop'
  sleep 1.5
  attack_stop
  sleep 1
  watch_alive
  local grown=$(($(alice_backup_bytes) - b0)) ms=$((($(date +%s%N) - t0) / 1000000))
  figure "500 KiB settings.json loop: $ATTACK_RATE replacements/s survived ($ATTACK_N in $ATTACK_MS ms); root backups grew by $grown bytes in $ms ms ($((grown * 60000 / ms)) bytes/min while within the budget)"
  [ "$(($(alice_backup_bytes) - base))" -le 8388608 ]
  # One distinct 1000 KiB file at a time, each healed by the watcher, until the hour's budget is spent.
  cat >/tmp/one.pl <<'PERL'
chdir "$ENV{HOME}/.claude" or die;
open my $r, '<', '/dev/urandom' or die; read $r, my $buf, 1000 * 1024; close $r;
open my $f, '>', 's.tmp' or die; print $f $buf; close $f;
rename 's.tmp', 'settings.json' or die;
PERL
  chmod 0644 /tmp/one.pl
  local i kept=0 spent=""
  for i in $(seq 1 14); do
    su - csalice -c 'perl /tmp/one.pl'
    for _ in $(seq 60); do [[ -L /home/csalice/.claude/settings.json ]] && break; sleep 0.05; done
    assert_equal "$(readlink /home/csalice/.claude/settings.json)" "$SD/home/.claude/settings.json"
    kept=$(find /home/csalice/.claude -name 'settings.json.claude-share-kept.*' -size 1000k | wc -l)
    if ((kept > 0)); then
      [[ -n "$spent" ]] || spent=$(alice_backup_bytes)
      # Past the budget: two more files, and root stores no byte of them.
      ((kept >= 3)) && break
    fi
  done
  echo "1000 KiB files kept in her home: $kept; root backups of hers this hour: $(($(alice_backup_bytes) - base))"
  ((kept >= 3))
  assert_equal "$(alice_backup_bytes)" "$spent"
  [ "$(($(alice_backup_bytes) - base))" -le 8388608 ]
  figure "backups caused by one member: $(($(alice_backup_bytes) - base)) bytes this hour (cap 8388608), then 0 bytes/min while she kept going"
  run find /home/csalice/.claude -name 'settings.json.claude-share-kept.*' ! -user csalice
  assert_output ''
  run find $SD/backups ! -user root
  assert_output ''
  run find $SD/backups -type f ! -perm 0600
  assert_output ''
  # Budget spent: csbob is still healed, by the watcher and by sync.
  watch_heal w3 "backup budget of the member spent"
  kill "$WATCH_PID" && wait "$WATCH_PID" || true
  WATCH_PID=
  sync_heals newer
  assert_equal "$(readlink /home/csalice/.claude/settings.json)" "$SD/home/.claude/settings.json"
  nothing_outside_changed
}

# ---------------------------------------------------------------------------------------------------------------
# 4. blocking everyone

@test "(4) mv <shared>/home/.claude away, or put anything in <shared>/home: refused by the kernel (the parent is root's alone); csbob's refresh healed by sync" {
  assert_equal "$(stat -c '%U %G %a' $SD/home)" 'root claudeshare 2750'
  local before
  before=$(ls -la --time-style=+%s.%N $SD/home)
  run su - csalice -c "mv $SD/home/.claude $SD/home/.claude.old"
  assert_failure
  assert_output --partial 'Permission denied'
  run su - csalice -c "touch $SD/home/.claude.new"
  assert_failure
  assert_output --partial 'Permission denied'
  run su - csalice -c "ln -s /etc $SD/home/.claude/../.claude.sym"
  assert_failure
  assert_equal "$(ls -la --time-style=+%s.%N $SD/home)" "$before"
  victim_sever newer
  local t0=$(date +%s%N)
  run claude-share sync
  assert_success
  figure "after the member's refused mv: sync healing csbob took $((($(date +%s%N) - t0) / 1000000)) ms"
  victim_healed
  run claude-share status
  assert_success
  nothing_outside_changed
}

@test "(4) what only an old layout allowed (a member's file in place of <shared>/home/.claude), done here by root: shared-intruder names csalice; sync puts the real dir back and promotes csbob's refresh in the same run" {
  mv $SD/home/.claude $SD/home/.claude.old && touch $SD/home/.claude && chown csalice:csalice $SD/home/.claude
  victim_sever newer
  run claude-share status
  assert_failure 1
  assert_output --partial shared-intruder
  assert_output --partial "csalice replaced $SD/home/.claude by a file and moved the real one to $SD/home/.claude.old"
  run claude-share sync
  assert_success
  [ -d $SD/home/.claude ] && [ ! -L $SD/home/.claude ] && [ ! -e $SD/home/.claude.old ]
  assert_equal "$(stat -c '%U %G %a' $SD/home/.claude)" 'root claudeshare 2770'
  victim_healed
  run bash -c "ls -d $SD/set-aside/*/.claude.csalice.*"
  assert_success
  [ -f "$output" ] && [ ! -L "$output" ]
  assert_equal "$(stat -c %U "$output")" csalice
  run claude-share status
  assert_success
  nothing_outside_changed
}

@test "(4) watch: a member renaming <shared>/home/.claude away in a loop never succeeds once; csbob healed by the watcher meanwhile, and after an old layout's intruder" {
  start_watch
  cat >/tmp/intrude.pl <<PERL
$ATTACK_PROLOGUE
chdir '$SD/home' or die;
my \$won = 0;
while (1) {
  \$n++;
  if (rename '.claude', ".claude.old.\$n") { \$won++; open my \$w, '>', '/tmp/attack.won' or die; print \$w "\$won\n"; close \$w; }
  select undef, undef, undef, 0.002;
}
PERL
  rm -f /tmp/attack.won
  attack_start /tmp/intrude.pl
  sleep 0.3
  watch_heal w1 'a member renaming the shared dir in a loop'
  attack_stop
  figure "rename of the shared dir in a loop: $ATTACK_N attempts ($ATTACK_RATE/s), $(cat /tmp/attack.won 2>/dev/null || echo 0) succeeded"
  [ ! -e /tmp/attack.won ]
  ((ATTACK_N > 10))
  assert_equal "$(stat -c '%U %G %a' $SD/home/.claude)" 'root claudeshare 2770'
  assert_equal "$(ls -A $SD/home)" '.claude'
  # The watcher's own path for an intruder (now only root can make one): put back, set aside, healed. How fast is a
  # figure, not an assertion: under load (CI's legs side by side) it once took 3.2 s, past an older 3 s bound.
  mv $SD/home/.claude $SD/home/.claude.old && touch $SD/home/.claude && chown csalice:csalice $SD/home/.claude
  local t0=$(date +%s%N)
  for _ in $(seq 400); do [[ -d $SD/home/.claude && ! -e $SD/home/.claude.old ]] && break; sleep 0.05; done
  figure "intruder at the shared dir: the watcher put it back $((($(date +%s%N) - t0) / 1000000)) ms after it appeared"
  [ -d $SD/home/.claude ] && [ ! -L $SD/home/.claude ] && [ ! -e $SD/home/.claude.old ]
  watch_heal w2 'right after an intruder at the shared dir'
  watch_alive
  run bash -c "ls -d $SD/set-aside/*/.claude.csalice.*"
  assert_success
  [ -f "$output" ]
  run claude-share status
  assert_success
  nothing_outside_changed
}

@test "(4) the lock: a killed root holder, its pid recycled by a member, or a lock naming a member's process: sync runs at once and heals csbob, the watcher too" {
  install -d -m 0700 /run/claude-share
  local holder start t0 ms
  # A live root holder: the lock is honoured (sync waits).
  sleep 300 3>&- &
  holder=$!
  BG_PIDS+=("$holder")
  start=$(awk '{sub(/.*\) /, ""); print $20}' /proc/$holder/stat)
  printf '%s %s\n' "$holder" "$start" >$LOCK
  run timeout 2 claude-share sync
  assert_failure 124
  # kill -9: the lock file stays, naming a dead pid.
  kill -9 "$holder"
  wait "$holder" 2>/dev/null || true
  [ -e $LOCK ]
  # The member forks until she owns that pid (ns_last_pid makes her next fork get it, when this kernel lets root set it).
  local recycled=no
  cat >/tmp/forker.pl <<'PERL'
$SIG{TERM} = sub { exit 0 };
until (-e '/tmp/fork.go') { select undef, undef, undef, 0.01 }
my $pid = fork;
if ($pid == 0) { sleep 300; exit 0 }
open my $o, '>', '/tmp/fork.pid' or die; print $o $pid; close $o;
waitpid $pid, 0;
PERL
  chmod 0644 /tmp/forker.pl
  rm -f /tmp/fork.go /tmp/fork.pid
  BG_PIDS+=("$(su - csalice -c '{ setsid perl /tmp/forker.pl </dev/null >/dev/null 2>&1 & echo $!; }' 3>&-)")
  sleep 0.3
  # Builtins only from here until her fork: any process root started would take the pid first.
  local until=$((SECONDS + 3))
  if echo $((holder - 1)) 2>/dev/null >/proc/sys/kernel/ns_last_pid; then
    : >/tmp/fork.go
    while [[ ! -s /tmp/fork.pid ]] && ((SECONDS < until)); do :; done
    local fpid
    fpid=$(cat /tmp/fork.pid)
    BG_PIDS+=("$fpid")
    if [[ "$fpid" == "$holder" && "$(stat -c %U /proc/$fpid)" == csalice ]]; then recycled=yes; fi
  fi
  echo "pid $holder recycled by csalice: $recycled"
  victim_sever newer
  t0=$(date +%s%N)
  run timeout 40 claude-share sync
  ms=$((($(date +%s%N) - t0) / 1000000))
  assert_success
  victim_healed
  figure "stale lock of a killed root holder (pid recycled by the member: $recycled): sync ran and healed csbob in $ms ms"
  ((ms < 10000))

  # A lock naming a member's process with that process's real start time.
  local mine mstart
  mine=$(su - csalice -c '{ setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!; }' 3>&-)
  BG_PIDS+=("$mine")
  mstart=$(awk '{sub(/.*\) /, ""); print $20}' /proc/$mine/stat)
  assert_equal "$(stat -c %U /proc/$mine)" csalice
  printf '%s %s\n' "$mine" "$mstart" >$LOCK
  chmod 0600 $LOCK
  victim_sever newer2
  t0=$(date +%s%N)
  run timeout 40 claude-share sync
  ms=$((($(date +%s%N) - t0) / 1000000))
  assert_success
  victim_healed
  figure "lock naming a member's live process (real start time): sync ran and healed csbob in $ms ms"
  ((ms < 10000))

  # The same lock while the watcher runs.
  printf '%s %s\n' "$mine" "$mstart" >$LOCK
  start_watch
  watch_heal w1 "lock naming a member's live process"
  watch_alive
  nothing_outside_changed
}

@test "(4) remove-user after the member grew the shared settings.json past 16 MiB: it completes and she stays out of the group with the watcher running" {
  OUTSIDE=$(outside_state accounts)
  su - csalice -c 'truncate -s 17M ~/.claude/settings.json'
  assert_equal "$(stat -c %s $SD/home/.claude/settings.json)" $((17 * 1024 * 1024))
  start_watch
  run timeout 60 claude-share server remove-user csalice
  echo "$output"
  [[ "$status" == 0 || "$status" == 1 ]]
  run grep '^MANAGED_USERS=' $CFG
  refute_output --partial csalice
  run getent group claudeshare
  refute_output --partial csalice
  sleep 3
  watch_alive
  run getent group claudeshare
  refute_output --partial csalice
  run grep '^MANAGED_USERS=' $CFG
  refute_output --partial csalice
  # She keeps working on her own: no link into the shared dir is left in her home.
  run find /home/csalice -lname "$SD/*"
  assert_output ''
  # csbob's refresh: healed by the watcher and by sync, although the shared settings.json is over the cap (exit 2).
  watch_heal w1 'shared settings.json at 17 MiB, after remove-user'
  kill "$WATCH_PID" && wait "$WATCH_PID" || true
  WATCH_PID=
  sync_heals newer "0 2"
  run getent group claudeshare
  refute_output --partial csalice
  nothing_outside_changed accounts
}

# ---------------------------------------------------------------------------------------------------------------
# 5. chown race

@test "(3) a directory a member keeps a shell in, set aside by the move to layout 0.2 (review): not among the backups; a 1 TiB sparse file and a rename loop in it prune nothing, fail no sync, and her escape bytes never reach root's terminal" {
  # An older run holds csbob's private settings: the only copy of it.
  su - csbob -c 'rm ~/.claude/settings.json; echo "{\"bob\":1}" > ~/.claude/settings.json'
  run claude-share sync
  assert_success
  local bobs
  bobs=$(find $SD/backups -path '*/csbob/.claude/settings.json*' -type f | sort)
  [ -n "$bobs" ]
  # The layout before 0.2 (home/ group-writable, .claude.json in it), and what a member could do there: make the
  # legacy path a directory and keep a shell in it.
  mv $SD/home/.claude/.claude.json $SD/home/.claude.json
  chmod 2770 $SD/home
  for u in csalice csbob; do ln -sfn $SD/home/.claude.json /home/$u/.claude.json; done
  su - csalice -c "rm $SD/home/.claude.json; mkdir $SD/home/.claude.json"
  cat >/tmp/attack.sh <<'SH'
d=$'\e]0;OWNED\a\e[2J\e[31mFAKE-OK'
mkdir -- "$d"
n=0
while :; do truncate -s 1T -- "$d/big"; mv -- "$d" e; mv e -- "$d"; n=$((n + 1)); echo $n >/tmp/attack.count.tmp; mv /tmp/attack.count.tmp /tmp/attack.count; done
SH
  chmod 0644 /tmp/attack.sh
  BG_PIDS+=("$(su csalice -c "cd $SD/home/.claude.json && { setsid bash /tmp/attack.sh </dev/null >/dev/null 2>&1 & echo \$!; }" 3>&-)")
  sleep 0.5
  run claude-share sync
  assert_success
  # Moved whole to the root-only set-aside directory, never into the backups.
  [ -z "$(find $SD/backups -path '*legacy*' -print -quit)" ]
  local aside
  aside=$(ls -d $SD/set-aside/*/.claude.json.legacy.*)
  assert_equal "$(stat -c '%U' "$aside")" csalice
  assert_equal "$(stat -c '%U %a' "$(dirname "$aside")")" 'root 700'
  # She keeps writing there (hers, her quota); every later sync that writes backups prunes by the cap and still
  # exits 0, keeps csbob's only copy, and prints no byte of hers raw.
  local i out=/tmp/attack.err
  for i in 1 2 3 4 5 6 7 8; do
    su - csalice -c "rm ~/.claude/settings.json; echo '{\"alice\":$i}' > ~/.claude/settings.json"
    claude-share sync >$out 2>&1 || { cat -v $out; return 1; }
    ! grep -q $'\e' $out
  done
  assert_equal "$(find $SD/backups -path '*/csbob/.claude/settings.json*' -type f | sort)" "$bobs"
  claude-share backups list >$out 2>&1
  ! grep -q $'\e' $out && ! grep -q legacy $out
  figure "set-aside directory with a 1 TiB sparse file in a rename loop: $(cat /tmp/attack.count) renames survived by 8 syncs, 0 backups pruned"
  sync_heals newer
  nothing_outside_changed
}

@test "(5) chown race: a member swaps her shared file with another member's (RENAME_EXCHANGE) while root restores modes: no file changes owner" {
  [[ "$(uname -m)" == x86_64 ]] || skip "the swapper uses the x86_64 renameat2 syscall number"
  # csalice owns the shared login, csbob the shared settings (each wrote it the one-hop way, as Claude does).
  claude_as csalice onehop "$(fake_creds "$(ms_from_now 7200)" alices)"
  printf '{"theme":"dark"}\n' | su - csbob -c "bash $FAKE onehop .claude/settings.json"
  assert_equal "$(stat -c %U $SHARED)" csalice
  assert_equal "$(stat -c %U $SD/home/.claude/settings.json)" csbob
  local owners
  owners=$(find $SD/home -xdev ! -type d -printf '%i %u\n' | LC_ALL=C sort)
  echo "$owners"
  cat >/tmp/xswap.pl <<PERL
$ATTACK_PROLOGUE
# renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) (x86_64: syscall 316), and her own file back to 0600 each time.
# At a lower priority, so that root's syncs get the CPU to race with her at all on a small machine.
setpriority(0, 0, 10);
chdir '$SD/home/.claude' or die;
my (\$a, \$b) = ('.credentials.json', 'settings.json');
while (1) {
  chmod 0600, \$a, \$b;
  syscall(316, -100, \$a, -100, \$b, 2) == 0 or die "renameat2: \$!";
  \$n++;
}
PERL
  attack_start /tmp/xswap.pl
  : >/tmp/race-sync.out
  local end=$((SECONDS + 6)) rc codes=() bad=""
  while ((SECONDS < end)); do
    rc=0
    timeout 20 claude-share sync >>/tmp/race-sync.out 2>&1 || rc=$?
    codes+=("$rc")
    # Every inode recorded before still has its owner; anything new is root's.
    bad=$(find $SD/home -xdev ! -type d -printf '%i %u\n' | LC_ALL=C sort | LC_ALL=C join -a 1 - <(echo "$owners") |
      awk 'NF == 3 && $2 != $3 || NF == 2 && $2 != "root"')
    [[ -z "$bad" ]] || break
  done
  attack_stop
  echo "sync exit codes: ${codes[*]}"
  figure "chown race: $ATTACK_RATE swaps/s survived ($ATTACK_N in $ATTACK_MS ms) during ${#codes[@]} syncs that fixed a mode $(grep -c 'fixed group and mode' /tmp/race-sync.out) times"
  assert_equal "$bad" ''
  for rc in "${codes[@]}"; do [[ "$rc" =~ ^(0|1|2)$ ]]; done
  grep -q 'fixed group and mode' /tmp/race-sync.out
  run find $SD/home -xdev ! -group claudeshare
  assert_output ''
  # After the race, csbob's next refresh is healed.
  sync_heals newer "0 1"
  run claude-share sync
  assert_success
  victim_healed
  nothing_outside_changed
}

# ---------------------------------------------------------------------------------------------------------------
# 6. leaking a member's private .claude.json

@test "(6) one byte of the shared .claude.json broken by a member with a private ~/.claude.json full of secrets: the secret never reaches the shared copy" {
  local secret=mcp-secret-$RANDOM$RANDOM good
  good=$(cat $SD/home/.claude/.claude.json)
  su - csalice -c "rm ~/.claude.json && printf '%s\n' '{\"oauthAccount\":{\"accountUuid\":\"00000000-0000-4000-8000-000000000001\"},\"hasCompletedOnboarding\":true,\"mcpServers\":{\"db\":{\"command\":\"db\",\"env\":{\"PASSWORD\":\"$secret\"}}}}' >~/.claude.json && chmod 600 ~/.claude.json"
  su - csalice -c "printf x | dd of=$SD/home/.claude/.claude.json bs=1 count=1 conv=notrunc status=none"
  [[ "$(head -c 1 $SD/home/.claude/.claude.json)" == x ]]
  [ -z "$(find $SD/backups -path '*/shared/.claude.json*')" ]
  run claude-share status
  assert_failure 1
  sync_heals newer
  run grep -rlF "$secret" $SD/home /home/csbob
  assert_failure 1
  # No good shared copy in the backups: the minimal document.
  run node -e 'console.log(JSON.stringify(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))))' $SD/home/.claude/.claude.json
  assert_output '{"hasCompletedOnboarding":true}'
  assert_equal "$(readlink /home/csalice/.claude.json)" "$SD/home/.claude/.claude.json"
  # Her private file: in the root-only backups.
  run bash -c "grep -rlF '$secret' $SD/backups"
  assert_success
  local saved=$output
  [[ "$saved" == */csalice/.claude.json* ]]
  assert_equal "$(stat -c '%U %a' "$saved")" 'root 600'
  assert_equal "$(stat -c '%U %a' "$(dirname "$saved")")" 'root 700'

  # Again with a good shared copy in the backups (as root keeps them) and the watcher running: that copy comes back.
  local run_dir
  run_dir=$SD/backups/$(date -u -d '-2 min' +%Y-%m-%dT%H-%M-%S.000Z)
  install -d -m 0700 "$run_dir" "$run_dir/shared"
  printf '%s\n' "$good" >"$run_dir/shared/.claude.json"
  chmod 0600 "$run_dir/shared/.claude.json"
  start_watch
  su - csalice -c "rm ~/.claude.json && printf '%s\n' '{\"mcpServers\":{\"db\":{\"env\":{\"PASSWORD\":\"$secret\"}}}}' >~/.claude.json && chmod 600 ~/.claude.json"
  su - csalice -c "printf x | dd of=$SD/home/.claude/.claude.json bs=1 count=1 conv=notrunc status=none"
  watch_heal w1 'broken shared .claude.json, private one with secrets'
  watch_alive
  run claude-share sync
  assert_success
  assert_equal "$(cat $SD/home/.claude/.claude.json)" "$good"
  run grep -rlF "$secret" $SD/home /home/csbob
  assert_failure 1
  assert_equal "$(readlink /home/csalice/.claude.json)" "$SD/home/.claude/.claude.json"
  nothing_outside_changed
}

# ---------------------------------------------------------------------------------------------------------------
# 7, 8. init input that would hand out root

@test "(7) fresh machine: init --group sudo is 77, a foreign group with unmanaged members is 77 unless --adopt-group; nothing changed" {
  local before
  before=$(world)
  OUTSIDE=$(outside_state)
  run claude-share server init --yes --group sudo --user csx:pw
  assert_failure 77
  assert_output --partial sudo
  run claude-share server init --yes --group sudo --adopt-group --user csx:pw
  assert_failure 77
  assert_equal "$(world)" "$before"
  nothing_outside_changed
  run id csx
  assert_failure
  # A non-system group whose members init does not manage.
  groupadd -g 4242 csteam
  useradd -m -s /bin/bash csmallory
  gpasswd -a csmallory csteam >/dev/null
  before=$(world)
  OUTSIDE=$(outside_state)
  run claude-share server init --yes --group csteam --user csx:pw
  assert_failure 77
  assert_output --partial adopt-group
  assert_equal "$(world)" "$before"
  nothing_outside_changed
  run claude-share server init --yes --group csteam --adopt-group --user csx:pw
  assert_success
  run getent group csteam
  assert_output --partial csx
  assert_output --partial csmallory
}

@test "(8) fresh machine: a password with a line break or of 600 characters (--user, --users-from-file) is 65; root's hash unchanged, chpasswd never ran" {
  # A chpasswd that records being run (claude-share looks in PATH first, /usr/local/sbin ahead of /usr/sbin).
  printf '#!/bin/sh\necho ran >>/tmp/chpasswd.ran\nexec /usr/sbin/chpasswd "$@"\n' >/usr/local/sbin/chpasswd
  chmod 0755 /usr/local/sbin/chpasswd
  local root_hash before long
  root_hash=$(grep '^root:' /etc/shadow)
  before=$(world)
  OUTSIDE=$(outside_state)
  long=$(head -c 600 /dev/zero | tr '\0' p)
  run claude-share server init --yes --user $'csx:pw\nroot:x'
  assert_failure 65
  run claude-share server init --yes --user "csx:$long"
  assert_failure 65
  run claude-share server init --yes --user $'csx:pw\rroot:x'
  assert_failure 65
  make_users_file /root/users.txt $'csx:pw\nroot:x\n'
  run claude-share server init --yes --users-from-file /root/users.txt
  assert_failure 65
  make_users_file /root/users.txt "csx:$long"
  run claude-share server init --yes --users-from-file /root/users.txt
  assert_failure 65
  refute_output --partial ppppppppp
  make_users_file /root/users.txt $'csx:pw\rroot:x\n'
  run claude-share server init --yes --users-from-file /root/users.txt
  assert_failure 65
  rm -f /root/users.txt
  assert_equal "$(grep '^root:' /etc/shadow)" "$root_hash"
  [ ! -e /tmp/chpasswd.ran ]
  assert_equal "$(world)" "$before"
  nothing_outside_changed
}

@test "(8) add-user --password-from-file / --password with a line break or 600 characters: 65, root's hash unchanged, chpasswd never ran; csbob still healed" {
  printf '#!/bin/sh\necho ran >>/tmp/chpasswd.ran\nexec /usr/sbin/chpasswd "$@"\n' >/usr/local/sbin/chpasswd
  chmod 0755 /usr/local/sbin/chpasswd
  local root_hash before long
  root_hash=$(grep '^root:' /etc/shadow)
  before=$(world)
  OUTSIDE=$(outside_state)
  long=$(head -c 600 /dev/zero | tr '\0' p)
  make_users_file /root/pw.txt $'pw\nroot:x\n'
  run claude-share server add-user csx --password-from-file /root/pw.txt
  assert_failure 65
  make_users_file /root/pw.txt "$long"
  run claude-share server add-user csx --password-from-file /root/pw.txt
  assert_failure 65
  refute_output --partial ppppppppp
  run claude-share server add-user csx --password $'pw\nroot:x'
  assert_failure 65
  run claude-share server add-user csx --password "$long"
  assert_failure 65
  rm -f /root/pw.txt
  assert_equal "$(grep '^root:' /etc/shadow)" "$root_hash"
  [ ! -e /tmp/chpasswd.ran ]
  assert_equal "$(world)" "$before"
  nothing_outside_changed
  sync_heals newer
}
