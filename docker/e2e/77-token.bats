#!/usr/bin/env bats
# The long-lived token mode (server token set|show|remove) with real accounts, real login shells and real files.

TOKEN=sk-ant-oat01-e2eToken_0123456789-abcdefghijklmnopqrstuvwxyzABCDEFGHIJ

setup() {
  load test_helper
  CS_RESET_PATHS+=(/etc/profile.d/claude-share-token.sh)
  reset_state
  rm -f /var/lib/claude-share/oauth-token.removed-*
  init_with_login_no_password tk 3600 csalice csbob
}

teardown() {
  rm -f /etc/profile.d/claude-share-token.sh
  return 0
}

@test "token set from stdin: root:group 0640, members' login shells have it, a non-member's do not; status shows it masked" {
  run bash -c "printf '%s\n' '$TOKEN' | claude-share server token set"
  assert_success
  assert_output --partial 'sk-ant-oat01-…GHIJ'
  refute_output --partial "$TOKEN"
  assert_equal "$(stat -c '%U:%G %a' /etc/claude-share/oauth-token)" 'root:claudeshare 640'
  assert_equal "$(stat -c '%U:%G %a' /etc/profile.d/claude-share-token.sh)" 'root:root 644'
  assert_equal "$(su - csalice -c 'printf %s "$CLAUDE_CODE_OAUTH_TOKEN"')" "$TOKEN"
  useradd -m csout
  assert_equal "$(su - csout -c 'printf %s "${CLAUDE_CODE_OAUTH_TOKEN:-none}"' 2>&1)" none
  run su - csout -c 'cat /etc/claude-share/oauth-token'
  assert_failure
  run claude-share status
  assert_success
  assert_output --partial 'token: sk-ant-oat01-…GHIJ, set '
  assert_output --partial '365 days left'
  refute_output --partial "$TOKEN"
  run claude-share server token show --json
  assert_success
  assert_equal "$(node -e 'console.log(JSON.parse(process.argv[1]).token.daysLeft)' "$output")" 365
  refute_output --partial "$TOKEN"
}

@test "token set refuses an API key and a token given on argv would be visible: neither changes anything (65, 64)" {
  before=$(world)
  run bash -c "printf 'sk-ant-api03-%s\n' $(printf 'x%.0s' {1..40}) | claude-share server token set"
  assert_equal "$status" 65
  assert_output --partial 'API key'
  assert_output --partial 'fix: run claude setup-token'
  run claude-share server token set "$TOKEN"
  assert_equal "$status" 64
  assert_equal "$(world)" "$before"
  [[ ! -e /etc/claude-share/oauth-token && ! -e /etc/profile.d/claude-share-token.sh ]]
}

@test "a year after it was set: status exits 1 thirty days before (token-ending), then 2 (token-expired); remove keeps a root-only copy" {
  printf '%s\n' "$TOKEN" | claude-share server token set >/dev/null
  touch -d '340 days ago' /etc/claude-share/oauth-token
  run claude-share status
  assert_equal "$status" 1
  assert_output --partial '[token-ending]'
  touch -d '370 days ago' /etc/claude-share/oauth-token
  run claude-share status
  assert_equal "$status" 2
  assert_output --partial '[token-expired]'
  run claude-share server token remove
  assert_success
  [[ ! -e /etc/claude-share/oauth-token && ! -e /etc/profile.d/claude-share-token.sh ]]
  kept=$(ls /var/lib/claude-share/oauth-token.removed-*)
  assert_equal "$(stat -c '%U %a' "$kept")" 'root 600'
  assert_equal "$(cat "$kept")" "$TOKEN"
  run claude-share status
  assert_success
  refute_output --partial 'token:'
}
