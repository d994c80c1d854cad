# Shared by the real-client suites (real-client.bats, containers.bats): the fake endpoint, the shared login it knows,
# and how a member runs the real client. Loaded after docker/e2e/test_helper.bash.

SD=/shared/claude-share
SHARED=$SD/home/.claude/.credentials.json
CACHE=${CLAUDE_SHARE_REAL_CLIENT_CACHE:-/var/cache/claude-share-real-client}
CA=${CLAUDE_SHARE_REAL_CLIENT_CA:?run it through test/real-client/run.sh}
FAKE=/tmp/cs-fake
ACCOUNT=00000000-0000-4000-8000-000000000001

# ---------------------------------------------------------------------------------------------------------------
# real_client_setup -- what every case starts from: a clean sandbox whose /etc/hosts sends the real endpoints to the
# fake one on 127.0.0.1.
real_client_setup() {
  reset_state
  grep -q platform.claude.com /etc/hosts || echo '127.0.0.1 platform.claude.com api.anthropic.com claude.ai console.anthropic.com statsig.anthropic.com' >>/etc/hosts
}

# real_client_teardown -- the fake endpoint and the members' clients stopped, whatever the case left running.
real_client_teardown() {
  pkill -f fake-anthropic.mjs 2>/dev/null
  pkill -u csalice 2>/dev/null
  pkill -u csbob 2>/dev/null
  return 0
}

start_fake() {
  pkill -f fake-anthropic.mjs 2>/dev/null && sleep 0.2
  rm -rf $FAKE && mkdir -p $FAKE && chmod 0755 $FAKE
  cp "$CA/server.key" "$CA/server.crt" $FAKE/
  printf '{"account":"%s","valid":{"sk-ant-ort01-r0":"%s"},"used":[],"access":{"sk-ant-oat01-r0":"sk-ant-ort01-r0"},"n":0}' "$ACCOUNT" "$ACCOUNT" >$FAKE/tokens.json
  : >$FAKE/log.jsonl
  rm -f $FAKE/ready
  node "$BATS_TEST_DIRNAME/fake-anthropic.mjs" $FAKE >$FAKE/server.out 2>&1 3>&- &
  local i
  for i in $(seq 100); do [[ -e $FAKE/ready ]] && return 0; sleep 0.05; done
  cat $FAKE/server.out
  return 1
}

# claude_bin VERSION -- the client's command line: the native binary from the platform package, else node cli.js.
claude_bin() {
  local d=$CACHE/$1/node_modules/@anthropic-ai
  if [[ -x $d/claude-code-linux-x64/claude ]]; then echo "$d/claude-code-linux-x64/claude"; else echo "node $d/claude-code/cli.js"; fi
}

# as_member USER VERSION ARGS... -- run the real client as USER (a login shell), trusting the throw-away CA.
as_member() {
  local user=$1 v=$2
  shift 2
  su - "$user" -c "NODE_EXTRA_CA_CERTS=$CA/ca.crt DISABLE_TELEMETRY=1 DISABLE_ERROR_REPORTING=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1 timeout ${CS_TIMEOUT:-60} $(claude_bin "$v") $*" 3>&-
}

# login_with EXPIRES_MS -- init with the shared login the fake knows: refresh r0 (valid once), access r0.
login_with() {
  rm -rf /root/.claude /root/.claude.json
  install -d -m 0700 /root/.claude
  printf '{"claudeAiOauth":{"accessToken":"sk-ant-oat01-r0","refreshToken":"sk-ant-ort01-r0","expiresAt":%s,"scopes":["user:inference","user:profile"],"subscriptionType":"max","rateLimitTier":"default_claude_max_20x","accountUuid":"%s","organizationUuid":"org-1"},"mcpOAuth":{}}\n' "$1" "$ACCOUNT" >/root/.claude/.credentials.json
  printf '{"oauthAccount":{"accountUuid":"%s","emailAddress":"shared@example.com","organizationUuid":"org-1"},"hasCompletedOnboarding":true}\n' "$ACCOUNT" >/root/.claude.json
  claude-share server init --yes --no-password --user csalice --user csbob >/dev/null
}

# expired_login_with_watcher -- a fresh fake endpoint, an expired shared login, short-lived tokens from now on, and
# `server watch` running (WATCH_PID), once it says it is watching.
expired_login_with_watcher() {
  local i
  reset_state && start_fake
  login_with "$(ms_from_now -3600)"
  short_tokens
  claude-share server watch --debounce 200 >/tmp/cs-watch.log 2>&1 3>&- &
  WATCH_PID=$!
  for i in $(seq 50); do grep -q watching /tmp/cs-watch.log && break; sleep 0.1; done
}

versions() { echo "${CLAUDE_SHARE_REAL_CLIENT_VERSIONS:?run it through test/real-client/run.sh}"; }

# reused -- how many times the fake saw a refresh token presented that it had already rotated.
reused() { grep -c '"result":"reused"' $FAKE/log.jsonl || true; }
# issued -- the newest refresh token the fake issued (the live one).
issued() { grep -o '"issued":"[^"]*"' $FAKE/log.jsonl | tail -1 | cut -d'"' -f4; }
# presented_by_last_refresh -- the refresh token of the last token request.
last_presented() { grep '"grant":"refresh_token"' $FAKE/log.jsonl | tail -1 | grep -o '"refresh":"[^"]*"' | cut -d'"' -f4; }
shared_refresh() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).claudeAiOauth.refreshToken)' "$SHARED"; }
linked() { [[ "$(readlink /home/$1/.claude/.credentials.json)" == "$SHARED" ]]; }
# short_tokens -- the fake issues access tokens that are expired at once, so the next member's start refreshes.
short_tokens() { echo '{"expiresIn": 1}' >$FAKE/settings.json; }
fail_v() { echo "[$v] $*"; cat $FAKE/log.jsonl; return 1; }
# fake_knows_access TOKEN -- the fake endpoint takes TOKEN as an access token of the account (a setup-token, which
# never refreshes).
fake_knows_access() {
  node -e 'const f=process.argv[1],s=JSON.parse(require("fs").readFileSync(f,"utf8"));s.access[process.argv[2]]="setup";require("fs").writeFileSync(f,JSON.stringify(s))' $FAKE/tokens.json "$1"
}
