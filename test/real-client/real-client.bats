#!/usr/bin/env bats
# Real Claude Code, run as members through claude-share's links, against fake-anthropic.mjs (run.sh sets it up; see
# ../shared/claude-code-facts.md for what each version does). Every case runs for every version in
# CLAUDE_SHARE_REAL_CLIENT_VERSIONS. The fake endpoint rotates refresh tokens and answers a used one with
# invalid_grant; its log is how the suite proves that no rotated token was ever presented again after a heal.

setup() {
  load ../../docker/e2e/test_helper
  load helpers
  real_client_setup
  WATCH_PID=
}

teardown() {
  [[ -n "${WATCH_PID:-}" ]] && kill "$WATCH_PID" 2>/dev/null
  real_client_teardown
}

@test "the login is read through the link: claude auth status is logged in for every member, and nothing is refreshed" {
  local v u
  for v in $(versions); do
    reset_state && start_fake
    login_with "$(ms_from_now 7200)"
    for u in csalice csbob; do
      run as_member $u "$v" auth status
      [[ $status -eq 0 && "$output" == *'"loggedIn": true'* ]] || fail_v "$u: auth status $status: $output"
    done
    [[ -z "$(issued)" ]] || fail_v "a valid login was refreshed"
  done
}

@test "doctor with the real client: it runs claude as each member, who is logged in, names the version and how it writes the login; a shared file that lost group access shows every member logged out (exit 2)" {
  local v bin mode
  for v in $(versions); do
    reset_state && start_fake
    login_with "$(ms_from_now 7200)"
    bin=$CACHE/$v/node_modules/@anthropic-ai/claude-code-linux-x64/claude
    [[ -x $bin ]] || bin=$CACHE/$v/node_modules/@anthropic-ai/claude-code/cli.js
    mode=severs
    # Before 2.1.118 the client writes through the link (claude-code-facts.md).
    [[ $(printf '%s\n' "$v" 2.1.118 | sort -V | head -1) == 2.1.118 ]] || mode=in-place
    NODE_EXTRA_CA_CERTS=$CA/ca.crt run claude-share doctor --all --claude "$bin" --json
    [[ $status -eq 0 ]] || fail_v "doctor exit $status: $output"
    run node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(d.claude.version, d.claude.writeMode, d.checks.map((c) => `${c.user}:${c.loggedIn}`).join(" "))' <<<"$output"
    [[ "$output" == "$v $mode csalice:true csbob:true" ]] || fail_v "doctor said: $output"
    chmod 0600 $SHARED
    NODE_EXTRA_CA_CERTS=$CA/ca.crt run claude-share doctor --all --claude "$bin"
    [[ $status -eq 2 && "$output" == *"[member-logged-out] claude auth status, run as csalice, says not logged in although the shared login is usable"* ]] || fail_v "doctor after chmod 0600, exit $status: $output"
    [[ -z "$(issued)" ]] || fail_v "doctor made a member refresh"
  done
}

@test "claude-share login --run with the real client: claude auth login as a member on a terminal of its own, the code pasted, the new login shared and relinked" {
  local v bin
  for v in $(versions); do
    reset_state && start_fake
    login_with "$(ms_from_now 7200)"
    bin=$CACHE/$v/node_modules/@anthropic-ai/claude-code-linux-x64/claude
    [[ -x $bin ]] || bin=$CACHE/$v/node_modules/@anthropic-ai/claude-code/cli.js
    # The link to open carries the sign-in's state (state=…; 2.1.330's short link authorize?z-STATE); the code pasted
    # back is code#state.
    NODE_EXTRA_CA_CERTS=$CA/ca.crt BIN=$bin HELPERS=$BATS_TEST_DIRNAME/callback.bash run expect -c '
      set timeout 60
      log_user 1
      spawn claude-share login --as csalice --run --claude $env(BIN)
      set state none
      expect {
        -re {(?:state=|authorize\?z-)([A-Za-z0-9_-]{20,})} { set state $expect_out(1,string) }
        "Paste code here" {}
        timeout { puts "NO-LINK"; exit 3 }
      }
      # 2.1.330 asks "Paste code here if prompted >"; 2.1.112 only waits for the browser to come back to its local
      # callback, which the suite then does in the browser'"'"'s place (callback USER STATE).
      set timeout 5
      expect {
        "Paste code here" { set timeout 60; send "fake-code[expr {$state eq "none" ? "" : "#$state"}]\r" }
        timeout { set timeout 60; exec bash -c "source $env(HELPERS); callback csalice $state" }
      }
      expect {
        eof {}
        timeout { puts "NO-EOF"; exit 4 }
      }
      catch wait r
      puts "EXIT=[lindex $r 3]"
    '
    [[ "$output" == *"EXIT=0"* && "$output" == *"new login is the shared one"* ]] || fail_v "login --run: $output"
    grep -q '"grant":"authorization_code"' $FAKE/log.jsonl || fail_v "no sign-in reached the fake endpoint"
    [[ "$(shared_refresh)" == "$(issued)" ]] || fail_v "the shared copy is not the new login: $(shared_refresh) vs $(issued)"
    linked csalice || fail_v "csalice is not relinked"
    run as_member csbob "$v" auth status
    [[ $status -eq 0 ]] || fail_v "csbob is not logged in with the new login: $output"
  done
}

@test "token mode with the real client: a member's agent with no credentials file gets the long-lived token from its login shell and runs claude -p; nothing is refreshed, nothing written where a login would go" {
  local v setup out
  setup=sk-ant-oat01-setup-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  for v in $(versions); do
    reset_state && start_fake
    # An expired shared login: had the agent used the linked credentials, it would have had to refresh.
    login_with "$(ms_from_now -3600)"
    # The fake knows the setup-token as an access token of the account (setup-token's tokens never refresh).
    fake_knows_access "$setup"
    printf '%s\n' "$setup" | claude-share server token set >/dev/null || fail_v "token set"
    # The agent: a config dir of its own with onboarding done (the token needs it) and no credentials in it.
    install -d -o csalice -g csalice -m 0700 /home/csalice/agent
    echo '{"hasCompletedOnboarding":true}' >/home/csalice/agent/.claude.json
    chown csalice: /home/csalice/agent/.claude.json
    out=$(su - csalice -c "CLAUDE_CONFIG_DIR=/home/csalice/agent NODE_EXTRA_CA_CERTS=$CA/ca.crt DISABLE_TELEMETRY=1 DISABLE_ERROR_REPORTING=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1 timeout 60 $(claude_bin "$v") -p hi" 2>&1 3>&-) || fail_v "agent -p: $out"
    [[ "$out" == *pong* ]] || fail_v "agent -p: $out"
    grep -q "\"bearer\":\"$setup\"" $FAKE/log.jsonl || fail_v "the API never saw the setup-token"
    ! grep -q '"grant":"refresh_token"' $FAKE/log.jsonl || fail_v "something refreshed"
    [[ ! -e /home/csalice/agent/.credentials.json ]] || fail_v "the agent wrote a credentials file"
    # A user outside the group gets nothing from the login shell.
    useradd -m csout 2>/dev/null || true
    [[ -z "$(su - csout -c 'printf %s "${CLAUDE_CODE_OAUTH_TOKEN:-}"' 3>&-)" ]] || fail_v "a non-member got the token"
    echo "# figure: [$v] token mode: claude -p answered with only CLAUDE_CODE_OAUTH_TOKEN, no refresh" >&3
  done
}

@test "an expired login refreshed by the real client: status sees it, sync promotes it, and the next member refreshes with the promoted token (never a used one)" {
  local v
  for v in $(versions); do
    reset_state && start_fake
    login_with "$(ms_from_now -3600)"
    short_tokens
    run as_member csalice "$v" -p hi
    [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "csalice -p: $status $output"
    [[ -n "$(issued)" ]] || fail_v "no refresh"
    # A version that renames over the link leaves csalice the only live token: status must say so (drift, exit 1).
    # One that writes through the link has already updated the shared copy: nothing to promote.
    run claude-share status
    if linked csalice; then
      [[ "$(shared_refresh)" == "$(issued)" ]] || fail_v "written through the link, yet the shared copy is not the live token"
      echo "# figure: [$v] refresh written through the link (status exit $status)" >&3
    else
      [[ $status -eq 1 && "$output" == *'newer token'* ]] || fail_v "severed link: status $status: $output"
      echo "# figure: [$v] refresh severed the link: status exit 1, newer token in csalice's home" >&3
    fi
    # Whatever the version did (rename over the link, or write through it), sync leaves the newest token shared.
    run claude-share sync
    [[ $status -eq 0 ]] || fail_v "sync: $status $output"
    linked csalice || fail_v "csalice not relinked"
    [[ "$(shared_refresh)" == "$(issued)" ]] || fail_v "shared copy holds $(shared_refresh), the live one is $(issued)"
    run claude-share status
    [[ $status -eq 0 ]] || fail_v "status after sync: $status $output"
    local promoted
    promoted=$(issued)
    run as_member csbob "$v" -p hi
    [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "csbob -p with the promoted login: $status $output"
    [[ "$(grep -c "\"refresh\":\"$promoted\"" $FAKE/log.jsonl)" -eq 1 ]] || fail_v "csbob did not refresh with the promoted token $promoted"
    [[ "$(reused)" -eq 0 ]] || fail_v "a rotated refresh token was presented again"
    run claude-share sync
    [[ $status -eq 0 && "$(shared_refresh)" == "$(issued)" ]] || fail_v "second sync: $status $output"
  done
}

@test "with the watcher: each refresh is healed without sync, and the next member uses the healed token" {
  local v i t0 u
  for v in $(versions); do
    expired_login_with_watcher
    for u in csalice csbob csalice; do
      run as_member $u "$v" -p hi
      [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "$u -p: $status $output"
      t0=$(date +%s%N)
      for i in $(seq 100); do linked $u && [[ "$(shared_refresh)" == "$(issued)" ]] && break; sleep 0.05; done
      linked $u && [[ "$(shared_refresh)" == "$(issued)" ]] || { cat /tmp/cs-watch.log; fail_v "$u not healed by the watcher"; }
      echo "# figure: [$v] $u's refresh healed by the watcher $((($(date +%s%N) - t0) / 1000000)) ms after the client exited" >&3
    done
    [[ "$(reused)" -eq 0 ]] || fail_v "a rotated refresh token was presented again"
    kill $WATCH_PID; wait $WATCH_PID 2>/dev/null || true; WATCH_PID=
  done
}


@test "a member whose refresh token is dead: the client fails, and whatever it leaves (a logged-out stub, nothing) never replaces the shared copy" {
  local v before
  for v in $(versions); do
    reset_state && start_fake
    login_with "$(ms_from_now -3600)"
    printf '{"account":"%s","valid":{},"used":["sk-ant-ort01-r0"],"access":{},"n":0}' "$ACCOUNT" >$FAKE/tokens.json
    before=$(cat $SHARED)
    CS_TIMEOUT=15 run as_member csalice "$v" -p hi
    [[ $status -ne 0 ]] || fail_v "-p succeeded with a dead token"
    local left=link
    [[ -L /home/csalice/.claude/.credentials.json ]] || left=$(grep -q '"refreshToken":""' /home/csalice/.claude/.credentials.json 2>/dev/null && echo 'a logged-out stub' || echo 'a private file')
    echo "# figure: [$v] dead token: the client exits $status, its credentials path holds $left" >&3
    if [[ $left == 'a logged-out stub' ]]; then
      # The refresh visibly failed: status says the login is dead and names csalice; her stub stays as evidence.
      run claude-share status
      [[ $status -eq 2 && "$output" == *'could not be refreshed'*csalice* ]] || fail_v "status after the stub: $status $output"
      run claude-share sync
      [[ $status -eq 2 ]] || fail_v "sync: $status $output"
    else
      run claude-share sync
      [[ $status -eq 0 ]] || fail_v "sync: $status $output"
      linked csalice || fail_v "csalice not relinked"
    fi
    [[ "$(cat $SHARED)" == "$before" ]] || fail_v "the shared copy changed: $(cat $SHARED)"
  done
}

@test "claude auth logout as one member: the link goes (or a stub comes), the shared copy never takes it, sync relinks; whether the endpoint revoked the login for everyone is reported" {
  local v before
  for v in $(versions); do
    reset_state && start_fake
    login_with "$(ms_from_now 7200)"
    before=$(cat $SHARED)
    run as_member csalice "$v" auth logout
    [[ $status -eq 0 ]] || fail_v "logout: $status $output"
    run claude-share sync
    [[ $status -eq 0 ]] || fail_v "sync: $status $output"
    linked csalice || fail_v "csalice not relinked"
    [[ "$(cat $SHARED)" == "$before" ]] || fail_v "the shared copy changed: $(cat $SHARED)"
    if grep -q '"result":"revoked"' $FAKE/log.jsonl; then
      # The login is gone for everyone (README: members must not /logout): the next member cannot refresh it.
      CS_TIMEOUT=15 run as_member csbob "$v" -p hi
      [[ $status -ne 0 ]] || fail_v "the endpoint revoked the login, yet csbob's request succeeded"
      echo "# figure: [$v] logout revoked the shared login at the endpoint: csbob's next request fails (exit $status)" >&3
    else
      echo "# figure: [$v] logout removed the member's link only, no revocation request" >&3
    fi
  done
}

# race_round -- csalice and csbob start at once with an expired shared token; prints "collision loser_ok".
race_round() {
  local before after a b
  before=$(reused)
  as_member csalice "$v" -p hi >/tmp/race.a 2>&1 &
  a=$!
  as_member csbob "$v" -p hi >/tmp/race.b 2>&1 &
  b=$!
  wait $a && grep -q pong /tmp/race.a && a=0 || a=1
  wait $b && grep -q pong /tmp/race.b && b=0 || b=1
  after=$(reused)
  if [[ $after -gt $before ]]; then echo "1 $((a == 0 && b == 0 ? 1 : 0))"; else echo "0 $((a == 0 && b == 0 ? 1 : 0))"; fi
}

@test "two members refreshing at once, with the watcher, 20 times: after each heal the shared copy is the live token and the next refresh never presents a used one; the rate at which the loser still succeeds is reported" {
  local v i r collisions ok_losers both_ok
  for v in $(versions); do
    expired_login_with_watcher
    collisions=0 ok_losers=0 both_ok=0
    for r in $(seq ${CS_RACES:-20}); do
      read -r c l < <(race_round)
      collisions=$((collisions + c))
      ok_losers=$((ok_losers + (c == 1 ? l : 0)))
      both_ok=$((both_ok + l))
      # Healed: both linked, the shared copy holds the newest token the endpoint issued.
      for i in $(seq 100); do linked csalice && linked csbob && [[ "$(shared_refresh)" == "$(issued)" ]] && break; sleep 0.05; done
      linked csalice && linked csbob && [[ "$(shared_refresh)" == "$(issued)" ]] || {
        cat /tmp/cs-watch.log; ls -l /home/csalice/.claude/.credentials.json /home/csbob/.claude/.credentials.json
        cat /home/csalice/.claude/.credentials.json /home/csbob/.claude/.credentials.json; echo; claude-share status || true
        fail_v "round $r: not healed (shared holds $(shared_refresh), the newest issued is $(issued))"
      }
    done
    # No dead end: one more refresh presents the healed token and succeeds.
    local used=$(reused)
    run as_member csalice "$v" -p hi
    [[ $status -eq 0 && "$output" == *pong* && "$(reused)" -eq $used ]] || fail_v "after the races: $status $output"
    echo "# figure: [$v] ${CS_RACES:-20} two-member races with the watcher: $collisions collided on one refresh token, the loser still succeeded in $ok_losers of them; both answered in $both_ok rounds" >&3
    kill $WATCH_PID; wait $WATCH_PID 2>/dev/null || true; WATCH_PID=
  done
}
