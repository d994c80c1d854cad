#!/usr/bin/env bats
# shellcheck disable=SC2016  # $vars in single quotes are for the inner shell
# Checks the disposable system itself before the claude-share suites rely on
# it: root, own pid namespace, real user management, pseudo-terminals,
# writable /tmp and /run, and reset_state. The last test leaves a canary user
# and file behind on purpose: run.sh (sandbox mode) fails if the host sees them.

setup() {
  load test_helper
  reset_state
}

@test "sandbox: root, inside the disposable system" {
  run id -u
  assert_success
  assert_output 0
  assert_equal "$CLAUDE_SHARE_E2E_INSIDE" 1
  assert [ -e "$CS_SANDBOX_MARKER" ]
}

@test "sandbox: /proc is the sandbox's own pid namespace" {
  # pid 1 is run.sh (sandbox init or the container's CMD), not the host's init.
  run tr '\0' ' ' </proc/1/cmdline
  assert_output --partial run.sh
}

@test "sandbox: claude-share shim is on PATH for root and login shells" {
  run command -v claude-share
  assert_success
  run grep -F "$CS_CLI" "$output"
  assert_success
  make_user csshim
  run as_user csshim 'command -v claude-share'
  assert_success
  assert_output /usr/local/bin/claude-share
  run as_user csshim "test -r '$CS_CLI'"
  assert_success
}

@test "sandbox: useradd, chpasswd, su work and reset_state undoes them" {
  make_user cssandbox 'S3cret-pw'
  run getent passwd cssandbox
  assert_success
  run as_user cssandbox 'id -un; echo "$HOME"'
  assert_success
  assert_line --index 0 cssandbox
  assert_line --index 1 /home/cssandbox
  # chpasswd stored a real hash
  run bash -c "getent shadow cssandbox | cut -d: -f2"
  assert_output --regexp '^\$[0-9a-z]+\$'
  groupadd claudeshare
  mkdir -p /etc/claude-share /shared/claude-share
  reset_state
  run getent passwd cssandbox
  assert_failure
  run getent group claudeshare
  assert_failure
  assert [ ! -e /home/cssandbox ]
  assert [ ! -e /etc/claude-share ]
  assert [ ! -e /shared/claude-share ]
}

@test "sandbox: pseudo-terminals work (expect, script)" {
  run expect -c 'spawn id -un; expect eof'
  assert_success
  assert_output --partial root
  run script -qec tty /dev/null
  assert_success
  assert_output --regexp '/dev/pts/[0-9]+'
  # su through a pty, as an interactive prompt would
  make_user cspty 'pty-pw-1'
  run expect -c 'spawn su - cspty -c {echo ok-$USER}; expect eof'
  assert_success
  assert_output --partial ok-cspty
}

@test "sandbox: /tmp, /run and /var/run are writable" {
  touch /tmp/e2e-probe /run/e2e-probe /var/run/e2e-probe2 /run/lock/e2e-probe
  rm -f /tmp/e2e-probe /run/e2e-probe /run/e2e-probe2 /run/lock/e2e-probe
}

@test "sandbox: helpers write root-only users files and well-formed credentials" {
  make_users_file /etc/claude-share/users 'csalice
csbob'
  run stat -c '%U:%G %a' /etc/claude-share/users
  assert_output 'root:root 600'
  run cat /etc/claude-share/users
  assert_line --index 1 csbob

  run bash -c "$(declare -f fake_creds); fake_creds 1700000000000 sk-ant-ort01-alice acct-1 | node -e '
    const c = JSON.parse(require(\"fs\").readFileSync(0, \"utf8\")).claudeAiOauth;
    console.log(c.accessToken, c.refreshToken, c.expiresAt, c.accountUuid)'"
  assert_success
  assert_output 'sk-ant-oat01-alice sk-ant-ort01-alice 1700000000000 acct-1'
}

@test "sandbox: leave a canary user and file (run.sh checks the host never sees them)" {
  # Not named cs*, so reset_state keeps it until the sandbox is torn down.
  id e2ecanary >/dev/null 2>&1 || useradd -M e2ecanary
  touch "$CS_REPO/.e2e-sandbox-canary"
}
