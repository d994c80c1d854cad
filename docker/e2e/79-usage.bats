#!/usr/bin/env bats
# Usage telemetry (claude-share usage) with real accounts and the real kernel: the receiver attributes each request to
# the uid that owns its connection (/proc/net/tcp), whatever the body says. Members post what Claude Code 2.1.330 sent
# (test/fixtures/otlp); the real client itself is in test/real-client/usage.bats.

FIXTURE=$BATS_TEST_DIRNAME/../../test/fixtures/otlp/2.1.330-logs.json

setup() {
  load test_helper
  CS_RESET_PATHS+=(/etc/claude-code /var/lib/claude-share/usage)
  reset_state
  rm -rf /etc/claude-code /var/lib/claude-share/usage
  init_with_login_no_password us 3600 csalice csbob
  cp "$FIXTURE" /tmp/otlp-logs.json && chmod 0644 /tmp/otlp-logs.json
  RECEIVER_PID=
}

teardown() {
  [[ -n "${RECEIVER_PID:-}" ]] && kill "$RECEIVER_PID" 2>/dev/null
  rm -rf /etc/claude-code
  return 0
}

# post_as USER [CONTENT-TYPE] -- USER's process posts the fixture to the receiver; prints the HTTP status.
post_as() {
  su - "$1" -c "node -e '
    const b = require(\"fs\").readFileSync(\"/tmp/otlp-logs.json\");
    const r = require(\"http\").request({ host: \"127.0.0.1\", port: 931, path: \"/v1/logs\", method: \"POST\", headers: { \"content-type\": \"${2:-application/json}\" } },
      (res) => { console.log(res.statusCode); res.resume(); });
    r.on(\"error\", (e) => console.log(e.code));
    r.end(b);'"
}

@test "enable writes the drop-in for every user; the receiver counts each member as the uid of its connection, never as the label in the body" {
  run claude-share usage enable
  assert_success
  assert_output --partial 'every user of this machine'
  assert_equal "$(stat -c '%U:%G %a' /etc/claude-code/managed-settings.d/claude-share-usage.json)" 'root:root 644'
  assert_equal "$(stat -c '%U %a' /var/lib/claude-share/usage)" 'root 700'
  start_usage_receiver
  # Listening on 127.0.0.1:931 only (the kernel's table: state 0A is LISTEN; 03A3 is 931).
  run awk '$4 == "0A" && $2 ~ /:03A3$/ { print $2 }' /proc/net/tcp /proc/net/tcp6
  assert_output '0100007F:03A3'
  assert_equal "$(post_as csalice)" 200
  assert_equal "$(post_as csbob)" 200
  assert_equal "$(post_as csbob)" 200
  run claude-share usage --json
  assert_success
  run node -e 'const d = JSON.parse(process.argv[1]); console.log(d.rows.map((r) => `${r.user}:${r.requests}:${r.inputTokens}:${r.relabelled}`).join(" "))' "$output"
  # The fixture's client claimed user.name=csbob: csalice's row is hers, flagged; csbob's claim is his own name.
  assert_output 'csalice:1:1:1 csbob:2:2:0'
  assert_equal "$(stat -c '%U %a' /var/lib/claude-share/usage/$(date -u +%Y-%m).jsonl)" 'root 600'
  run su - csalice -c 'cat /var/lib/claude-share/usage/*.jsonl'
  assert_failure
  run claude-share usage
  assert_success
  assert_output --partial 'csalice'
  assert_output --partial 'RELABELLED'
}

@test "protobuf is refused with 415 and a log line naming the fix; status says the receiver is up, and down (exit 1) when it stops" {
  claude-share usage enable >/dev/null
  start_usage_receiver
  assert_equal "$(post_as csalice application/x-protobuf)" 415
  run cat /tmp/cs-usage.log
  assert_output --partial 'OTEL_EXPORTER_OTLP_PROTOCOL=http/json'
  run claude-share status
  assert_success
  assert_output --partial 'usage: telemetry enabled, receiver up'
  kill "$RECEIVER_PID"; wait "$RECEIVER_PID" 2>/dev/null || true; RECEIVER_PID=
  run claude-share status
  assert_failure 1
  assert_output --partial '[usage-receiver-down]'
}

@test "a second receiver on a port in use is refused with the fix; bad flags change nothing; uninstall removes the drop-in and keeps the rows" {
  claude-share usage enable >/dev/null
  start_usage_receiver
  run claude-share usage receive
  assert_failure 2
  assert_output --partial 'usage enable --port'
  local before
  before=$(etc_state)
  run claude-share usage enable --port 70000
  assert_failure 64
  run claude-share usage --since yesterday
  assert_failure 64
  assert_output --partial '12h, 30d, 2w'
  assert_equal "$(etc_state)" "$before"
  post_as csalice >/dev/null
  run claude-share server uninstall --yes
  assert_success
  [[ ! -e /etc/claude-code/managed-settings.d/claude-share-usage.json ]]
  ls /var/lib/claude-share/usage/*.jsonl
}
