#!/usr/bin/env bats
# Attacks by managed users, and hostile input, against init, add-user, status, sync and watch. Every case must end
# refused or reported with a documented exit code (0 ok, 1 drift, 2 operator, 64 usage, 65 bad data, 77 unsafe), the
# target untouched, nothing hanging and no secret printed.

LOG=/tmp/watch-security.log
LOCK=/run/lock/claude-share.lock

# world (test_helper.bash) also records /srv here.
WORLD_EXTRA=(/srv)

setup() {
  load test_helper
  # Leftovers of a failed case (the CLI wrote where it must not): gone before the next one.
  CS_RESET_PATHS+=(/srv/csx /srv/cslink /etc/csx /etc/csy /etc/csrace "$LOCK")
  reset_state
  rm -rf /root/users.txt /root/bad.txt /root/pw.txt /root/users.fifo
  init_with_login initial 3600 csalice csbob cscarol
  chmod o+rx "$BATS_TEST_DIRNAME"
  SHADOW_LINE=$(head -n 1 /etc/shadow)
  SHADOW_FP=$(shadow_fp)
  BG_PIDS=()
}

teardown() {
  local p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n "${WATCH_PID:-}" ]] && kill "$WATCH_PID" 2>/dev/null && wait "$WATCH_PID" 2>/dev/null
  [[ -d /shared ]] && chmod 0755 /shared
  rm -f "$LOCK"
  return 0
}

# ---------------------------------------------------------------------------------------------------------------
# helpers

# Everything under /etc that a command could create, move, chmod or rewrite (its own config excluded).
# With "accounts", the account databases that useradd/gpasswd legitimately rewrite are left out (new files still show).

shadow_fp() { stat -c '%a %U:%G %s %Y' /etc/shadow && sha256sum </etc/shadow; }

# Everything init/add-user may change, in one string (as in 10-init.bats).

home_state() { find "/home/$1" -printf '%p %y %u:%g %m %n %s %T@ %l\n' 2>/dev/null | sort; }

# The shadow file's content was never copied anywhere root writes.
shadow_nowhere() {
  run grep -rlF -- "$SHADOW_LINE" $SD
  assert_failure 1
  assert_equal "$(shadow_fp)" "$SHADOW_FP"
}

# quick CMD... -- run CMD with a 20 s limit; it must finish (not time out) within 10 s.
quick() {
  local t0=$SECONDS
  run timeout 20 "$@"
  if ((status == 124 || SECONDS - t0 >= 10)); then
    echo "too slow or hung ($((SECONDS - t0)) s, status $status): $*"
    return 1
  fi
}

# A writer blocked in open() until somebody opens PATH (a FIFO) for reading. `fifo_never_opened` checks it still waits.
fifo_writer() {
  rm -f /tmp/fifo-writer.done
  timeout 120 sh -c "echo x >'$1' && echo opened >/tmp/fifo-writer.done" >/dev/null 2>&1 3>&- &
  FIFO_WRITER=$!
  BG_PIDS+=("$FIFO_WRITER")
  sleep 0.2
}
fifo_never_opened() {
  [[ ! -e /tmp/fifo-writer.done ]] && kill -0 "$FIFO_WRITER"
}

# start_poll / stop_poll -- record every distinct argv and environment of every process into /tmp/procs.log, as fast
# as perl can read /proc, between the two calls.
start_poll() {
  cat >/tmp/poll.pl <<'PERL'
my ($out, $stop) = @ARGV;
open my $o, '>>', $out or die; select $o; $| = 1;
my %seen;
until (-e $stop) {
  for my $d (glob '/proc/[0-9]*') {
    for my $f ('cmdline', 'environ') {
      open my $h, '<', "$d/$f" or next; local $/; my $c = <$h>; close $h;
      next unless defined $c && length $c;
      $c =~ tr/\0/ /;
      print "$f: $c\n" unless $seen{$c}++;
    }
  }
}
PERL
  rm -f /tmp/procs.log /tmp/poll.stop
  perl /tmp/poll.pl /tmp/procs.log /tmp/poll.stop 3>&- &
  POLLER=$!
  BG_PIDS+=("$POLLER")
  sleep 0.3
}
stop_poll() {
  touch /tmp/poll.stop
  wait "$POLLER"
}

# The watcher is alive and still heals: a deleted link of csalice comes back within a few seconds.
watcher_still_heals() {
  su - csalice -c 'rm ~/.claude/settings.json'
  for _ in $(seq 50); do
    [[ "$(readlink /home/csalice/.claude/settings.json)" == "$SD/home/.claude/settings.json" ]] && break
    sleep 0.2
  done
  kill -0 "$WATCH_PID"
  assert_equal "$(readlink /home/csalice/.claude/settings.json)" "$SD/home/.claude/settings.json"
}

# ---------------------------------------------------------------------------------------------------------------
# 1. ~/.claude is a symlink to /etc

@test "(1) ~/.claude -> /etc: status unsafe-path (2), sync and dry-run exit 2; nothing in /etc created, moved or chmod'ed" {
  su - csbob -c 'rm -rf ~/.claude && ln -s /etc ~/.claude'
  local etc
  etc=$(etc_state)
  run claude-share status
  assert_failure 2
  assert_output --partial unsafe-path
  assert_output --partial '/home/csbob/.claude/.credentials.json'
  run claude-share status --json
  assert_failure 2
  echo "$output" | node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const bob = d.users.find((u) => u.name === "csbob");
    const st = Object.fromEntries(bob.items.map((i) => [i.path, i.state]));
    if (st["/home/csbob/.claude/.credentials.json"] !== "unsafe" || st["/home/csbob/.claude/settings.json"] !== "unsafe") process.exit(1);'
  run claude-share sync --dry-run
  assert_failure 2
  run claude-share sync
  assert_failure 2
  assert_output --partial unsafe-path
  assert_equal "$(etc_state)" "$etc"
  assert_equal "$(readlink /home/csbob/.claude)" /etc
}

@test "(1) ~/.claude -> /etc in an adopted account: add-user and init exit 2, /etc untouched" {
  make_user csdan
  su - csdan -c 'ln -s /etc ~/.claude'
  make_user csemma
  su - csemma -c 'ln -s /etc ~/.claude'
  local etc
  etc=$(etc_state accounts)
  run claude-share server add-user csdan
  assert_failure 2
  assert_output --partial unsafe-path
  run claude-share server init --yes --user csemma
  assert_failure 2
  assert_output --partial unsafe-path
  assert_equal "$(etc_state accounts)" "$etc"
  assert_equal "$(readlink /home/csdan/.claude)" /etc
  assert_equal "$(readlink /home/csemma/.claude)" /etc
}

@test "(1) watch: ~/.claude -> /etc planted while the watcher runs: /etc untouched, the watcher keeps healing" {
  start_watch
  sleep 0.5
  local etc
  etc=$(etc_state)
  su - csbob -c 'mv ~/.claude ~/.claude.old && ln -s /etc ~/.claude'
  sleep 1.5
  watcher_still_heals
  assert_equal "$(etc_state)" "$etc"
}

# ---------------------------------------------------------------------------------------------------------------
# 2. a link with the wrong target: /etc/shadow

@test "(2) settings.json, .credentials.json and .claude.json -> /etc/shadow: wrong-target (1); sync replaces the links, shadow never read" {
  su - csalice -c 'ln -sfn /etc/shadow ~/.claude/settings.json && ln -sfn /etc/shadow ~/.claude/.credentials.json && ln -sfn /etc/shadow ~/.claude.json'
  local shared
  shared=$(cat $SHARED)
  run claude-share status
  assert_failure 1
  assert_output --partial wrong-target
  refute_output --partial "$SHADOW_LINE"
  run claude-share sync
  assert_success
  refute_output --partial "$SHADOW_LINE"
  for f in .claude/settings.json .claude/.credentials.json .claude.json; do
    assert_equal "$(readlink /home/csalice/$f)" "$(shared_of "$f")"
  done
  assert_equal "$(cat $SHARED)" "$shared"
  shadow_nowhere
  run claude-share status
  assert_success
}

# ---------------------------------------------------------------------------------------------------------------
# 3. hard link, FIFO, device

@test "(3) a hard-linked private .credentials.json: unsafe-path (2), never read or promoted, left as it is" {
  local fresh
  fresh=$(fake_creds "$(ms_from_now 90000)" hardlinked)
  su - csalice -c "rm ~/.claude/.credentials.json && printf '%s\n' '$fresh' >~/mine.json && chmod 600 ~/mine.json && ln ~/mine.json ~/.claude/.credentials.json"
  assert_equal "$(stat -c %h /home/csalice/.claude/.credentials.json)" 2
  local shared before
  shared=$(cat $SHARED)
  before=$(home_state csalice)
  quick claude-share status
  assert_failure 2
  assert_output --partial unsafe-path
  assert_output --partial 'hard link'
  quick claude-share sync
  assert_failure 2
  assert_output --partial unsafe-path
  assert_equal "$(cat $SHARED)" "$shared"
  assert_equal "$(home_state csalice)" "$before"
  [ -z "$(find $SD/backups -path '*/csalice/*')" ]
}

@test "(3) a FIFO planted as .credentials.json: never opened, nothing hangs, not-a-file (2)" {
  su - csalice -c 'rm ~/.claude/.credentials.json && mkfifo ~/.claude/.credentials.json'
  fifo_writer /home/csalice/.claude/.credentials.json
  quick claude-share status
  assert_failure 2
  assert_output --partial not-a-file
  quick claude-share sync
  assert_failure 2
  assert_output --partial not-a-file
  quick claude-share sync --user csalice --json
  assert_failure 2
  fifo_never_opened
  [ -p /home/csalice/.claude/.credentials.json ]
}

@test "(3) a FIFO as ~/.claude.json and as ~/.bashrc of an adopted account: add-user does not hang or open them" {
  make_user csdan
  su - csdan -c 'rm -f ~/.bashrc && mkfifo ~/.bashrc && mkfifo ~/.claude.json'
  fifo_writer /home/csdan/.claude.json
  quick claude-share server add-user csdan
  assert_failure 2
  assert_output --partial not-a-file
  assert_output --partial rc-unsafe
  fifo_never_opened
  [ -p /home/csdan/.claude.json ] && [ -p /home/csdan/.bashrc ]
}

@test "(3) a character device as .credentials.json: not-a-file (2), left alone" {
  rm /home/csalice/.claude/.credentials.json
  mknod -m 0600 /home/csalice/.claude/.credentials.json c 1 3
  chown csalice: /home/csalice/.claude/.credentials.json
  quick claude-share status
  assert_failure 2
  assert_output --partial not-a-file
  quick claude-share sync
  assert_failure 2
  [ -c /home/csalice/.claude/.credentials.json ]
  [ -z "$(find $SD/backups -path '*/csalice/*')" ]
}

@test "(3) watch: a FIFO planted while the watcher runs is never opened and the watcher keeps healing" {
  start_watch
  su - csbob -c 'rm ~/.claude/.credentials.json && mkfifo ~/.claude/.credentials.json'
  fifo_writer /home/csbob/.claude/.credentials.json
  sleep 1.5
  watcher_still_heals
  fifo_never_opened
}

# ---------------------------------------------------------------------------------------------------------------
# 4. a 2 GB sparse file

@test "(4) a 2 GB sparse file at a link path: unsafe-path with the size cap (2), status and sync finish quickly, no backup" {
  su - csalice -c 'rm ~/.claude/.credentials.json ~/.claude.json && truncate -s 2G ~/.claude/.credentials.json && truncate -s 2G ~/.claude.json'
  quick claude-share status
  assert_failure 2
  assert_output --partial unsafe-path
  assert_output --partial 'byte cap'
  quick claude-share sync
  assert_failure 2
  assert_equal "$(stat -c %s /home/csalice/.claude/.credentials.json)" 2147483648
  [ -z "$(find $SD/backups -path '*/csalice/*')" ]
  # Nothing big was written anywhere root writes.
  [ "$(du -sk $SD | cut -f1)" -lt 1024 ]
}

@test "(4) a member grows the shared settings.json to 2 GB through the link: reported (2) quickly, never copied" {
  su - csalice -c 'truncate -s 2G ~/.claude/settings.json'
  quick claude-share status
  assert_failure 2
  quick claude-share sync
  assert_failure 2
  [ "$(du -sk $SD/backups | cut -f1)" -lt 1024 ]
}

# ---------------------------------------------------------------------------------------------------------------
# 5. a home or ~/.claude owned by someone else

@test "(5) a home owned by another member: home-unsafe (2); sync writes nothing there" {
  chown csbob /home/csalice
  su - csbob -c 'rm -f /home/csalice/.claude.json'
  local before
  before=$(home_state csalice)
  run claude-share status
  assert_failure 2
  assert_output --partial home-unsafe
  run claude-share sync
  assert_failure 2
  assert_output --partial home-unsafe
  assert_equal "$(home_state csalice)" "$before"
}

@test "(5) ~/.claude owned by another member: unsafe-path (2); sync writes nothing inside" {
  chown csbob /home/csalice/.claude
  rm /home/csalice/.claude/settings.json
  local before
  before=$(home_state csalice)
  run claude-share status
  assert_failure 2
  assert_output --partial unsafe-path
  assert_output --partial 'owned by uid'
  run claude-share sync
  assert_failure 2
  assert_equal "$(home_state csalice)" "$before"
  [ ! -e /home/csalice/.claude/settings.json ]
}

@test "(5) add-user adopting an account whose home belongs to someone else: exit 2, nothing written there" {
  make_user csdan
  chown csalice /home/csdan
  local before
  before=$(home_state csdan)
  run claude-share server add-user csdan
  assert_failure 2
  assert_output --partial home-unsafe
  assert_equal "$(home_state csdan)" "$before"
}

# ---------------------------------------------------------------------------------------------------------------
# 6. rc files that are symlinks

@test "(6) ~/.bashrc -> /etc/profile, ~/.profile -> another member's .profile: rc-unsafe warning (0), nothing written through them" {
  su - csalice -c 'ln -sfn /etc/profile ~/.bashrc && ln -sfn /home/csbob/.profile ~/.profile'
  local etc_profile bob_profile
  etc_profile=$(stat -c '%s %Y %a' /etc/profile; sha256sum </etc/profile)
  bob_profile=$(stat -c '%s %Y %a' /home/csbob/.profile; sha256sum </home/csbob/.profile)
  run claude-share status
  assert_success
  assert_output --partial rc-unsafe
  run claude-share sync
  assert_success
  assert_output --partial rc-unsafe
  assert_equal "$(stat -c '%s %Y %a' /etc/profile; sha256sum </etc/profile)" "$etc_profile"
  assert_equal "$(stat -c '%s %Y %a' /home/csbob/.profile; sha256sum </home/csbob/.profile)" "$bob_profile"
  [ -L /home/csalice/.bashrc ] && [ -L /home/csalice/.profile ]
}

@test "(6) add-user adopting an account whose ~/.bashrc -> /etc/profile: warning rc-unsafe, /etc/profile unchanged" {
  make_user csdan
  su - csdan -c 'ln -sfn /etc/profile ~/.bashrc'
  local etc_profile
  etc_profile=$(stat -c '%s %Y %a' /etc/profile; sha256sum </etc/profile)
  run claude-share server add-user csdan
  assert_success
  assert_output --partial rc-unsafe
  assert_equal "$(stat -c '%s %Y %a' /etc/profile; sha256sum </etc/profile)" "$etc_profile"
}

# ---------------------------------------------------------------------------------------------------------------
# 7. a shared directory that members can reach into

@test "(7) init with a shared dir under a world-writable parent: 77, nothing changed" {
  reset_state
  install -d -m 0777 /srv/csx
  make_users_file /root/users.txt $'csdan:pw\n'
  local before
  before=$(world)
  run claude-share server init --yes --users-from-file /root/users.txt --shared-dir /srv/csx/share
  assert_failure 77
  assert_output --partial /srv/csx
  assert_equal "$(world)" "$before"
}

@test "(7) a parent of the shared dir made 0777 after init: status shared-dir-insecure (2), sync and add-user 77, nothing changed" {
  chmod 0777 /shared
  su - csalice -c 'rm ~/.claude/settings.json'
  local before
  before=$(world)
  run claude-share status
  assert_failure 2
  assert_output --partial shared-dir-insecure
  run claude-share sync
  assert_failure 77
  assert_output --partial /shared
  run claude-share server add-user csdan --no-password
  assert_failure 77
  assert_equal "$(world)" "$before"
}

@test "(7) watch with an insecure parent: the watcher writes nothing and keeps running" {
  start_watch
  chmod 0777 /shared
  su - csalice -c 'rm ~/.claude/settings.json'
  local before
  before=$(world)
  sleep 2
  kill -0 "$WATCH_PID"
  [ ! -e /home/csalice/.claude/settings.json ]
  assert_equal "$(world)" "$before"
}

@test "(7) a member cannot replace <shared>/home/.claude by a symlink to /etc; one found there (an old layout) is set aside, the real one put back, /etc untouched" {
  run su - csalice -c "mv $SD/home/.claude $SD/home/.claude.away"
  assert_failure
  assert_output --partial 'Permission denied'
  run su - csalice -c "ln -s /etc $SD/home/.claude.away"
  assert_failure
  [ -d $SD/home/.claude ] && [ ! -e $SD/home/.claude.away ]
  # What layouts before 0.2 let a member do, done by root in her name.
  mv $SD/home/.claude $SD/home/.claude.away && ln -s /etc $SD/home/.claude && chown -h csalice:csalice $SD/home/.claude
  local etc
  etc=$(etc_state)
  run claude-share status
  assert_failure 1
  assert_output --partial 'csalice replaced /shared/claude-share/home/.claude by a symlink and moved the real one to /shared/claude-share/home/.claude.away'
  claude_as csbob sever "$(fake_creds "$(ms_from_now 9000)" newer)"
  run claude-share sync
  assert_success
  assert_output --partial 'moved to <shared>/set-aside (root-only) what a member put at'
  assert_equal "$(etc_state)" "$etc"
  [ -d $SD/home/.claude ] && [ ! -L $SD/home/.claude ] && [ ! -e $SD/home/.claude.away ]
  assert_equal "$(stat -c '%U %a' $SD/home/.claude)" "root 2770"
  # csbob's refresh (the only live token) became the shared copy in the same sync.
  grep -q newer $SD/home/.claude/.credentials.json
  run bash -c "ls -d $SD/set-aside/*/.claude.csalice.*"
  assert_success
  [ -L "$output" ]
  run claude-share status
  assert_success
}

@test "(7) race: a member swaps the shared login with a symlink into /etc (RENAME_EXCHANGE) during syncs that promote: root never writes, chmods or chowns through it" {
  [[ "$(uname -m)" == x86_64 ]] || skip "the swapper uses the x86_64 renameat2 syscall number"
  # The member's target: a directory under /etc holding root-only files with the names of shared copies.
  install -d -m 0755 /etc/csrace
  printf 'root only\n' >/etc/csrace/settings.json
  printf 'root only\n' >/etc/csrace/.credentials.json
  chmod 0600 /etc/csrace/settings.json /etc/csrace/.credentials.json
  local before
  before=$(find /etc/csrace -printf '%p %y %u:%g %m %s %T@\n' | sort)
  cat >/tmp/swap.pl <<'PERL'
# renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) in a loop (x86_64: syscall 316); ENOENT while root renames.
chdir $ARGV[0] or die;
my @pairs = ([".credentials.json", ".credentials.json.sym"], ["settings.json", "settings.json.sym"]);
while (1) { for my $p (@pairs) { syscall(316, -100, $p->[0], -100, $p->[1], 2); } }
PERL
  chmod 0644 /tmp/swap.pl
  BG_PIDS+=("$(su - csalice -c "cd $SD/home/.claude && ln -s /etc/csrace/.credentials.json .credentials.json.sym && ln -s /etc/csrace/settings.json settings.json.sym && { setsid perl /tmp/swap.pl $SD/home/.claude </dev/null >/dev/null 2>&1 & echo \$!; }")")
  local i rc codes=()
  for i in $(seq 1 30); do
    # A fresher login in csbob's home: a promotion to write into <shared>/home/.claude.
    rm -f /home/csbob/.claude/.credentials.json
    install_creds csbob "$(fake_creds "$(ms_from_now $((9000 + i)))" "race$i")"
    rc=0
    timeout 20 claude-share sync >/dev/null 2>&1 || rc=$?
    codes+=("$rc")
    [[ "$(find /etc/csrace -printf '%p %y %u:%g %m %s %T@\n' | sort)" == "$before" ]] || break
  done
  kill "${BG_PIDS[-1]}" 2>/dev/null || true
  echo "sync exit codes: ${codes[*]}"
  ls -la /etc/csrace $SD/home/.claude
  assert_equal "$(find /etc/csrace -printf '%p %y %u:%g %m %s %T@\n' | sort)" "$before"
  assert_equal "$(cat /etc/csrace/settings.json /etc/csrace/.credentials.json)" $'root only\nroot only'
  for rc in "${codes[@]}"; do [[ "$rc" =~ ^(0|1|2|77)$ ]]; done
}

# ---------------------------------------------------------------------------------------------------------------
# 8. time of check, time of use

@test "(8) TOCTOU: a severed file swapped for a symlink to /etc/shadow between status and sync: relinked, shadow never read" {
  local shared fresh
  shared=$(cat $SHARED)
  fresh=$(fake_creds "$(ms_from_now 50000)" swapped)
  claude_as csalice sever "$fresh"
  run claude-share status
  assert_failure 1
  assert_output --partial severed
  su - csalice -c 'ln -sfn /etc/shadow ~/.claude/.credentials.json'
  run claude-share sync
  assert_success
  refute_output --partial "$SHADOW_LINE"
  assert_equal "$(readlink /home/csalice/.claude/.credentials.json)" "$SHARED"
  assert_equal "$(cat $SHARED)" "$shared"
  shadow_nowhere
}

@test "(8) TOCTOU race: a member flips .credentials.json between a fresh private file and a symlink to /etc/shadow during syncs" {
  fake_creds "$(ms_from_now 50000)" flip >/tmp/flip.json
  chmod 0644 /tmp/flip.json
  cat >/tmp/flip.pl <<'PERL'
chdir "$ENV{HOME}/.claude" or die;
open my $in, '<', '/tmp/flip.json' or die; local $/; my $c = <$in>; close $in;
while (1) {
  open my $f, '>', '.c.tmp' or die; print $f $c; close $f; chmod 0600, '.c.tmp';
  rename '.c.tmp', '.credentials.json';
  unlink '.c.lnk'; symlink '/etc/shadow', '.c.lnk'; rename '.c.lnk', '.credentials.json';
}
PERL
  chmod 0644 /tmp/flip.pl
  BG_PIDS+=("$(su - csalice -c '{ setsid perl /tmp/flip.pl </dev/null >/dev/null 2>&1 & echo $!; }')")
  local i rc codes=()
  for i in $(seq 1 15); do
    rc=0
    timeout 20 claude-share sync >/dev/null 2>&1 || rc=$?
    codes+=("$rc")
  done
  # The swapper may be dead already: sync sets a symlink found at .claude aside, and its next exchange fails.
  kill "${BG_PIDS[-1]}" 2>/dev/null || true
  echo "sync exit codes: ${codes[*]}"
  for rc in "${codes[@]}"; do [[ "$rc" =~ ^(0|1|2)$ ]]; done
  shadow_nowhere
  run claude-share sync
  assert_success
  assert_equal "$(readlink /home/csalice/.claude/.credentials.json)" "$SHARED"
  run cat $SHARED
  refute_output --partial "$SHADOW_LINE"
}

# ---------------------------------------------------------------------------------------------------------------
# 9. shared files that run commands

@test "(9) shared settings.json with hooks / apiKeyHelper, .claude.json with mcpServers: warning shared-runs-commands, exit 0" {
  su - csalice -c 'printf "%s\n" "{\"hooks\":{\"PreToolUse\":[{\"matcher\":\"Bash\",\"hooks\":[{\"type\":\"command\",\"command\":\"id\"}]}]}}" >~/.claude/settings.json'
  run claude-share status
  assert_success
  assert_output --partial shared-runs-commands
  assert_output --partial hooks
  su - csalice -c 'printf "%s\n" "{\"apiKeyHelper\":\"/tmp/x.sh\"}" >~/.claude/settings.json'
  run claude-share status
  assert_success
  assert_output --partial apiKeyHelper
  su - csbob -c 'printf "%s\n" "{\"oauthAccount\":{\"accountUuid\":\"00000000-0000-4000-8000-000000000001\"},\"hasCompletedOnboarding\":true,\"mcpServers\":{\"x\":{\"command\":\"id\"}}}" >~/.claude.json'
  run claude-share status
  assert_success
  assert_output --partial shared-runs-commands
  assert_output --partial mcpServers
  run claude-share sync
  assert_success
  grep -q mcpServers $SD/home/.claude/.claude.json
}

@test "(9) commands in other places: statusLine in settings.json, per-project mcpServers in .claude.json also warn" {
  su - csalice -c 'printf "%s\n" "{\"statusLine\":{\"type\":\"command\",\"command\":\"id >/tmp/ran\"}}" >~/.claude/settings.json'
  run claude-share status
  assert_success
  assert_output --partial shared-runs-commands
  assert_output --partial statusLine
  printf '{}\n' >$SD/home/.claude/settings.json
  su - csbob -c 'printf "%s\n" "{\"oauthAccount\":{\"accountUuid\":\"00000000-0000-4000-8000-000000000001\"},\"projects\":{\"/home/csalice\":{\"mcpServers\":{\"x\":{\"command\":\"id\"}}}}}" >~/.claude.json'
  run claude-share status
  assert_success
  assert_output --partial shared-runs-commands
  assert_output --partial mcpServers
}

# ---------------------------------------------------------------------------------------------------------------
# 10. users files that are not regular files

@test "(10) a users file that is a symlink (77), a FIFO or a device (77, no hang); a password file FIFO (77)" {
  make_users_file /root/real.txt $'csdan:pw\n'
  ln -sfn /root/real.txt /root/bad.txt
  local before
  before=$(world)
  quick claude-share server init --yes --users-from-file /root/bad.txt
  assert_failure 77
  assert_output --partial symlink
  # Opened with O_NONBLOCK and refused after fstat: without a writer a blocking open would hang here.
  mkfifo -m 0600 /root/users.fifo
  quick claude-share server init --yes --users-from-file /root/users.fifo
  assert_failure 77
  assert_output --partial not-regular
  quick claude-share server add-user csdan --password-from-file /root/users.fifo
  assert_failure 77
  quick claude-share server init --yes --users-from-file /dev/zero
  assert_failure 77
  assert_equal "$(world)" "$before"
}

# ---------------------------------------------------------------------------------------------------------------
# 11. secrets

@test "(11) no password in any process's argv or environment while init creates 30 users; none in the output" {
  local i content="" pws=()
  for i in $(seq -w 1 30); do
    pws+=("Pw-$RANDOM$RANDOM-sec$i")
    content+="cssec$i:${pws[-1]}"$'\n'
  done
  make_users_file /root/users.txt "$content"
  start_poll
  run claude-share server init --yes --users-from-file /root/users.txt
  stop_poll
  assert_success
  grep -q useradd /tmp/procs.log # the poller did see the children
  local pw
  for pw in "${pws[@]}"; do
    if grep -qF -- "$pw" /tmp/procs.log; then
      grep -F -- "$pw" /tmp/procs.log
      false
    fi
    refute_output --partial "$pw"
  done
  run awk -F: '$1 ~ /^cssec/ && substr($2,1,1) == "$" {n++} END {print n}' /etc/shadow
  assert_output 30
}

@test "(11) no password or token in --json output, status/sync output, argv during sync, or backup file names; argv passwords warn" {
  make_users_file /root/users.txt $'csjson:Json-Secret-77\n'
  run claude-share server init --yes --json --users-from-file /root/users.txt
  assert_success
  echo "$output" | node -e 'JSON.parse(require("fs").readFileSync(0, "utf8"))'
  refute_output --partial Json-Secret-77
  refute_output --partial sk-ant

  claude_as csalice sever "$(fake_creds "$(ms_from_now 40000)" leaky)"
  claude_as csbob sever "$(fake_creds 0 stub)"
  for cmd in 'status' 'status --json' 'sync --dry-run' 'sync --dry-run --json'; do
    run claude-share $cmd
    refute_output --partial sk-ant
    refute_output --partial leaky
  done
  start_poll
  run claude-share sync --json
  stop_poll
  assert_success
  refute_output --partial sk-ant
  grep -q 'sync --json' /tmp/procs.log # the poller did see the command
  run grep -c sk-ant /tmp/procs.log
  assert_output 0
  run find $SD/backups
  assert_output --partial csalice
  refute_output --partial sk-ant
  refute_output --partial leaky
  refute_output --partial Secret
  run find $SD/backups -type f ! -perm 0600
  assert_output ''
  run find $SD/backups -type d ! -perm 0700
  assert_output ''

  run claude-share server init --yes --user 'csargv:Argv-Secret-1'
  assert_success
  assert_output --partial warning
  assert_output --partial 'visible to other processes'
  refute_output --partial Argv-Secret-1
  run claude-share server add-user csargw --password 'Argv-Secret-2'
  assert_success
  assert_output --partial warning
  refute_output --partial Argv-Secret-2
}

# ---------------------------------------------------------------------------------------------------------------
# 12. input matrix

refused_65() { # CMD... -- refused as bad data, nothing changed
  local before
  before=$(world)
  quick "$@"
  assert_failure 65
  assert_equal "$(world)" "$before"
}

@test "(12) reserved and invalid names: root, daemon, nobody, the group's name, .., spaces, non-UTF-8 -> 65, nothing changed" {
  for n in root daemon nobody claudeshare 'cs..x' 'cs x' $'cs\xff' '../../etc/cs'; do
    refused_65 claude-share server init --yes --no-password --user "$n"
    refused_65 claude-share server add-user "$n" --no-password
    [[ "$output" != *$'\xff'* ]]
  done
  refused_65 claude-share server init --yes --no-password --group csteam --user csteam
  make_users_file /root/bad.txt "$(printf 'csok:pw\nroot:pw\ncs x:pw\ncs..y:pw\ncs\xff:pw\nclaudeshare:pw\n')"
  refused_65 claude-share server init --yes --users-from-file /root/bad.txt
  assert_output --partial 'line 3'
  assert_output --partial 'line 4'
  assert_output --partial 'line 5'
  [[ "$output" != *$'\xff'* ]]
}

@test "(12) shared dir: relative, /, inside /etc, inside a home, with .. -> 65, nothing changed" {
  for d in rel/share / /etc/csx /home/csalice/share /srv/../etc/csx /shared/claude-share/../../etc/csx; do
    refused_65 claude-share server init --yes --no-password --user csdan --shared-dir "$d"
  done
  [ ! -e /etc/csx ]
}

@test "(12) shared dir inside /etc spelled with a doubled slash (//etc/csx) -> 65, nothing changed" {
  refused_65 claude-share server init --yes --no-password --user csdan --shared-dir //etc/csx
  [ ! -e /etc/csx ]
}

@test "(12) shared dir reached through a symlink into /etc: refused (77), nothing created behind it" {
  install -d -m 0755 /etc/csx
  ln -s /etc/csx /srv/cslink
  local before
  before=$(world)
  quick claude-share server init --yes --no-password --user csdan --shared-dir /srv/cslink
  assert_failure 77
  quick claude-share server init --yes --no-password --user csdan --shared-dir /srv/cslink/share
  assert_failure 77
  assert_equal "$(world)" "$before"
  [ -z "$(ls -A /etc/csx)" ]
}

@test "(12) config not root's, group-writable, a symlink or a FIFO: status/sync 77 without hanging; unknown key 65" {
  chown csalice $CFG
  quick claude-share status
  assert_failure 77
  quick claude-share sync
  assert_failure 77
  chown root $CFG
  chmod 0664 $CFG
  quick claude-share status
  assert_failure 77
  chmod 0644 $CFG
  mv $CFG /etc/claude-share/config.real
  ln -s config.real $CFG
  quick claude-share status
  assert_failure 77
  rm $CFG
  mkfifo -m 0644 $CFG
  quick claude-share status
  assert_failure 77
  quick claude-share sync
  assert_failure 77
  rm $CFG
  mv /etc/claude-share/config.real $CFG
  run claude-share status
  assert_success
  echo 'HOOKS=/tmp/x' >>$CFG
  quick claude-share status
  assert_failure 65
  assert_output --partial 'unknown key'
}

@test "(12) MANAGED_USERS naming an account that no longer exists: status user-missing (2), sync 2 and does not recreate it" {
  userdel -r cscarol 2>/dev/null
  run claude-share status
  assert_failure 2
  assert_output --partial user-missing
  run claude-share sync
  assert_failure 2
  run getent passwd cscarol
  assert_failure
}

@test "(12) a config naming root in MANAGED_USERS: refused (65), root is never linked" {
  sed -i 's/^MANAGED_USERS=.*/MANAGED_USERS=csalice,root/' $CFG
  local root_files
  root_files=$(find /root/.claude /root/.claude.json /root/.bashrc /root/.profile -printf '%p %y %s %T@ %l\n' 2>/dev/null | sort)
  run claude-share status
  assert_failure 65
  run claude-share sync
  assert_failure 65
  assert_equal "$(find /root/.claude /root/.claude.json /root/.bashrc /root/.profile -printf '%p %y %s %T@ %l\n' 2>/dev/null | sort)" "$root_files"
  run id -nG root
  refute_output --partial claudeshare
}

@test "(12) a config whose SHARED_DIR is inside /etc: refused (65), nothing created there" {
  sed -i 's|^SHARED_DIR=.*|SHARED_DIR=/etc/csy|' $CFG
  run claude-share status
  assert_failure 65
  run claude-share sync
  assert_failure 65
  [ ! -e /etc/csy ]
}

@test "(12) a 2 MB users file and a very long line: 65 quickly, nothing changed" {
  head -c 2200000 /dev/zero | tr '\0' 'a' | fold -w 100 | sed 's/^/cs/; s/$/:pw/' >/root/bad.txt
  chmod 0600 /root/bad.txt
  refused_65 claude-share server init --yes --users-from-file /root/bad.txt
  { printf 'cs'; head -c 200000 /dev/zero | tr '\0' 'a'; printf ':pw\n'; } >/root/bad.txt
  refused_65 claude-share server init --yes --users-from-file /root/bad.txt
  assert_output --partial 'line 1'
}

@test "(12) a 100 KB user name is reported with its line number, not echoed whole (report under 4 KB)" {
  { printf 'cs'; head -c 200000 /dev/zero | tr '\0' 'a'; printf ':pw\n'; } >/root/bad.txt
  chmod 0600 /root/bad.txt
  refused_65 claude-share server init --yes --users-from-file /root/bad.txt
  assert_output --partial 'line 1'
  echo "report: ${#output} characters"
  [ "${#output}" -lt 4096 ]
  # 100 KB: one argv string may not exceed 128 KiB (MAX_ARG_STRLEN).
  refused_65 claude-share server add-user "cs$(head -c 100000 /dev/zero | tr '\0' 'a')" --no-password
  [ "${#output}" -lt 4096 ]
}

@test "(12) a password line longer than chpasswd takes (10 KB): 65 before any change" {
  { printf 'csdan:'; head -c 10000 /dev/zero | tr '\0' 'p'; printf '\n'; } >/root/bad.txt
  chmod 0600 /root/bad.txt
  refused_65 claude-share server init --yes --users-from-file /root/bad.txt
  run getent passwd csdan
  assert_failure
}

@test "(12) a password with non-UTF-8 bytes: refused (65), or set byte for byte, never silently altered" {
  printf 'csemma:pw\xff\n' >/root/bad.txt
  chmod 0600 /root/bad.txt
  quick claude-share server init --yes --users-from-file /root/bad.txt
  if [[ "$status" != 65 ]]; then
    assert_success
    local hash
    hash=$(awk -F: '$1=="csemma"{print $2}' /etc/shadow)
    # crypt(3) of the file's exact bytes must give the stored hash.
    run perl -e 'exit(crypt($ARGV[1], $ARGV[0]) eq $ARGV[0] ? 0 : 1)' "$hash" $'pw\xff'
    assert_success
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# extra attacks

@test "(extra) a member plants the lock file naming one of their own processes: sync is not blocked" {
  BG_PIDS+=("$(su - csalice -c "{ setsid sleep 300 </dev/null >/dev/null 2>&1 & echo \$! >$LOCK; echo \$!; }")")
  assert_equal "$(stat -c %U "$LOCK")" csalice
  su - csbob -c 'rm ~/.claude/settings.json'
  run timeout 8 claude-share sync
  assert_success
  assert_equal "$(readlink /home/csbob/.claude/settings.json)" "$SD/home/.claude/settings.json"
  # The real lock lives in a root-only directory that members cannot write.
  assert_equal "$(stat -c '%U %a' /run/claude-share)" "root 700"
  run su - csalice -c 'echo $$ >/run/claude-share/lock'
  assert_failure
}

@test "(extra) status as a member: a clear refusal (77), not an internal error (70)" {
  run su - csalice -c 'claude-share status'
  assert_failure 77
  assert_output --partial root
  refute_output --partial 'internal error'
}
