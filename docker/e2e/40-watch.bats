#!/usr/bin/env bats
# server watch heals within seconds; install-service and install-cron write valid files.

LOG=/tmp/watch.log

setup() {
  load test_helper
  reset_state
  rm -rf /etc/cron.d/claude-share /etc/systemd/system/claude-share-watch.service
  init_with_login initial 3600 csalice csbob
  chmod o+rx "$BATS_TEST_DIRNAME"
}

teardown() {
  [[ -n "${WATCH_PID:-}" ]] && kill "$WATCH_PID" 2>/dev/null && wait "$WATCH_PID" 2>/dev/null
  return 0
}

# Polls status (bounded: about 10 s) until it is healthy.
wait_healthy() {
  for _ in $(seq 50); do claude-share status --quiet >/dev/null 2>&1 && return 0; sleep 0.2; done
  claude-share status || true
  cat "$LOG"
  return 1
}

@test "the watcher heals each Claude write mode within seconds, keeping the freshest token" {
  : >"$LOG"
  start_watch
  local t1 t2 t3
  t1=$(fake_creds "$(ms_from_now 10000)" w-sever)
  claude_as csalice sever "$t1"
  wait_healthy
  assert_equal "$(cat $SHARED)" "$t1"
  [ -n "$(find $SD/backups -path "$SD/backups/*/csalice/.claude/.credentials.json")" ]

  chown csbob $SHARED
  t2=$(fake_creds "$(ms_from_now 20000)" w-inplace)
  claude_as csbob inplace "$t2"
  wait_healthy
  assert_equal "$(stat -c %a $SHARED)" 660
  assert_equal "$(cat $SHARED)" "$t2"

  claude_as csbob sever "$(fake_creds 0 stub | sed 's/"refreshToken":"[^"]*"/"refreshToken":""/')"
  wait_healthy
  assert_equal "$(cat $SHARED)" "$t2"

  claude_as csalice sever "$(fake_creds "$(ms_from_now 99999)" other 99999999-0000-4000-8000-000000000009)"
  wait_healthy
  assert_equal "$(cat $SHARED)" "$t2"

  t3=$(fake_creds "$(ms_from_now 30000)" w-onehop)
  claude_as csalice onehop "$t3"
  wait_healthy
  assert_equal "$(cat $SHARED)" "$t3"
  grep -q 'healed csalice in [0-9]* ms' "$LOG"
  for u in csalice csbob; do
    assert_equal "$(su - $u -c 'cat ~/.claude/.credentials.json')" "$t3"
  done
}

@test "server watch on a terminal logs every heal exactly as when piped (plain lines, no colour)" {
  local tty_log=/tmp/watch-tty.log pipe_log=/tmp/watch-pipe.log
  rm -f $tty_log $pipe_log
  # On a pseudo-terminal (script), then piped: the same heal each time.
  for mode in tty pipe; do
    if [[ $mode == tty ]]; then
      script -q -f -c "claude-share server watch --debounce 200" $tty_log </dev/null >/dev/null 2>&1 &
    else
      claude-share server watch --debounce 200 2>&1 | cat >$pipe_log &
    fi
    local pid=$! log=/tmp/watch-$mode.log
    for _ in $(seq 100); do grep -q watching $log 2>/dev/null && break; sleep 0.1; done
    claude_as csbob sever "$(fake_creds "$(ms_from_now $((20000 + ${#mode})))" "via-$mode")"
    for _ in $(seq 60); do grep -q 'healed' $log 2>/dev/null && break; sleep 0.1; done
    # The node process's command line is '… cli.js server watch …' (claude-share is a link to it).
    pkill -TERM -f 'server watch --debounce 200' || true
    wait "$pid" 2>/dev/null || true
    grep -q "via-$mode" $SHARED
  done
  cat -v $tty_log
  # The heal is logged ('healed csbob', or 'healed all members' when the start-up pass caught the write first).
  grep -q 'healed \(csbob\|all members\)' $tty_log
  grep -q 'healed \(csbob\|all members\)' $pipe_log
  # The same lines either way: the heal named, what it did, and no ESC byte (no colour, no live counter).
  for log in $tty_log $pipe_log; do
    grep -q '✓ promoted into shared copy' $log
    grep -q '✓ linked\|✓ replaced\|→ /shared' $log
  done
  assert_equal "$(grep -c $'\e' $tty_log || true)" 0
}

@test "a user added while the watcher runs is healed too" {
  : >"$LOG"
  start_watch
  claude-share server add-user cscarol --no-password >/dev/null
  sleep 1
  local t
  t=$(fake_creds "$(ms_from_now 50000)" carol-new)
  claude_as cscarol sever "$t"
  wait_healthy
  assert_equal "$(cat $SHARED)" "$t"
}

@test "kill -9 in the middle of a heal: the next start converges and nothing is lost" {
  : >"$LOG"
  start_watch
  local t
  t=$(fake_creds "$(ms_from_now 60000)" killed)
  claude_as csalice sever "$t"
  sleep 0.25
  kill -9 "$WATCH_PID"
  wait "$WATCH_PID" 2>/dev/null || true
  start_watch
  wait_healthy
  assert_equal "$(cat $SHARED)" "$t"
  # Whichever run backed it up, csalice's private copy is in the backups exactly once or more, never lost.
  run bash -c "cat $SD/backups/*/csalice/.claude/.credentials.json"
  assert_output --partial 'sk-ant-ort01-killed'
}

@test "the watcher does not react to its own writes in a loop, and survives a home being removed" {
  : >"$LOG"
  start_watch
  claude_as csbob sever "$(fake_creds "$(ms_from_now 70000)" loop)"
  wait_healthy
  sleep 2
  local heals
  heals=$(grep -c 'healed' "$LOG")
  sleep 3
  assert_equal "$(grep -c 'healed' "$LOG")" "$heals"
  # A home removed under it: the watcher keeps running and keeps healing the others.
  rm -rf /home/csbob
  sleep 1
  kill -0 "$WATCH_PID"
  local t
  t=$(fake_creds "$(ms_from_now 80000)" after-rm)
  claude_as csalice sever "$t"
  for _ in $(seq 50); do [[ -L /home/csalice/.claude/.credentials.json ]] && break; sleep 0.2; done
  assert_equal "$(cat $SHARED)" "$t"
  kill -0 "$WATCH_PID"
}

@test "a member writing every 100 ms cannot postpone another member's heal past about a second" {
  : >"$LOG"
  start_watch
  # 8 s of writes: without the bound on the debounce, csalice would wait for all of them.
  su - csbob -c 'for i in $(seq 80); do touch ~/.profile; sleep 0.1; done' &
  local writer=$! t start
  sleep 0.3
  t=$(fake_creds "$(ms_from_now 90000)" busy)
  start=$(date +%s%N)
  claude_as csalice sever "$t"
  until [[ -L /home/csalice/.claude/.credentials.json ]] || (( $(date +%s%N) - start > 6000000000 )); do sleep 0.05; done
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "healed after $ms ms while csbob kept writing"
  [[ -L /home/csalice/.claude/.credentials.json ]]
  # About a second of debounce at most, plus the heal and su's login, with room for a loaded CI machine.
  (( ms < 3500 ))
  kill "$writer" 2>/dev/null || true
  wait "$writer" || true
  wait_healthy
  assert_equal "$(cat $SHARED)" "$t"
}

@test "SIGTERM stops the watcher cleanly" {
  : >"$LOG"
  start_watch
  kill -TERM "$WATCH_PID"
  local rc=0
  wait "$WATCH_PID" || rc=$?
  WATCH_PID=
  assert_equal "$rc" 0
  grep -q 'stopped (SIGTERM)' "$LOG"
}

@test "install-service writes a unit that systemd-analyze verify accepts; without systemd it points to cron" {
  run claude-share server install-service
  if [[ -d /run/systemd/system ]]; then assert_success; else
    assert_failure 2
    assert_output --partial install-cron
  fi
  [ -f /etc/systemd/system/claude-share-watch.service ]
  grep -q '^Restart=on-failure$' /etc/systemd/system/claude-share-watch.service
  # The lock directory does not exist at boot: systemd makes it (RuntimeDirectory=), never ReadWritePaths= on it.
  grep -q '^RuntimeDirectory=claude-share$' /etc/systemd/system/claude-share-watch.service
  grep -q '^RuntimeDirectoryMode=0700$' /etc/systemd/system/claude-share-watch.service
  run grep -E '^ReadWritePaths=.*/run/claude-share' /etc/systemd/system/claude-share-watch.service
  assert_failure
  if command -v systemd-analyze >/dev/null; then
    run systemd-analyze verify /etc/systemd/system/claude-share-watch.service
    assert_success
  fi
  run claude-share server install-service --uninstall
  assert_success
  [ ! -e /etc/systemd/system/claude-share-watch.service ]
}

@test "install-cron: refused without a cron daemon; status --cron every 5 minutes, or sync --cron every minute with --heal; root mailed only when problems appear, change or clear" {
  local daemon=
  for d in /usr/sbin/cron /usr/sbin/crond /sbin/crond /usr/bin/crond /usr/sbin/cronie; do [[ -e $d ]] && daemon=$d; done
  if [[ -z "$daemon" ]]; then
    run claude-share server install-cron --heal
    assert_failure 2
    assert_output --partial 'no cron daemon is installed'
    assert_output --partial 'apt install cron'
    [ ! -e /etc/cron.d/claude-share ]
    # A stand-in daemon (this system is thrown away): what install-cron looks for.
    install -m 0755 /dev/null /usr/sbin/cron
    CS_STUB_CRON=1
  fi
  run claude-share server install-cron
  assert_success
  run cat /etc/cron.d/claude-share
  assert_line --regexp '^\*/5 \* \* \* \* root /.*claude-share status --cron$'
  assert_equal "$(stat -c '%U %a' /etc/cron.d/claude-share)" "root 644"
  claude-share server install-cron --heal
  run cat /etc/cron.d/claude-share
  assert_line --regexp '^\* \* \* \* \* root /.*claude-share sync --cron$'
  # What cron would mail: nothing for a routine refresh heal, a warning once, one line when it is gone.
  rm -rf /var/lib/claude-share
  run claude-share sync --cron
  assert_success
  assert_output ''
  claude_as csbob sever "$(fake_creds "$(ms_from_now 28000)" routine)"
  run claude-share sync --cron
  assert_success
  assert_output ''
  grep -q routine $SHARED
  printf '{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"true"}]}]}}\n' | su - csalice -c "bash $FAKE onehop .claude/settings.json"
  run claude-share sync --cron
  assert_output --partial 'reported again only when they change'
  assert_output --partial shared-runs-commands
  run claude-share sync --cron
  assert_output ''
  printf '{}\n' | su - csalice -c "bash $FAKE onehop .claude/settings.json"
  run claude-share sync --cron
  assert_output --partial 'every problem reported before is resolved'
  run claude-share sync --cron
  assert_output ''
  assert_equal "$(stat -c '%U %a' /var/lib/claude-share)" "root 700"
  claude-share server install-cron --uninstall
  [ ! -e /etc/cron.d/claude-share ]
  [[ -z "${CS_STUB_CRON:-}" ]] || rm -f /usr/sbin/cron
}
