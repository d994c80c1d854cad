#!/usr/bin/env bash
# The fresh-machine suite: does the README's quick start work, verbatim, for a newcomer on a fresh Debian?
#
#   sudo npm run test:fresh                 (= bash test/fresh/run.sh: Debian 12 and Debian 13)
#   sudo bash test/fresh/run.sh bookworm    one suite (bookworm = Debian 12, trixie = Debian 13)
#
# For each suite, in a disposable copy of a freshly debootstrapped tree (test/fresh/tree.sh, cached):
#   1. the server gets its first user, as the Debian installer makes it: "newcomer", in group sudo, with a
#      password (the README: "as a user who can sudo"; CLAUDE_SHARE_FRESH_AS=root plays root instead),
#   2. the newcomer clones this repository (its committed HEAD, as CI would: not the working tree),
#   3. runs the README's first quick-start line, verbatim, on a terminal (a pty driven by expect, which types like
#      a person: the newcomer's password when sudo asks, Enter on init's defaults, two users with passwords),
#   4. checks what init made (users, group, links, config) and `claude-share status`,
#   5. runs the README's second line, verbatim, on a terminal: `sudo npm cit` (unit tests and the end-to-end
#      suites, whose own sandbox nests inside this one).
# Both lines are read from README.md at HEAD when the suite runs, so a changed quick start breaks this suite
# until the suite is updated with it.
#
# The sandbox: unshare (mount, pid, uts, ipc) + overlayfs (the cached tree read-only underneath, a tmpfs on top) +
# chroot, with its own /proc, /sys, a minimal /dev with a private devpts, tmpfs /tmp and /run. The network is the
# host's: the newcomer needs Debian's archive and the npm registry. Downloaded .debs are kept between runs in
# $CACHE/SUITE-debs (the lower layer of /var/cache/apt/archives: apt still really installs every package into the
# fresh system, it only skips the download; new ones are copied back at the end). npm's cache is NOT carried
# over: it starts empty like a newcomer's, and it must be a plain directory of the fresh system, because the e2e
# suites' own sandbox (overlay with lowerdir=/, which shows no bind mounts) runs install.sh with prefer-offline
# from root's ~/.npm.
#
# Settings (environment):
#   CLAUDE_SHARE_FRESH_CACHE=/var/cache/claude-share-fresh   trees and .debs (see tree.sh)
#   CLAUDE_SHARE_FRESH_AS=sudoer|root       who plays the newcomer (default sudoer)
#   CLAUDE_SHARE_FRESH_JOBS=1|2             suites one after the other (default) or side by side
#   CLAUDE_SHARE_FRESH_CIT=all|"SUITE..."   where README line 2 runs (default all; elsewhere a skip line)
#   CLAUDE_SHARE_FRESH_INSTALL_TIMEOUT=1500, CLAUDE_SHARE_FRESH_CIT_TIMEOUT=1800   seconds
#
# Output: one line per step ("fresh SUITE: ok|FAIL|skip|note - ..."), then "fresh: N passed, N failed".
# Logs and terminal transcripts of every step stay in a directory under /tmp (printed at the end).
# Exit: 0 when every step passed, 1 when one failed, 2 when the suite cannot run at all, 64 bad usage.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
SELF="$HERE/run.sh"
CACHE=${CLAUDE_SHARE_FRESH_CACHE:-/var/cache/claude-share-fresh}
ALL_SUITES=(bookworm trixie)
# The quick start this suite was written for (comments stripped). If the README's differs, the "README" step
# fails: the prompts answered below and the assertions may no longer fit. The README's own text is what runs.
EXPECT_LINE1='sudo ./install.sh && sudo claude-share server init'
EXPECT_LINE2='sudo npm cit'
# Inside the fresh system.
ORIGIN=/srv/claude-share-origin
REMOTE=/srv/claude-share.git
# Who plays the newcomer: a sudoer (default, as the README says) or root.
AS=${CLAUDE_SHARE_FRESH_AS:-sudoer}
NEWCOMER=newcomer
USERS=(alice bob)
# Steps that can take long: installing Node.js and npm from Debian, npm ci, the whole test suite.
INSTALL_TIMEOUT=${CLAUDE_SHARE_FRESH_INSTALL_TIMEOUT:-1500}
CIT_TIMEOUT=${CLAUDE_SHARE_FRESH_CIT_TIMEOUT:-1800}
# 2: both suites at once (faster wall time when the machine has cores to spare), 1: one after the other.
JOBS=${CLAUDE_SHARE_FRESH_JOBS:-1}
# The suites on which README line 2 (sudo npm cit: every unit and e2e test, about 90 % of a suite's time) runs:
# "all" (default), or a list such as "trixie" when CI time is short. Elsewhere it is reported as skipped.
CIT_ON=${CLAUDE_SHARE_FRESH_CIT:-all}

log() { printf 'fresh: %s\n' "$*" >&2; }
die() {
  local code=$1
  shift
  printf 'fresh: ERROR: %s\n' "$*" >&2
  exit "$code"
}
now() { date +%s; }

# Strip terminal escapes and carriage returns from a pty transcript so it reads like a log.
plain() { sed -E 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[()][A-Za-z0-9]//g; s/\r$//; s/.*\r//'; }

# The last lines of a log, indented, for a failure report.
show_tail() {
  local f=$1 n=${2:-25}
  [[ -s "$f" ]] || return 0
  printf '    | %s\n' "--- last lines of $f ---"
  plain <"$f" | grep -v '^[[:space:]]*$' | tail -n "$n" | sed 's/^/    | /'
}

###############################################################################
# Results: one line per step in $RESULTS (shared by the host and sandbox sides).
###############################################################################
record() { printf '%s\t%s\t%s\n' "$1" "$SUITE" "$2" >>"$RESULTS"; }
pass() {
  printf 'fresh %s: ok   - %s\n' "$SUITE" "$*"
  record ok "$*"
}
fail() {
  printf 'fresh %s: FAIL - %s\n' "$SUITE" "$*"
  record fail "$*"
}
# An observation about the newcomer's experience that is not a failure (not counted).
note() { printf 'fresh %s: note - %s\n' "$SUITE" "$*"; }
skip() {
  printf 'fresh %s: skip - %s\n' "$SUITE" "$*"
  record skip "$*"
}

host_fingerprint() {
  # mtime + size + hash, like docker/e2e/run.sh: a write that restored the same bytes still shows.
  local f
  for f in /etc/passwd /etc/shadow /etc/group /etc/gshadow; do
    [[ -e "$f" ]] && printf '%s %s %s\n' "$f" "$(stat -c '%Y %s' "$f")" "$(sha256sum <"$f")"
  done
  return 0
}

###############################################################################
# Sandbox side: pid 1 of the new namespaces, still looking at the host's /; it mounts the fresh system, then
# plays the newcomer in it with chroot.
###############################################################################

# Run a command line in the fresh system as root's login shell, with the environment of a root login (nothing of
# ours leaks in). stdin is /dev/null unless redirected: no terminal, as in CI.
in_tree() {
  chroot "$R" /usr/bin/env -i "${TREE_ENV[@]}" /bin/bash --login -c "$1"
}

# The newcomer's login shell, as after `ssh newcomer@server`: their uid, gid and groups set directly by chroot
# (su -c would start a new session without a controlling terminal, and sudo could not ask for the password).
# NC_SHELL is the argv prefix; the command line to run follows it.
newcomer_shell() {
  if [[ "$AS" == root ]]; then
    NC_SHELL=(chroot "$R" /usr/bin/env -i "${TREE_ENV[@]}" TERM=xterm-256color /bin/bash --login -c)
    return
  fi
  local uid gid groups
  uid=$(chroot "$R" id -u "$NEWCOMER")
  gid=$(chroot "$R" id -g "$NEWCOMER")
  groups=$(chroot "$R" id -G "$NEWCOMER" | tr ' ' ,)
  NC_SHELL=(chroot --userspec="$uid:$gid" --groups="$groups" "$R" /usr/bin/env -i
    PATH=/usr/local/bin:/usr/bin:/bin "HOME=$NC_HOME" "USER=$NEWCOMER" "LOGNAME=$NEWCOMER" SHELL=/bin/bash
    TERM=xterm-256color LANG=C.UTF-8 /bin/bash --login -c)
}
as_newcomer() { "${NC_SHELL[@]}" "$1"; }

sandbox_mounts() {
  local tree=$1 base=$2
  R="$base/root"
  mount --make-rprivate /
  # Upper and work dir of the overlay on a tmpfs: freed with the namespace, whatever happens.
  mount -t tmpfs -o mode=0755 claude-share-fresh "$base"
  mkdir -p "$R" "$base/upper" "$base/work"
  mount -t overlay claude-share-fresh-root -o "lowerdir=$tree,upperdir=$base/upper,workdir=$base/work" "$R"
  mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
  mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys" 2>/dev/null || mount --rbind /sys "$R/sys"
  # A minimal /dev, as in docker/e2e/run.sh.
  mount -t tmpfs -o mode=0755,nosuid,noexec dev "$R/dev"
  local n
  for n in null zero full random urandom tty; do
    touch "$R/dev/$n"
    mount --bind "/dev/$n" "$R/dev/$n"
  done
  mkdir -p "$R/dev/pts" "$R/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$R/dev/pts"
  ln -s pts/ptmx "$R/dev/ptmx"
  ln -s /proc/self/fd "$R/dev/fd"
  ln -s /proc/self/fd/0 "$R/dev/stdin"
  ln -s /proc/self/fd/1 "$R/dev/stdout"
  ln -s /proc/self/fd/2 "$R/dev/stderr"
  mount -t tmpfs -o mode=1777,nosuid,nodev shm "$R/dev/shm"
  # The terminal that expect (outside the chroot, like a person at a keyboard) opens must come from the same
  # devpts instance as the fresh system's /dev/pts, or sudo and tty(1) inside cannot name it. /dev/ptmx opens
  # the instance mounted on the "pts" next to it, so this private mount over /dev/pts is enough.
  mount --bind "$R/dev/pts" /dev/pts
  mount -t tmpfs -o mode=1777,nosuid,nodev tmp "$R/tmp"
  mount -t tmpfs -o mode=0755,nosuid,nodev run "$R/run"
  mkdir -m 1777 "$R/run/lock"
  # The machine's resolver may have changed since the tree was built.
  cat /etc/resolv.conf >"$R/etc/resolv.conf"
  # The .deb cache (see the header), as the lower layer of apt's archive directory: this run's downloads land in
  # the tmpfs and are copied back at the end (save_debs), so two runs at once never share apt's lock file or
  # see each other's half-downloaded files.
  mkdir -p "$CACHE/$SUITE-debs" "$base/debs-upper" "$base/debs-work"
  mount -t overlay claude-share-fresh-debs \
    -o "lowerdir=$CACHE/$SUITE-debs,upperdir=$base/debs-upper,workdir=$base/debs-work" "$R/var/cache/apt/archives"
  # The project, read-only: the newcomer clones it from there like from GitHub.
  mkdir -p "$R$ORIGIN"
  mount --bind "$REPO" "$R$ORIGIN"
  mount -o remount,bind,ro "$R$ORIGIN"
  hostname "$(cat "$R/etc/hostname")"
}

# New .debs of this run into the host's cache: complete files only (apt moves a .deb out of partial/ when it is
# verified), each under a temporary name first so that a concurrent reader never sees half a file.
save_debs() {
  local f name
  shopt -s nullglob
  for f in "$BASE/debs-upper"/*.deb; do
    name=${f##*/}
    # -f: a regular file, not an overlay whiteout (a device) left by a deletion.
    [[ -f "$f" && ! -e "$CACHE/$SUITE-debs/$name" ]] || continue
    if cp "$f" "$CACHE/$SUITE-debs/.$name.$$"; then
      mv "$CACHE/$SUITE-debs/.$name.$$" "$CACHE/$SUITE-debs/$name"
    else
      rm -f "$CACHE/$SUITE-debs/.$name.$$"
    fi
  done
  shopt -u nullglob
}

# The README's lines on a terminal. expect plays the person: it types the newcomer's password whenever sudo asks,
# and in "init" mode answers init's questions (their text is in src/commands/init.ts, promptInit). The whole
# terminal session is recorded in the transcript; expect's own report ("driver: ...") goes to stdout.
write_driver() {
  cat >"$1" <<'EOF'
# argv: the command to spawn. env: FRESH_MODE (init|plain), FRESH_TRANSCRIPT, FRESH_TIMEOUT (s until the first
# question in init mode, until the end in plain mode), FRESH_USERS; the passwords FRESH_PW (new users) and
# FRESH_SUDO_PW (the newcomer's) are read from the environment, never from argv.
log_user 0
set stty_init "rows 50 cols 200"
log_file -a $env(FRESH_TRANSCRIPT)
set sudo_pw $env(FRESH_SUDO_PW)
spawn {*}$argv
proc finish {why} {
  catch wait result
  set rc [lindex $result 3]
  puts "driver: $why; exit status $rc"
  exit $rc
}
# sudo may ask at any point (once per terminal session, 15 minutes): typed like the person would. (This action
# runs in the scope of whichever proc is waiting, hence the global ::sudo_pw.)
expect_before {
  -re {\[sudo\] password for [^\r\n:]+:} {
    if {$::sudo_pw eq ""} { puts "driver: sudo asked for a password, none to give"; exit 125 }
    send -- "$::sudo_pw\r"
    puts "driver: sudo asked for the newcomer's password: typed it"
    exp_continue
  }
}
# One question: wait for its text, then type the answer and Enter.
proc answer {prompt reply shown limit} {
  set timeout $limit
  expect {
    -ex $prompt { send -- "$reply\r"; puts "driver: answered '$prompt' with $shown" }
    eof { finish "the program ended before asking '$prompt'" }
    timeout { puts "driver: TIMEOUT after $limit s waiting for '$prompt'"; exit 124 }
  }
}
set last 300
if {$env(FRESH_MODE) eq "init"} {
  set pw $env(FRESH_PW)
  # install.sh runs first (apt-get install nodejs npm, npm ci): the first question may take minutes.
  answer "Shared directory" "" "Enter (default)" $env(FRESH_TIMEOUT)
  answer "Group" "" "Enter (default)" 120
  answer "Source user" "" "Enter (default)" 120
  answer "How many users" "" "Enter (default: 2)" 120
  set i 0
  foreach name $env(FRESH_USERS) {
    incr i
    answer "Name of user $i" $name $name 120
    answer "Password for $name" $pw "the password" 120
    answer "Repeat the password for $name" $pw "the password again" 120
  }
  # init shows its plan and asks before changing anything.
  answer "Proceed?" "y" "y" 120
} else {
  set last $env(FRESH_TIMEOUT)
}
set timeout $last
expect {
  eof { finish "the command ended" }
  timeout { puts "driver: TIMEOUT: the command did not end within $last s"; exit 124 }
}
EOF
}

# On the newcomer's terminal: drive MODE NAME TIMEOUT COMMAND-LINE. Sets DRIVE_RC; the transcript and expect's
# report go to $LOGS/$SUITE-NAME.{transcript,driver}.
drive() {
  local mode=$1 name=$2 limit=$3 line=$4
  DRIVE_RC=0
  : >"$LOGS/$SUITE-$name.transcript"
  FRESH_MODE="$mode" FRESH_PW="$USERS_PW" FRESH_SUDO_PW="$NC_PW" FRESH_USERS="${USERS[*]}" \
    FRESH_TRANSCRIPT="$LOGS/$SUITE-$name.transcript" FRESH_TIMEOUT="$limit" \
    expect -f "$LOGS/$SUITE-driver.exp" -- "${NC_SHELL[@]}" "cd $CLONE && $line" \
    </dev/null >"$LOGS/$SUITE-$name.driver" 2>&1 || DRIVE_RC=$?
  # expect always ends with a "driver: ..." verdict; without one, the driver itself broke (a harness bug, not a
  # finding about the project).
  DRIVE_BROKEN=0
  if ! grep -qE '^driver: (.*exit status|TIMEOUT|sudo asked for a password, none)' "$LOGS/$SUITE-$name.driver"; then
    DRIVE_BROKEN=1
    fail "$name: the expect driver (test/fresh/run.sh) failed: $(head -n 1 "$LOGS/$SUITE-$name.driver")"
  fi
  # Nothing typed at a password prompt may show on the terminal.
  local pw
  for pw in "$USERS_PW" "$NC_PW"; do
    if [[ -n "$pw" ]] && grep -qF -- "$pw" "$LOGS/$SUITE-$name.transcript"; then
      fail "$name: a password typed at a prompt appears on the terminal"
    fi
  done
}

step_newcomer() {
  NC_PW=''
  if [[ "$AS" == root ]]; then
    NC_HOME=/root
    CLONE=/root/claude-share
    newcomer_shell
    pass "newcomer: root (CLAUDE_SHARE_FRESH_AS=root)"
    return 0
  fi
  NC_HOME=/home/$NEWCOMER
  CLONE=$NC_HOME/claude-share
  local log="$LOGS/$SUITE-newcomer.log" rc=0
  NC_PW="Nc-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  # What the Debian installer does for the first user when root has no password: a home, bash, group sudo.
  { in_tree "useradd --create-home --shell /bin/bash --groups sudo $NEWCOMER" &&
    printf '%s:%s\n' "$NEWCOMER" "$NC_PW" | chroot "$R" /usr/sbin/chpasswd; } </dev/null >"$log" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    fail "newcomer: could not create the sudoer $NEWCOMER (exit $rc)"
    show_tail "$log"
    return 1
  fi
  newcomer_shell
  local who
  # shellcheck disable=SC2016  # expanded by the newcomer's shell
  who=$(as_newcomer 'printf "%s uid %s, groups %s" "$(id -un)" "$(id -u)" "$(id -Gn)"; sudo -n true 2>/dev/null && echo "; sudo without a password"' </dev/null 2>&1) || true
  if [[ "$who" == "$NEWCOMER uid "*sudo* && "$who" != *"without a password"* ]]; then
    pass "newcomer: $who; sudo asks for the password (typed at the terminal)"
  else
    fail "newcomer: unexpected account state: $who"
    return 1
  fi
}

step_fresh_system() {
  local out rc=0
  # shellcheck disable=SC2016  # expanded by the shell in the tree
  out=$(in_tree '. /etc/os-release; printf "%s %s\n" "$VERSION_CODENAME" "$VERSION_ID"; command -v node npm || true' 2>&1) || rc=$?
  local codename version
  read -r codename version _ <<<"$out" || true
  if [[ $rc -ne 0 ]]; then
    fail "fresh system: a root shell in the chroot failed (exit $rc): $out"
    return 1
  fi
  if [[ "$codename" != "$SUITE" ]]; then
    fail "fresh system: /etc/os-release says '$codename', expected $SUITE"
    return 1
  fi
  if [[ $(wc -l <<<"$out") -gt 1 ]]; then
    fail "fresh system: node or npm is already installed before install.sh: $(tail -n +2 <<<"$out" | tr '\n' ' ')"
    return 1
  fi
  pass "fresh system: Debian $version ($SUITE) minbase + ca-certificates, git, sudo; no node, no npm"
}

step_clone() {
  local log="$LOGS/$SUITE-clone.log" rc=0 got
  : >"$log"
  # The newcomer's "GitHub": a bare copy of root's read-only checkout that the newcomer owns, because git refuses
  # to read another user's repository ("dubious ownership"), which a clone from GitHub never meets.
  if [[ "$AS" == root ]]; then
    REMOTE=$ORIGIN
  else
    in_tree "git clone --quiet --bare file://$ORIGIN $REMOTE && chown -R $NEWCOMER: $REMOTE" </dev/null >>"$log" 2>&1 || rc=$?
  fi
  # The newcomer's commands; then pin the commit this run tests (main may move while we run).
  if [[ $rc -eq 0 ]]; then
    as_newcomer "cd && git clone file://$REMOTE claude-share && cd claude-share && git checkout --quiet --detach $SHA && git log -1 --format=%H" \
      </dev/null >>"$log" 2>&1 || rc=$?
  fi
  got=$(tail -n 1 "$log")
  if [[ $rc -ne 0 || "$got" != "$SHA" ]]; then
    fail "git clone file://$REMOTE (exit $rc, at '${got:0:12}', expected ${SHA:0:12})"
    show_tail "$log"
    return 1
  fi
  pass "git clone file://$REMOTE (a copy of this checkout's commits) into $CLONE, at ${SHA:0:12}"
}

# README line 1. Sets LINE1_INSTALL_OK / LINE1_RC for the later steps.
step_line1() {
  local transcript="$LOGS/$SUITE-line1.transcript" driver="$LOGS/$SUITE-line1.driver"
  local t0 rc secs
  t0=$(now)
  drive init line1 "$INSTALL_TIMEOUT" "$LINE1"
  rc=$DRIVE_RC
  [[ $DRIVE_BROKEN -eq 0 ]] || { LINE1_RC=$rc; sed 's/^/    | /' "$driver"; return 1; }
  secs=$(($(now) - t0))
  LINE1_RC=$rc
  local clean sudo_asked
  clean=$(plain <"$transcript")
  sudo_asked=$(grep -c '^driver: sudo asked' "$driver" || true)
  # install.sh's last words tell whether the first half of the line succeeded.
  if grep -q '^install.sh: installed ' <<<"$clean"; then
    LINE1_INSTALL_OK=1
    local versions
    # shellcheck disable=SC2016  # expanded by the shell in the tree
    versions=$(in_tree 'printf "node %s (Debian nodejs %s), npm %s" "$(node --version)" "$(dpkg-query -W -f="\${Version}" nodejs 2>/dev/null || echo "not from apt")" "$(npm --version)"' 2>&1 </dev/null || true)
    pass "README line 1, 'sudo ./install.sh': $(grep -m1 '^install.sh: installed ' <<<"$clean" | sed 's/^install.sh: //'); $versions"
  else
    LINE1_INSTALL_OK=0
    local why
    why=$(grep -E '^install.sh: error:|^  |^sudo:' <<<"$clean" | head -n 4 | tr '\n' ' ' || true)
    fail "README line 1, 'sudo ./install.sh' failed (line exit $rc after $secs s): ${why:-no error message}"
    sed 's/^/    | /' "$driver"
    show_tail "$transcript" 30
    skip "README line 1, 'sudo claude-share server init': not reached"
    return 1
  fi
  local answered
  answered=$(grep -c '^driver: answered' "$driver" || true)
  if [[ $rc -eq 0 ]]; then
    pass "README line 1, 'sudo claude-share server init' on a terminal: answered $answered questions, exit 0 (whole line $secs s; sudo asked for the password $sudo_asked time(s))"
  else
    local why
    why=$(grep -E '^(error|claude-share)|error:' <<<"$clean" | tail -n 3 | tr '\n' ' ' || true)
    fail "README line 1, 'sudo claude-share server init' exited $rc after answering $answered questions: ${why:-see below}"
    sed 's/^/    | /' "$driver"
    show_tail "$transcript" 30
    return 1
  fi
}

step_init_result() {
  local log="$LOGS/$SUITE-init-result.log" rc=0
  # What the README promises init does: group, users with passwords, links into the shared directory, the
  # umask block, the config. Each check prints a line; the first failing one ends the script.
  in_tree "set -e
    sd=/shared/claude-share
    test -f /etc/claude-share/config && echo 'config: /etc/claude-share/config'
    for u in ${USERS[*]}; do
      id -nG \"\$u\" | tr ' ' '\n' | grep -qx claudeshare && echo \"\$u: in group claudeshare\"
      test \"\$(getent shadow \"\$u\" | cut -d: -f2 | cut -c1)\" = '\$' && echo \"\$u: has a password\"
      for f in .claude/.credentials.json .claude.json .claude/settings.json .claude/settings.local.json; do
        t=\$(readlink \"/home/\$u/\$f\")
        test \"\$t\" = \"\$sd/home/\$f\" && echo \"\$u: ~/\$f -> \$t\"
      done
      grep -q 'umask 002' \"/home/\$u/.profile\" && echo \"\$u: umask block in .profile\"
    done
    stat -c '%n %U:%G %a' \"\$sd\" \"\$sd/home\" \"\$sd/backups\"
  " </dev/null >"$log" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    fail "init's result: a check failed (exit $rc)"
    show_tail "$log" 20
    return 1
  fi
  local perms
  perms=$(grep '^/shared' "$log" | tr '\n' ' ')
  pass "init's result: users ${USERS[*]} in group claudeshare with passwords, 4 links each, umask block, config; $perms"
}

step_status() {
  local log="$LOGS/$SUITE-status.log" json="$LOGS/$SUITE-status.json" rc=0 jrc=0
  in_tree 'claude-share status' </dev/null >"$log" 2>&1 || rc=$?
  in_tree 'claude-share status --json' </dev/null >"$json" 2>>"$log" || jrc=$?
  # Nobody has logged in to Claude (README step 3 skipped): the only problem is no-login, an operator problem
  # (exit 2); every link is in place. Checked on the JSON with the node that install.sh installed.
  local verdict vrc=0
  verdict=$(chroot "$R" /usr/bin/env -i "${TREE_ENV[@]}" node -e '
    const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const codes = [...new Set(j.problems.map((p) => p.code))].sort();
    const users = j.users.map((u) => u.name).sort().join(",");
    const bad = j.users.flatMap((u) => u.items.filter((i) => !["ok", "broken"].includes(i.state) || (i.state === "broken" && !i.path.endsWith(".credentials.json"))).map((i) => u.name + ":" + i.path + "=" + i.state));
    const notIn = j.users.filter((u) => !u.inGroup).map((u) => u.name);
    console.log(JSON.stringify({ schema: j.schemaVersion, codes, users, bad, notIn, login: j.login.state }));
    process.exit(j.schemaVersion === 2 && codes.join() === "no-login" && users === process.argv[1] && !bad.length && !notIn.length ? 0 : 1);
  ' "$(printf '%s\n' "${USERS[@]}" | sort | paste -sd, -)" <"$json" 2>&1) || vrc=$?
  if [[ $rc -eq 2 && $jrc -eq 2 && $vrc -eq 0 ]] && grep -q 'no-login' "$log"; then
    pass "claude-share status: exit 2, the only problem is no-login (nobody logged in to Claude yet), links and group fine: $verdict"
  else
    fail "claude-share status: exit $rc (--json: $jrc), expected 2 with only no-login: ${verdict:-no JSON}"
    show_tail "$log" 30
    return 1
  fi
}

step_line2() {
  local transcript="$LOGS/$SUITE-line2.transcript" t0 rc secs
  t0=$(now)
  # On the newcomer's terminal, as they would type it (sudo asks for the password again: a new session).
  drive plain line2 "$CIT_TIMEOUT" "$LINE2"
  rc=$DRIVE_RC
  [[ $DRIVE_BROKEN -eq 0 ]] || { sed 's/^/    | /' "$LOGS/$SUITE-line2.driver"; return 1; }
  secs=$(($(now) - t0))
  local clean e2e unit
  clean=$(plain <"$transcript")
  e2e=$(grep -E '^e2e: [0-9]+ passed' <<<"$clean" | tail -n 1 || true)
  unit=$(grep -E '^[[:space:]]*Tests[[:space:]]+[0-9]' <<<"$clean" | tail -n 1 | sed -E 's/^[[:space:]]+//; s/[[:space:]]+/ /g' || true)
  # sudo npm cit writes node_modules and dist as root into the newcomer's own clone.
  local owned=''
  if [[ "$AS" != root ]]; then
    owned=$(in_tree "find $CLONE -mindepth 1 -maxdepth 1 -user root -printf '%f '" </dev/null 2>/dev/null || true)
  fi
  [[ -z "$owned" ]] || note "after '$LINE2_SHOWN' these entries of $NEWCOMER's clone belong to root: $owned(so npm ci or npm run build without sudo in it fail with EACCES)"
  if [[ $rc -eq 0 && "$e2e" =~ ,\ 0\ failed ]]; then
    pass "README line 2, '$LINE2_SHOWN' on a terminal: exit 0 in $secs s; unit: ${unit:-?}; $e2e"
  else
    [[ $rc -eq 124 ]] && e2e="TIMEOUT after $CIT_TIMEOUT s; $e2e"
    fail "README line 2, '$LINE2_SHOWN': exit $rc after $secs s; unit: ${unit:-not reached}; ${e2e:-e2e not reached}"
    # The failing tests' names (bats: "not ok" in TAP, "✗" on a terminal; vitest: FAIL/×), then the log's end.
    grep -E '^[[:space:]]*(not ok|✗|FAIL|×)' <<<"$clean" | head -n 20 | sed 's/^/    | /' || true
    sed 's/^/    | /' "$LOGS/$SUITE-line2.driver"
    show_tail "$transcript" 40
    return 1
  fi
}

sandbox_main() {
  SUITE=$1 TREE=$2 BASE=$3 LOGS=$4 RESULTS=$5 SHA=$6 LINE1=$7 LINE2=$8
  LINE2_SHOWN=$(sed -E 's/[[:space:]]+#.*$//' <<<"$LINE2")
  local path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  TREE_ENV=("PATH=$path" HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb LANG=C.UTF-8)
  local v
  for v in CI NO_COLOR; do
    [[ -n "${!v:-}" ]] && TREE_ENV+=("$v=${!v}")
  done
  # Exit 3: stopped after a failure that is already reported (the host side does not count it again).
  if ! sandbox_mounts "$TREE" "$BASE" >"$LOGS/$SUITE-mounts.log" 2>&1; then
    fail "sandbox: unshare + overlay(tree) + chroot could not be set up"
    show_tail "$LOGS/$SUITE-mounts.log"
    exit 3
  fi
  pass "sandbox: overlay on the cached tree, own /proc /sys /dev /dev/pts /tmp /run, hostname $(hostname)"

  step_fresh_system || exit 3
  USERS_PW="Fr-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  write_driver "$LOGS/$SUITE-driver.exp"
  step_newcomer || exit 3
  step_clone || exit 3
  LINE1_INSTALL_OK=0 LINE1_RC=1
  step_line1 || true
  if [[ $LINE1_RC -eq 0 ]]; then
    step_init_result || true
    step_status || true
  else
    skip "init's result: README line 1 failed"
    skip "claude-share status: README line 1 failed"
  fi
  save_debs
  # The tests need install.sh's work only for node and npm; they still run when init failed.
  if [[ "$CIT_ON" != all && " ${CIT_ON//,/ } " != *" $SUITE "* ]]; then
    skip "README line 2, '$LINE2_SHOWN': not run on $SUITE (CLAUDE_SHARE_FRESH_CIT=$CIT_ON)"
  elif [[ $LINE1_INSTALL_OK -eq 1 ]]; then
    step_line2 || true
  else
    skip "README line 2, '$LINE2_SHOWN': no node/npm (install.sh failed)"
  fi
  save_debs
  exit 0
}

###############################################################################
# Host side.
###############################################################################

# The two lines of the README's Quick start code block, at the commit under test.
readme_lines() {
  # awk reads to the end (no early exit): with pipefail, git would otherwise die of SIGPIPE and fail the line.
  git -C "$REPO" show "$SHA:README.md" | awk '
    /^## Quick start/ { q = 1; next }
    q && /^## / { q = 0 }
    q && /^```/ { c++; next }
    q && c == 1 && NF { print }
  '
}

ensure_host_tools() {
  local missing=() c
  for c in unshare chroot flock git expect timeout; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ "${missing[*]}" == expect ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing expect on this machine (it plays the person at the terminal)"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends expect </dev/null >/dev/null 2>&1 ||
      { apt-get -o DPkg::Lock::Timeout=600 update -qq </dev/null && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends expect </dev/null >/dev/null; }
    return 0
  fi
  die 2 "missing on this machine: ${missing[*]}"
}

run_suite() {
  SUITE=$1
  local t0 tree rc=0 before after base
  t0=$(now)
  printf '\n==== fresh: %s ====\n' "$SUITE"

  local tlog="$LOGS/$SUITE-tree.log" tt0
  tt0=$(now)
  if ! tree=$(bash "$HERE/tree.sh" "$SUITE" 2>"$tlog"); then
    fail "tree: test/fresh/tree.sh $SUITE failed"
    show_tail "$tlog"
    return 0
  fi
  pass "tree: $tree ($(($(now) - tt0)) s$(grep -q '^fresh-tree: built' "$tlog" && echo ', built now' || echo ', cached'))"

  base="$LOGS/$SUITE.mnt"
  mkdir -p "$base"
  before=$(host_fingerprint)
  # Shared lock on the tree while it is our lowerdir: tree.sh does not delete a tree someone uses. Held on a file
  # descriptor of this shell (not `flock FILE unshare ...`), so that unshare is our direct child: killing it is
  # what tears the sandbox down (--kill-child), and killing a flock wrapper would not. unshare inherits the
  # descriptor, so the lock lasts as long as the sandbox even if this shell is killed.
  local pid sig lockfd
  exec {lockfd}>"$CACHE/.$SUITE.use"
  flock -s "$lockfd"
  unshare --mount --pid --uts --ipc --fork --kill-child \
    /bin/bash "$SELF" __sandbox__ "$SUITE" "$tree" "$base" "$LOGS" "$RESULTS" "$SHA" "$LINE1" "$LINE2" </dev/null &
  pid=$!
  for sig in INT:130 TERM:143 HUP:129; do
    # shellcheck disable=SC2064  # expand $pid and $base now
    trap "kill -KILL $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rmdir '$base' 2>/dev/null || true; log 'interrupted, sandbox killed'; exit ${sig#*:}" "${sig%:*}"
  done
  wait "$pid" || rc=$?
  trap - INT TERM HUP
  exec {lockfd}>&-
  rmdir "$base" 2>/dev/null || true
  [[ $rc -eq 0 || $rc -eq 3 ]] || fail "sandbox ended with status $rc (an unexpected error: see above and $LOGS)"

  # Nothing of the newcomer's system may show on the host or in the cached tree.
  after=$(host_fingerprint)
  if [[ "$before" == "$after" ]]; then
    pass "host: /etc/passwd, shadow, group, gshadow unchanged"
  else
    fail "host: /etc/passwd|shadow|group|gshadow changed during the run"
    diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed 's/^/    | /' || true
  fi
  local leaked=()
  local p
  for p in usr/local/bin/claude-share usr/local/lib/claude-share etc/claude-share shared usr/bin/node root/claude-share "home/$NEWCOMER"; do
    [[ -e "$tree/$p" || -L "$tree/$p" ]] && leaked+=("/$p")
  done
  for p in "${USERS[@]}" "$NEWCOMER"; do
    grep -q "^$p:" "$tree/etc/passwd" && leaked+=("user $p")
  done
  if [[ ${#leaked[@]} -eq 0 ]]; then
    pass "cached tree: untouched (no claude-share, node, users or shared directory in it)"
  else
    fail "cached tree: the run wrote into it: ${leaked[*]} (rebuild it: bash test/fresh/tree.sh $SUITE --rebuild)"
  fi
  printf 'fresh %s: %d s\n' "$SUITE" "$(($(now) - t0))"
}

main() {
  if [[ "${1:-}" == __sandbox__ ]]; then
    shift
    sandbox_main "$@"
  fi

  local suites=("$@") s
  [[ ${#suites[@]} -gt 0 ]] || suites=("${ALL_SUITES[@]}")
  for s in "${suites[@]}"; do
    case "$s" in
      bookworm | trixie) ;;
      -h | --help)
        sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
      *) die 64 "unknown suite '$s' (bookworm or trixie)" ;;
    esac
  done
  [[ "$JOBS" =~ ^[1-9]$ ]] || die 64 "CLAUDE_SHARE_FRESH_JOBS must be 1 to 9"
  [[ "$AS" == sudoer || "$AS" == root ]] || die 64 "CLAUDE_SHARE_FRESH_AS must be sudoer or root"
  [[ $(id -u) -eq 0 ]] || die 2 "the fresh-machine suite needs root (debootstrap, unshare, mount, chroot): sudo npm run test:fresh"
  ensure_host_tools
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
  grep -qw overlay /proc/filesystems || die 2 "the kernel has no overlayfs."
  mkdir -p "$CACHE"

  SHA=$(git -C "$REPO" rev-parse HEAD)
  LOGS=$(mktemp -d /tmp/claude-share-fresh.XXXXXX)
  RESULTS="$LOGS/results"
  : >"$RESULTS"
  local t0
  t0=$(now)
  SUITE=all
  printf 'fresh: testing commit %s (%s)\n' "${SHA:0:12}" "$(git -C "$REPO" log -1 --format=%s "$SHA")"
  if [[ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]]; then
    log "WARNING: the working tree has uncommitted changes; they are NOT tested (the newcomer clones commit ${SHA:0:12})."
  fi

  # The README's quick start, read now, run verbatim below.
  local lines
  lines=$(readme_lines)
  LINE1=$(sed -n 1p <<<"$lines")
  LINE2=$(sed -n 2p <<<"$lines")
  local shown1 shown2
  shown1=$(sed -E 's/[[:space:]]+#.*$//' <<<"$LINE1")
  shown2=$(sed -E 's/[[:space:]]+#.*$//' <<<"$LINE2")
  if [[ $(wc -l <<<"$lines") -ne 2 || -z "$LINE1" ]]; then
    fail "README: the Quick start code block should hold two command lines, found: $(tr '\n' '|' <<<"$lines")"
  elif [[ "$shown1" != "$EXPECT_LINE1" || "$shown2" != "$EXPECT_LINE2" ]]; then
    fail "README: the quick start changed ('$shown1' / '$shown2'; this suite expects '$EXPECT_LINE1' / '$EXPECT_LINE2'): update test/fresh/run.sh"
  else
    pass "README: quick start line 1 '$shown1', line 2 '$shown2'"
  fi

  if [[ -n "$LINE1" && ( "$JOBS" -le 1 || ${#suites[@]} -le 1 ) ]]; then
    for s in "${suites[@]}"; do
      run_suite "$s"
    done
  elif [[ -n "$LINE1" ]]; then
    # Suites side by side; each one's lines are printed together when it ends. A TERM to a suite's subshell
    # kills its sandbox (run_suite's trap).
    local pids=() i
    for s in "${suites[@]}"; do
      run_suite "$s" >"$LOGS/$s.out" 2>&1 &
      pids+=($!)
    done
    log "running ${suites[*]} side by side (CLAUDE_SHARE_FRESH_JOBS=$JOBS); their steps are printed as each ends"
    # shellcheck disable=SC2064  # expand the pids now
    trap "kill -TERM ${pids[*]} 2>/dev/null || true; wait; log 'interrupted, sandboxes killed'; exit 130" INT TERM HUP
    for i in "${!pids[@]}"; do
      wait "${pids[$i]}" || true
      cat "$LOGS/${suites[$i]}.out"
    done
    trap - INT TERM HUP
  fi

  local passed failed skipped
  passed=$(grep -c '^ok' "$RESULTS" || true)
  failed=$(grep -c '^fail' "$RESULTS" || true)
  skipped=$(grep -c '^skip' "$RESULTS" || true)
  printf '\nfresh: logs in %s; %d s in all\n' "$LOGS" "$(($(now) - t0))"
  if [[ $failed -gt 0 ]]; then
    printf 'fresh: failed steps:\n'
    awk -F'\t' '$1 == "fail" { printf "  %s: %s\n", $2, $3 }' "$RESULTS"
  fi
  [[ $skipped -eq 0 ]] || printf 'fresh: %d steps skipped (see the skip lines)\n' "$skipped"
  printf 'fresh: %d passed, %d failed\n' "$passed" "$failed"
  [[ $failed -eq 0 ]]
}

main "$@"
