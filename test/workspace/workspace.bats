#!/usr/bin/env bats
# Workspace mode between two hosts (issue 16), made by test/workspace/hosts.bash: the e2e sandbox is the SERVER
# (members csw1 and csw2, sshd on 10.77.0.1, FUSE, sshfs), the LAPTOP has network and UTS namespaces of its own
# (cs-laptop, 10.77.0.2; users cslap1 and cslap2, not members). Both share the sandbox's files, kept apart by the
# homes' permissions: the members cannot read /home/cslap*, so whatever reaches the laptop's files went through the
# laptop's own sftp-server.
#
# Run with: sudo npm run test:workspace (test/workspace/run.sh).

setup_file() {
  load ../../docker/e2e/test_helper
  load hosts
  CS_RESET_PATHS+=(/etc/ssh-cs)
  reset_state
  init_with_login ws 3600 csw1 csw2
  ws_hosts_up cslap1 cslap2
  # A line the member had before: it must survive every claude-share edit byte for byte.
  install -d -m 0700 -o csw1 -g csw1 /home/csw1/.ssh
  echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd0aGF0ZXZlci10aGUtbWVtYmVyLWhhZC1iZWZvcmU1 mine@elsewhere' >/home/csw1/.ssh/authorized_keys
  chown csw1:csw1 /home/csw1/.ssh/authorized_keys
  chmod 0600 /home/csw1/.ssh/authorized_keys
}

teardown_file() {
  load ../../docker/e2e/test_helper
  load hosts
  ws_hosts_down cslap1 cslap2 csw1 csw2
  reset_state
}

setup() {
  load ../../docker/e2e/test_helper
  load hosts
  LP=$(cat "$WS_LAPTOP_PID_FILE")
  SERVER_IP=$WS_SERVER_IP
}

teardown() {
  # A session a failed case left: stopped, so the next case starts clean.
  for u in cslap1 cslap2; do lap "$u" 'cs stop' >/dev/null 2>&1 || true; done
  return 0
}

# make_project USER -- ~/proj with a file, a subdir and the allow-list of named commands.
make_project() {
  lap "$1" "mkdir -p proj/sub proj/.claude-share && echo hello >proj/a.txt && echo deep >proj/sub/d.txt && cat >proj/.claude-share/commands" <<'EOF'
# name = program args (no shell unless you name one)
where = sh -c 'hostname; readlink /proc/self/ns/net; pwd; env'
fail = sh -c 'exit 7'
slow = sleep 3
EOF
}
# json_get JSON EXPR -- a value out of JSON, with node (the server's and the laptop's own).
json_get() { node -e 'const v = JSON.parse(process.argv[1]); console.log(eval("v" + process.argv[2]))' "$1" "$2"; }
# wait_for SECONDS CMD -- until CMD succeeds.
wait_for() {
  local n=$(($1 * 5))
  shift
  for _ in $(seq "$n"); do
    if eval "$*" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "timed out: $*" >&2
  return 1
}
sshfs_mounts() { awk '$3 == "fuse.sshfs" {print $2}' /proc/mounts; }

@test "client init from nothing: a key made, installed on the server restricted to the tunnel, sshfs and FUSE checked, profile saved" {
  run init_client cslap1 csw1
  assert_success
  assert_output --partial 'made the key'
  assert_output --partial "sshfs:        $(sshfs --version 2>&1 | sed -n 's/^SSHFS version //p')"
  assert_output --partial 'contain_symlinks'
  assert_output --partial 'FUSE:         /dev/fuse'
  assert_equal "$(stat -c '%U %a' /home/cslap1/.config/claude-share/profile.json)" 'cslap1 600'
  # The server: the member's old line kept as it was; ours restricted to the forced command, no forwarding, no pty.
  run cat /home/csw1/.ssh/authorized_keys
  assert_line --index 0 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd0aGF0ZXZlci10aGUtbWVtYmVyLWhhZC1iZWZvcmU1 mine@elsewhere'
  assert_line --index 1 --regexp '^restrict,command="/usr/local/bin/claude-share tunnel ssh-command --key init --tag cslap1\.cs-laptop\.[0-9a-f]{8}" ssh-ed25519 AAAA[A-Za-z0-9+/]+ claude-share:init:cslap1\.cs-laptop\.[0-9a-f]{8}$'
  assert_equal "${#lines[@]}" 2
  assert_equal "$(stat -c '%U %a' /home/csw1/.ssh/authorized_keys)" 'csw1 600'
  # That key runs nothing else: not a shell command, not a tunnel verb of a session key.
  run lap cslap1 "ssh -o BatchMode=yes -o UserKnownHostsFile=.config/claude-share/known_hosts -i .config/claude-share/id_ed25519 csw1@$SERVER_IP id"
  assert_failure 77
  assert_output --partial 'runs only claude-share tunnel verbs'
  refute_output --partial 'uid='
  run lap cslap1 "ssh -o BatchMode=yes -o UserKnownHostsFile=.config/claude-share/known_hosts -i .config/claude-share/id_ed25519 csw1@$SERVER_IP tunnel prepare proj-20261205-000000"
  assert_failure 77
  # Again: the key is reused, the line replaced (not doubled).
  run init_client cslap1 csw1
  assert_success
  assert_output --partial 'reusing the key'
  assert_equal "$(grep -c 'claude-share:init:' /home/csw1/.ssh/authorized_keys)" 1
  run lap cslap1 'claude-share client status --json'
  assert_success
  assert_equal "$(json_get "$output" .profile.server.sshfs.containSymlinks)" true
}

@test "client init refuses bad input before any change, naming the fix" {
  for bad in 'nohost' 'csw1@-oProxyCommand=x' 'CSW1@host' 'csw1@host:99999'; do
    run lap cslap2 "claude-share client init '$bad'"
    assert_failure 64
    assert_output --partial 'fix:'
  done
  run lap cslap2 'test -e .config/claude-share'
  assert_failure
  run lap cslap2 'cd /tmp && cs live --no-claude'
  assert_failure 64
  assert_output --partial 'client init USER@HOST first'
}

@test "cs live: the project is mounted on the server; files cross both ways; a named command runs on the laptop and its exit code comes back" {
  init_client cslap1 csw1
  make_project cslap1
  run lap cslap1 'cd proj && cs live --no-claude'
  assert_success
  assert_output --regexp "claude-share live: csw1@$SERVER_IP \\(cs-server\\), session proj-[0-9]{8}-[0-9]{6}"
  assert_output --regexp '/home/csw1/\.claude-share/mounts/proj-[0-9]{8}-[0-9]{6}  <=  /home/cslap1/proj'
  assert_output --partial 'commands run on this machine: where, fail, slow'
  assert_output --partial 'stop with: cs stop'
  main=$(lap cslap1 'cs where')
  [[ $main == /home/csw1/.claude-share/mounts/proj-* ]]
  sshfs_mounts | grep -qxF "$main"
  # laptop -> server
  assert_equal "$(srv csw1 "cat $main/a.txt $main/sub/d.txt")" "hello
deep"
  # server -> laptop: written by the laptop user's own sftp-server
  srv csw1 "echo from-server >$main/b.txt"
  assert_equal "$(cat /home/cslap1/proj/b.txt)" from-server
  assert_equal "$(stat -c %U /home/cslap1/proj/b.txt)" cslap1
  # and a file made on the laptop afterwards shows on the server
  lap cslap1 'echo from-laptop >proj/c.txt'
  wait_for 10 "[[ \$(su - csw1 -c 'cat $main/c.txt') == from-laptop ]]"
  # A named command runs ON THE LAPTOP: its hostname, its network namespace, the laptop's project directory.
  run srv csw1 "cd $main/sub && cs run where"
  assert_success
  assert_line --index 0 cs-laptop
  assert_line --index 1 "$(readlink /proc/"$LP"/ns/net)"
  refute_line --index 1 "$(readlink /proc/self/ns/net)"
  assert_line --index 2 /home/cslap1/proj
  assert_line 'CLAUDE_SHARE_SESSION='"${main##*/}"
  refute_output --partial SSH_
  run srv csw1 "cd $main && cs run fail"
  assert_failure 7
  # Off the list: refused with the list and the fix, nothing runs.
  run srv csw1 "cd $main && cs run nope"
  assert_failure 77
  assert_output --partial '"nope" is not on this project'"'"'s list of commands (where, fail, slow)'
  # At most 4 at once on the laptop: a fifth is refused, the four run.
  local pids=() i
  for i in 1 2 3 4; do
    (srv csw1 "cd $main && timeout 20 cs run slow" >"$BATS_TEST_TMPDIR/slow.$i" 2>&1; echo "exit $?" >>"$BATS_TEST_TMPDIR/slow.$i") &
    pids+=($!)
  done
  sleep 1
  run srv csw1 "cd $main && cs run slow"
  assert_failure 77
  assert_output --partial 'already running'
  for i in "${pids[@]}"; do wait "$i"; done
  for i in 1 2 3 4; do
    run cat "$BATS_TEST_TMPDIR/slow.$i"
    assert_output 'exit 0'
  done
  run srv csw1 'cd /tmp && cs run where'
  assert_failure 64
  assert_output --partial 'not inside a live session'
}

@test "the mount cannot reach outside the project on the laptop: escaping links refused, the allow-list read-only" {
  init_client cslap1 csw1
  make_project cslap1
  lap cslap1 'cd proj && cs live --no-claude'
  main=$(lap cslap1 'cs where')
  for target in /home/cslap1/.ssh ../../../etc ../..; do
    run srv csw1 "ln -s $target $main/evil"
    assert_failure
    [[ ! -L /home/cslap1/proj/evil ]]
  done
  run srv csw1 "ln -s sub/d.txt $main/ok && cat $main/ok"
  assert_success
  assert_output deep
  before=$(sha256sum </home/cslap1/proj/.claude-share/commands)
  run srv csw1 "echo 'pwn = touch /tmp/pwned' >>$main/.claude-share/commands"
  assert_failure
  run srv csw1 "rm $main/.claude-share/commands"
  assert_failure
  run srv csw1 "mv $main/.claude-share $main/moved"
  assert_failure
  assert_equal "$(sha256sum </home/cslap1/proj/.claude-share/commands)" "$before"
  # git on the laptop never runs what the server wrote: .git's config and hooks are read-only, no new .git.
  lap cslap1 'cd proj && git init -q'
  before=$(sha256sum </home/cslap1/proj/.git/config)
  run srv csw1 "printf '[core]\\n\\tfsmonitor = touch /tmp/pwned\\n' >>$main/.git/config"
  assert_failure
  run srv csw1 "echo 'touch /tmp/pwned' >$main/.git/hooks/post-checkout"
  assert_failure
  run srv csw1 "mkdir $main/sub/.git"
  assert_failure
  run srv csw1 "echo 'gitdir: ../evil' >$main/sub/.git"
  assert_failure
  assert_equal "$(sha256sum </home/cslap1/proj/.git/config)" "$before"
  [[ ! -e /home/cslap1/proj/.git/hooks/post-checkout && ! -e /home/cslap1/proj/sub/.git ]]
  run srv csw1 "echo ok >$main/.git/objects/probe && echo 0123 >$main/.git/refs/heads/probe"
  assert_success
  # setuid bits do not reach the laptop
  srv csw1 "echo x >$main/tool && chmod 4755 $main/tool"
  assert_equal "$(stat -c %a /home/cslap1/proj/tool)" 755
  # A link the laptop's owner made that leads out is not shown on the server (sshfs contain_symlinks).
  lap cslap1 'ln -s /etc/hostname proj/outlink'
  run srv csw1 "cat $main/outlink"
  assert_failure
  run lap cslap1 'grep -c refused .local/state/claude-share/*/serve.log'
  assert_success
  [[ $output -ge 3 ]]
}

@test "the laptop's own ssh configuration cannot widen the connection; too-wide or overlapping directories are refused" {
  init_client cslap1 csw1
  make_project cslap1
  # A RemoteForward for every host in the member's ~/.ssh/config: the session key may forward, so only the
  # connection's own options keep it from opening a port on the server.
  lap cslap1 "install -d -m 0700 .ssh && printf 'Host *\\n  RemoteForward $SERVER_IP:7777 127.0.0.1:22\\n  ForwardAgent yes\\n' >.ssh/config && chmod 0600 .ssh/config"
  run lap cslap1 'cd proj && cs live --no-claude'
  assert_success
  run ss -ltnH "sport = :7777"
  assert_output ''
  lap cslap1 'cs stop && rm .ssh/config'
  for d in . / ..; do
    run lap cslap1 "cs add $d"
    assert_failure 64
    assert_output --partial 'cannot be attached'
  done
  lap cslap1 'mkdir -p lib/inner && cs add lib'
  run lap cslap1 'cs add lib/inner'
  assert_failure 64
  assert_output --partial 'overlaps /home/cslap1/lib'
  run lap cslap1 'cd lib && cs live --no-claude'
  assert_failure 64
  assert_output --partial 'overlaps this project'
  run lap cslap1 'cd / && cs live --no-claude'
  assert_failure 64
  lap cslap1 'cs remove lib'
  run sshfs_mounts
  assert_output ''
}

@test "cs add, list, remove, where, status --json, stop: extra directories mounted under extras/<session>; stop leaves nothing behind" {
  init_client cslap1 csw1
  make_project cslap1
  lap cslap1 'mkdir -p lib && echo L >lib/l.txt'
  run lap cslap1 'cs add lib && cs add lib && cs list'
  assert_success
  assert_output --partial 'attached: /home/cslap1/lib'
  assert_output --partial 'already attached: /home/cslap1/lib'
  assert_line $'1-lib\t/home/cslap1/lib'
  run lap cslap1 'cs add /nonexistent'
  assert_failure 64
  run lap cslap1 'cd proj && cs live --no-claude'
  assert_success
  run lap cslap1 'cs where'
  assert_success
  assert_equal "${#lines[@]}" 2
  main=${lines[0]}
  extra=${lines[1]}
  [[ $extra == /home/csw1/.claude-share/extras/${main##*/}/1-lib ]]
  assert_equal "$(srv csw1 "cat $extra/l.txt")" L
  run lap cslap1 'cs status --json'
  assert_success
  assert_equal "$(json_get "$output" .session.phase)" live
  assert_equal "$(json_get "$output" .session.main)" "$main"
  assert_equal "$(json_get "$output" '.session.extras[0].local')" /home/cslap1/lib
  assert_equal "$(json_get "$output" .session.sshfs.version)" "$(sshfs --version 2>&1 | sed -n 's/^SSHFS version //p')"
  run lap cslap1 'cs remove lib && cs list'
  assert_success
  assert_output --partial 'no extra directories'
  # The server knows the session's key while it lives...
  assert_equal "$(grep -c "claude-share:session:${main##*/}:" /home/csw1/.ssh/authorized_keys)" 1
  run lap cslap1 'cs stop'
  assert_success
  assert_output --partial "stopped ${main##*/}"
  # ...and after stop: no mount, no process on either side, no session key, no mount point; the init key stays.
  run sshfs_mounts
  assert_output ''
  run pgrep -u cslap1 -a .
  assert_output ''
  run pgrep -u csw1 -a .
  assert_output ''
  assert_equal "$(grep -c 'claude-share:session:' /home/csw1/.ssh/authorized_keys)" 0
  assert_equal "$(grep -c 'claude-share:init:' /home/csw1/.ssh/authorized_keys)" 1
  [[ ! -e $main && ! -e /home/csw1/.claude-share/extras/${main##*/} ]]
  run lap cslap1 'ls .local/state/claude-share'
  assert_output ''
  # The laptop's files are all still there.
  assert_equal "$(cat /home/cslap1/proj/a.txt /home/cslap1/lib/l.txt)" "hello
L"
}

@test "the link drops (ip link set down, then up): the session reconnects at the same path and serves again" {
  init_client cslap1 csw1
  make_project cslap1
  lap cslap1 'cd proj && cs live --no-claude'
  main=$(lap cslap1 'cs where')
  # A program that keeps its working directory as a path, as Claude does, started before the link drops.
  rm -f /tmp/cs-go /tmp/cs-in /tmp/cs-after-cwd
  (srv csw1 "cd $main && touch /tmp/cs-in && while [ ! -e /tmp/cs-go ]; do sleep 0.2; done; cat \"\$PWD/a.txt\" >/tmp/cs-after-cwd 2>&1" &)
  wait_for 20 '[[ -e /tmp/cs-in ]]'
  ip link set csws down
  wait_for 30 "[[ \$(nsenter -t $LP -n -u -- su - cslap1 -c 'cs status --json' | node -pe 'JSON.parse(require(\"fs\").readFileSync(0)).session.phase') == reconnecting ]]"
  ip link set csws up
  wait_for 90 "[[ \$(nsenter -t $LP -n -u -- su - cslap1 -c 'cs status --json' | node -pe 'JSON.parse(require(\"fs\").readFileSync(0)).session.phase') == live ]]"
  run lap cslap1 'cs status --json'
  [[ $(json_get "$output" .session.reconnects) -ge 1 ]]
  assert_equal "$(lap cslap1 'cs where')" "$main"
  assert_equal "$(sshfs_mounts | grep -cxF "$main")" 1
  assert_equal "$(srv csw1 "cat $main/a.txt")" hello
  srv csw1 "echo after >$main/after.txt"
  assert_equal "$(cat /home/cslap1/proj/after.txt)" after
  run srv csw1 "cd $main && cs run fail"
  assert_failure 7
  touch /tmp/cs-go
  wait_for 10 '[[ -s /tmp/cs-after-cwd ]]'
  assert_equal "$(cat /tmp/cs-after-cwd)" hello
}

@test "two members live at once: each sees their own project, nobody else's mount" {
  init_client cslap1 csw1
  init_client cslap2 csw2
  make_project cslap1
  make_project cslap2
  lap cslap2 'echo two >proj/a.txt'
  lap cslap1 'cd proj && cs live --no-claude'
  lap cslap2 'cd proj && cs live --no-claude'
  m1=$(lap cslap1 'cs where')
  m2=$(lap cslap2 'cs where')
  assert_equal "$(srv csw1 "cat $m1/a.txt")" hello
  assert_equal "$(srv csw2 "cat $m2/a.txt")" two
  run srv csw2 "ls $m1"
  assert_failure
  run srv csw1 "cat $m2/a.txt"
  assert_failure
  # Not even root enters a member's FUSE mount (no allow_other).
  run ls "$m1"
  assert_failure
  run srv csw2 "cd $m2 && cs run where"
  assert_line --index 2 /home/cslap2/proj
}

@test "cs live starts the remote claude in the mount (the real Claude Code from npm), or says clearly that it is missing" {
  init_client cslap1 csw1
  make_project cslap1
  run lap cslap1 'cd proj && cs live'
  assert_failure 2
  assert_output --partial 'Claude Code is not installed for csw1 on cs-server'
  assert_output --partial 'fix: install it on the server'
  # A stand-in first, to see where and with what it starts...
  install -d -o csw1 -g csw1 /home/csw1/.local/bin
  printf '#!/bin/sh\necho "cwd=$(pwd) args=$*"\n' >/home/csw1/.local/bin/claude
  chmod 0755 /home/csw1/.local/bin/claude
  run lap cslap1 'cd proj && cs live -- -p "hello there"'
  assert_success
  assert_output --regexp 'cwd=/home/csw1/\.claude-share/mounts/proj-[0-9]{8}-[0-9]{6} args=-p hello there'
  # ...then the real one.
  local real=$CLAUDE_SHARE_REAL_CLIENT_CACHE/2.1.330/node_modules/@anthropic-ai/claude-code-linux-x64/claude
  [[ -x $real ]]
  ln -sf "$real" /home/csw1/.local/bin/claude
  run lap cslap1 'cd proj && cs live -- --version'
  assert_success
  assert_output --partial '2.1.330 (Claude Code)'
  rm -rf /home/csw1/.local/bin
}

@test "tunnel status, umount and mount: the low-level steps, for debugging" {
  init_client cslap1 csw1
  make_project cslap1
  lap cslap1 'cd proj && cs live --no-claude'
  main=$(lap cslap1 'cs where')
  s=${main##*/}
  run lap cslap1 'claude-share tunnel status'
  assert_success
  assert_line "$s"$'\tmounted\t'"$main"
  run lap cslap1 'claude-share tunnel status --json'
  assert_equal "$(json_get "$output" '.sessions[0].main.mounted')" true
  # umount from the laptop, behind the supervisor's back: the server unmounts and drops the session's key
  run lap cslap1 "claude-share tunnel umount $s"
  assert_success
  assert_output --partial '"keysRemoved":1'
  run sshfs_mounts
  refute_output --partial "$main"
  assert_equal "$(grep -c 'claude-share:session:' /home/csw1/.ssh/authorized_keys)" 0
  run lap cslap1 "claude-share tunnel umount ../$s"
  assert_failure 64
  assert_output --partial 'is not a session name'
  lap cslap1 'cs stop' >/dev/null
  # mount: the directory mounted, no claude; cs stop ends it and leaves nothing
  run lap cslap1 'cd proj && claude-share tunnel mount'
  assert_success
  assert_output --partial 'mounted; claude-share tunnel umount SESSION (or cs stop) ends it'
  sshfs_mounts | grep -q "/home/csw1/.claude-share/mounts/proj-"
  run lap cslap1 'cs stop'
  assert_success
  run sshfs_mounts
  assert_output ''
  run pgrep -u cslap1 -a .
  assert_output ''
}

@test "client uninstall removes exactly what claude-share installed on the server, and the local profile" {
  init_client cslap1 csw1
  make_project cslap1
  lap cslap1 'cd proj && cs live --no-claude'
  run lap cslap1 'claude-share client uninstall'
  assert_success
  run cat /home/csw1/.ssh/authorized_keys
  assert_output 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd0aGF0ZXZlci10aGUtbWVtYmVyLWhhZC1iZWZvcmU1 mine@elsewhere'
  run sshfs_mounts
  assert_output ''
  run lap cslap1 'ls -A .config/claude-share .local/state/claude-share'
  assert_failure
}
