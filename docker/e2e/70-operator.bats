#!/usr/bin/env bats
# What an admin meets at the terminal and in scripts: closed pipes, monitoring paths that do not exist yet.

SD=/shared/claude-share

setup() {
  load test_helper
  reset_state
  rm -rf /var/lib/prometheus
  init_with_login ops 3600 csalice csbob
}

# Runs ARGS with stdout a pipe whose reader is already gone (what `| head` does once it has its line), so the very
# first write gets EPIPE; prints "EXIT STDERR".
run_into_closed_pipe() {
  python3 - "$@" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)
os.close(w)
print(p.returncode, p.stderr.decode(errors="replace").strip().replace("\n", " | "))
PY
}

@test "every command survives a closed stdout (status | head): no stack trace, its own exit code, a sync still finishes" {
  run run_into_closed_pipe claude-share status
  assert_success
  assert_output '0 '
  run run_into_closed_pipe claude-share status --json
  assert_output '0 '
  run run_into_closed_pipe claude-share --help
  assert_output '0 '
  # A sync whose reader went away still repairs everything.
  su - csalice -c 'rm ~/.claude/settings.json'
  run run_into_closed_pipe claude-share sync
  assert_output --regexp '^0 '
  refute_output --partial 'EPIPE'
  [ -L /home/csalice/.claude/settings.json ]
  run claude-share status
  assert_success
}

@test "status --prometheus into node-exporter's directory when it is not installed: 64, the fix named, nothing written" {
  run claude-share status --quiet --prometheus /var/lib/prometheus/node-exporter/claude-share.prom
  assert_failure 64
  assert_output --partial 'the directory /var/lib/prometheus/node-exporter does not exist'
  assert_output --partial 'mkdir -p /var/lib/prometheus/node-exporter'
  refute_output --partial 'internal error'
  [ ! -e /var/lib/prometheus ]
  mkdir -p /var/lib/prometheus/node-exporter
  run claude-share status --quiet --prometheus /var/lib/prometheus/node-exporter/claude-share.prom
  assert_success
  grep -qx 'claude_share_healthy 1' /var/lib/prometheus/node-exporter/claude-share.prom
  grep -qx 'claude_share_problems{code="no-login",severity="operator"} 0' /var/lib/prometheus/node-exporter/claude-share.prom
}
