#!/usr/bin/env bats
# doctor and login run a program AS a member (setpriv, runuser --pty): here with real accounts, real processes and a
# stand-in client (fake-claude-cli.sh, installed root-owned as /usr/local/bin/claude) that records what it ran as.

RUNS=/tmp/fake-claude-runs

setup() {
  load test_helper
  reset_state
  install -m 0755 -o root -g root "$BATS_TEST_DIRNAME/fake-claude-cli.sh" /usr/local/bin/claude
  rm -f /etc/fake-claude-version /etc/fake-claude-account
  install -m 0666 /dev/null $RUNS
  init_with_login_no_password dl 3600 csalice csbob
  printf '{"oauthAccount":{"accountUuid":"00000000-0000-4000-8000-000000000001","emailAddress":"shared@example.com"},"hasCompletedOnboarding":true}\n' >$SD/home/.claude/.claude.json
}

teardown() {
  pkill -u csalice 2>/dev/null
  pkill -u csbob 2>/dev/null
  rm -f /usr/local/bin/claude /etc/fake-claude-version /etc/fake-claude-account $RUNS
  return 0
}

uid_of() { id -u "$1"; }

# sign_in USER CODE -- `claude-share login --as USER --run` on a terminal (expect), CODE pasted at the client's
# prompt; prints its output, then EXIT=N; the terminal root's command had is left in /tmp/expect-tty.
sign_in() {
  CODE=$2 expect -c "
    set timeout 30
    spawn claude-share login --as $1 --run
    expect \"Paste code here if prompted > \"
    send \"\$env(CODE)\\r\"
    expect eof
    catch wait r
    puts \"EXIT=[lindex \$r 3]\"
    set f [open /tmp/expect-tty w]; puts \$f \$spawn_out(slave,name); close \$f
  "
}

@test "doctor --all: the installed claude runs as each member (their uid and groups, no new privileges, no terminal, none of root's environment); healthy members exit 0" {
  # Root's own secrets stay root's: a variable of its own, and a proxy URL with a password in it.
  CS_ROOT_SECRET=hunter2 HTTPS_PROXY=http://root:pw@proxy.example:3128 run claude-share doctor --all
  assert_success
  assert_output --partial 'claude-share doctor: healthy  (2 members, group claudeshare)'
  assert_output --partial 'claude 2.1.330 at /usr/local/bin/claude'
  assert_output --partial '✓ claude auth status as csalice: logged in (claude.ai)'
  assert_output --partial '✓ claude auth status as csbob: logged in (claude.ai)'
  local gid
  gid=$(getent group claudeshare | cut -d: -f3)
  run grep -c . $RUNS
  assert_output 3
  # Never root: every run as a member, with the shared group among its groups.
  run grep -c "uid=0 " $RUNS
  assert_output 0
  run grep "args=auth status" $RUNS
  assert_line --regexp "^run=[0-9]+ uid=$(uid_of csalice) groups=([0-9]+,)*$gid(,[0-9]+)* nnp=1 tty=none secret=unset proxy=unset umask=0002 home=/home/csalice args=auth status$"
  assert_line --regexp "^run=[0-9]+ uid=$(uid_of csbob) groups=([0-9]+,)*$gid(,[0-9]+)* nnp=1 tty=none secret=unset proxy=unset umask=0002 home=/home/csbob args=auth status$"
}

@test "doctor: a session started before the member joined the group and one with umask 077 are named with their pids (exit 1); a member whose client is logged out is an error (exit 2)" {
  # bob's sessions: one with only his own group (as a login from before init), one with umask 077.
  setpriv --reuid csbob --regid csbob --clear-groups bash -c 'umask 002; exec sleep 300' 3>&- &
  local nogroup=$!
  setpriv --reuid csbob --regid csbob --init-groups bash -c 'umask 077; exec sleep 300' 3>&- &
  local strict=$!
  sleep 0.3
  run claude-share doctor csbob
  assert_failure 1
  assert_output --partial "! 2 processes: 1 without group claudeshare"
  assert_output --partial "warning [session-without-group] 1 of 2 processes of csbob run without group claudeshare (pid $nogroup)"
  assert_output --partial "warning [session-umask] 1 of 2 processes of csbob run with umask 0077 (pid $strict)"
  run claude-share doctor csalice
  assert_success
  kill $nogroup $strict

  # The shared file loses group access (chmod 0600 by an old client): every member's client is logged out.
  chmod 0600 $SHARED
  run claude-share doctor --all --json
  assert_failure 2
  run node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(d.checks.map((c) => c.user + ":" + c.loggedIn).join(" "), d.problems.filter((p) => p.code === "member-logged-out").length)' <<<"$output"
  assert_output 'csalice:false csbob:false 2'
  claude-share sync >/dev/null
  run claude-share doctor --all
  assert_success
}

@test "doctor: the client's write mode by version; no claude only root could have put there: skipped and said; --claude in a member's home: refused, nothing run" {
  echo 2.1.112 >/etc/fake-claude-version
  run claude-share doctor --all --json
  assert_success
  assert_output --partial '"writeMode": "in-place"'
  rm /usr/local/bin/claude
  : >$RUNS
  install -d -o csalice /home/csalice/bin
  install -m 0755 -o csalice "$BATS_TEST_DIRNAME/fake-claude-cli.sh" /home/csalice/bin/claude
  run claude-share doctor --all
  assert_success
  assert_output --partial 'warning [claude-not-found]'
  run claude-share doctor --all --claude /home/csalice/bin/claude
  assert_failure 77
  assert_output --partial 'is not an executable that only root could have put there'
  run cat $RUNS
  assert_output ''
}

@test "login: without --run it says how the login stands, the account and the two steps, and changes nothing" {
  local before
  before=$(ls -lR --time-style=full-iso /home/csalice /home/csbob $SD 2>&1 | md5sum)
  run claude-share login
  assert_success
  assert_output --partial 'The shared login works; it ends'
  assert_output --partial 'It belongs to shared@example.com (account 00000000-0000-4000-8000-000000000001): sign in with that account.'
  assert_output --partial 'claude auth login --email shared@example.com'
  assert_output --partial 'Or both at once, on this terminal: sudo claude-share login --as csalice --run'
  [ "$(ls -lR --time-style=full-iso /home/csalice /home/csbob $SD 2>&1 | md5sum)" = "$before" ]
  run cat $RUNS
  assert_output ''
  # --run without a terminal: 64, the fix named, nothing run.
  run claude-share login --as csalice --run </dev/null
  assert_failure 64
  assert_output --partial '--run needs a terminal'
}

@test "login --as csalice --run: the sign-in as csalice on a pseudo-terminal of its own (never root's), then the new login is shared, relinked, and lives 30 days from now" {
  run sign_in csalice good-code
  assert_output --partial 'Signing in as csalice'
  assert_output --partial "✓ csalice's new login is the shared one; it ends"
  assert_output --partial '(in 30 days) (estimated)'
  assert_output --partial 'EXIT=0'
  grep -q '"refreshToken":"sk-ant-ort01-NEWLOGIN"' $SHARED
  [ "$(readlink /home/csalice/.claude/.credentials.json)" = "$SHARED" ]
  # The client ran as csalice with a terminal, but not the one root's command had.
  run grep 'args=auth login --email shared@example.com' $RUNS
  assert_line --regexp "^run=[0-9]+ uid=$(uid_of csalice) .* tty=/dev/pts/[0-9]+ secret=unset proxy=unset umask=0002 home=/home/csalice "
  local member_tty root_tty
  member_tty=$(grep 'args=auth login' $RUNS | sed 's/.* tty=\([^ ]*\) .*/\1/')
  root_tty=$(cat /tmp/expect-tty)
  [ -n "$root_tty" ] && [ "$member_tty" != "$root_tty" ]
  run claude-share status
  assert_success
}

@test "login --run: a sign-in with another account shares nothing (exit 2) and names the fix; a failed sign-in shares nothing" {
  echo 00000000-0000-4000-8000-0000000000ff >/etc/fake-claude-account
  local before
  before=$(md5sum <$SHARED)
  run sign_in csbob good-code
  assert_output --partial 'csbob signed in to another account than the shared one'
  assert_output --partial 'sudo claude-share sync --accept-account'
  assert_output --partial 'EXIT=2'
  [ "$(md5sum <$SHARED)" = "$before" ]
  claude-share sync >/dev/null || true
  run sign_in csalice wrong
  assert_output --partial 'the sign-in as csalice ended with exit 1; nothing was shared'
  assert_output --partial 'EXIT=2'
  [ "$(md5sum <$SHARED)" = "$before" ]
}
