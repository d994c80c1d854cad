#!/usr/bin/env bats
# Who used what (issue 18), with the real Claude Code: `claude-share usage enable` writes the managed-settings drop-in,
# the receiver runs (`claude-share usage receive`, as its unit would), members run `claude -p` against the fake API,
# and `claude-share usage --json` must show each of them with the fake API's exact token counts (input 1, output 1 per
# request), attributed by the kernel's peer uid whatever the client claims or its member's shell says.

setup() {
  load ../../docker/e2e/test_helper
  load helpers
  CS_RESET_PATHS+=(/etc/claude-code)
  real_client_setup
  RECEIVER_PID=
}

teardown() {
  [[ -n "${RECEIVER_PID:-}" ]] && kill "$RECEIVER_PID" 2>/dev/null
  rm -rf /etc/claude-code
  real_client_teardown
}

# usage_on -- a fresh fake endpoint, a valid shared login, usage enabled and its receiver running.
usage_on() {
  reset_state && rm -rf /etc/claude-code && start_fake
  login_with "$(ms_from_now 7200)"
  run claude-share usage enable
  [[ $status -eq 0 && "$output" == *"every user of this machine"* ]] || { echo "enable: $status $output"; return 1; }
  start_usage_receiver
}

# member_p USER VERSION [ENV...] -- claude -p hi as USER, with ENV in their shell (what they set themselves).
member_p() {
  local user=$1 v=$2
  shift 2
  su - "$user" -c "$* NODE_EXTRA_CA_CERTS=$CA/ca.crt DISABLE_AUTOUPDATER=1 timeout 60 $(claude_bin "$v") -p hi" 3>&-
}

# usage_row USER FIELD -- FIELD of USER's row in `usage --json` (empty when there is no row).
usage_row() {
  claude-share usage --json | node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")); const r = d.rows.find((x) => x.user === process.argv[1]); console.log(r ? r[process.argv[2]] : "")' "$1" "$2"
}

# wait_requests USER N -- until USER has N requests in the report (the client exports when it exits, ~1 s).
wait_requests() {
  local i
  for i in $(seq 100); do [[ "$(usage_row "$1" requests)" == "$2" ]] && return 0; sleep 0.1; done
  echo "$1 has $(usage_row "$1" requests) requests, not $2"; cat /tmp/cs-usage.log; claude-share usage || true
  return 1
}

@test "two members run claude -p: usage shows each with the fake API's exact token counts, one session and one request each, attributed by uid" {
  local v u
  for v in $(versions); do
    usage_on
    run member_p csalice "$v"
    [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "csalice: $status $output"
    run member_p csbob "$v"
    [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "csbob: $status $output"
    for u in csalice csbob; do
      wait_requests $u 1 || fail_v "$u not counted"
      [[ "$(usage_row $u inputTokens) $(usage_row $u outputTokens) $(usage_row $u cacheReadTokens) $(usage_row $u sessions) $(usage_row $u relabelled)" == "1 1 0 1 0" ]] ||
        fail_v "$u: $(claude-share usage --json)"
    done
    # The rows are root's alone, and the drop-in is the only change outside it.
    [[ "$(stat -c '%U %a' /var/lib/claude-share/usage)" == "root 700" ]] || fail_v "store: $(stat -c '%U %a' /var/lib/claude-share/usage)"
    [[ "$(stat -c '%U %a' /etc/claude-code/managed-settings.d/claude-share-usage.json)" == "root 644" ]] || fail_v "drop-in mode"
    # status: the receiver is up and both members reported.
    run claude-share status --json
    [[ "$output" == *'"receiverUp": true'* && "$output" == *'"reportedLast7Days": ['*csalice*csbob* ]] || fail_v "status: $output"
    run claude-share status --prometheus /var/lib/prom/cs.prom 2>/dev/null || true
    echo "# figure: [$v] two members, one request each, counted by uid: input 1, output 1 each" >&3
    kill $RECEIVER_PID; wait $RECEIVER_PID 2>/dev/null || true; RECEIVER_PID=
  done
}

@test "a member who relabels himself is counted as himself and flagged; one who switches telemetry off in his shell is still counted" {
  local v
  for v in $(versions); do
    usage_on
    run member_p csbob "$v" OTEL_RESOURCE_ATTRIBUTES=user.name=csalice,enduser.id=csalice
    [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "csbob relabelled: $status $output"
    wait_requests csbob 1 || fail_v "the relabelled run was not counted as csbob"
    [[ "$(usage_row csbob relabelled)" -ge 1 && -z "$(usage_row csalice requests)" ]] || fail_v "relabel: $(claude-share usage --json)"
    grep -q 'labelled csalice: counted as csbob' /tmp/cs-usage.log || fail_v "no log line: $(cat /tmp/cs-usage.log)"
    # Off in his own shell (the drop-in's env wins), endpoints pointed elsewhere too.
    run member_p csalice "$v" CLAUDE_CODE_ENABLE_TELEMETRY=0 OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none \
      OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9 OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://127.0.0.1:9/v1/logs
    [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "csalice opted out: $status $output"
    wait_requests csalice 1 || fail_v "an opt-out in the shell escaped the count"
    echo "# figure: [$v] relabelled run counted as the uid's user and flagged; shell opt-out still counted" >&3
    kill $RECEIVER_PID; wait $RECEIVER_PID 2>/dev/null || true; RECEIVER_PID=
  done
}

@test "a flood from one member is bounded and counted, the store stays small, and the next member's real client still gets through" {
  local v before after
  v=$(versions | awk '{print $NF}')
  usage_on
  before=$(du -sb /var/lib/claude-share/usage | cut -f1)
  # 300 requests at once from csbob's uid, each a valid api_request with a huge token count.
  su - csbob -c 'node -e "
    const http = require(\"http\");
    const body = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: [
      { key: \"event.name\", value: { stringValue: \"api_request\" } }, { key: \"input_tokens\", value: { intValue: 999999 } } ] }] }] }] });
    let done = 0, codes = {};
    for (let i = 0; i < 300; i++) {
      const r = http.request({ host: \"127.0.0.1\", port: 931, path: \"/v1/logs\", method: \"POST\", agent: false, headers: { \"content-type\": \"application/json\" } }, (res) => {
        codes[res.statusCode] = (codes[res.statusCode] || 0) + 1; res.resume(); res.on(\"end\", () => ++done === 300 && console.log(JSON.stringify(codes)));
      });
      r.on(\"error\", () => { codes.err = (codes.err || 0) + 1; ++done === 300 && console.log(JSON.stringify(codes)); });
      r.end(body);
    }"' >/tmp/flood.out 2>&1 3>&-
  cat /tmp/flood.out
  # At most the burst (60), plus one a second while the flood lasted (a few seconds), got in; the rest were refused
  # (429) or not even accepted (more than 16 connections of one member at once).
  [[ "$(usage_row csbob requests)" -le 70 ]] || fail_v "flood stored: $(usage_row csbob requests)"
  [[ "$(claude-share usage --json)" == *'"dropped":[{"user":"csbob","count":'* ]] || fail_v "drops not counted: $(claude-share usage --json)"
  after=$(du -sb /var/lib/claude-share/usage | cut -f1)
  (( after - before < 200000 )) || fail_v "the store grew by $((after - before)) bytes"
  run member_p csalice "$v"
  [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "csalice: $status $output"
  wait_requests csalice 1 || fail_v "csalice was not counted after csbob's flood"
  run claude-share status --json
  [[ "$output" == *usage-dropped* ]] || fail_v "status does not report the drops: $output"
  echo "# figure: [$v] flood of 300 requests: $(cat /tmp/flood.out); stored $(usage_row csbob requests); store grew $((after - before)) bytes" >&3
}

@test "usage disable: the drop-in goes, the next run sends nothing, the rows stay" {
  local v
  v=$(versions | awk '{print $NF}')
  usage_on
  run member_p csalice "$v"
  wait_requests csalice 1 || fail_v "not counted"
  run claude-share usage disable
  [[ $status -eq 0 && ! -e /etc/claude-code/managed-settings.d/claude-share-usage.json ]] || fail_v "disable: $status $output"
  run member_p csalice "$v"
  [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "csalice: $status $output"
  sleep 2
  [[ "$(usage_row csalice requests)" == 1 ]] || fail_v "counted after disable: $(claude-share usage --json)"
}
