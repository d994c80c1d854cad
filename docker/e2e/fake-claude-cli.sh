#!/bin/bash
# A stand-in for the installed `claude` command that doctor and login run as members (75-doctor-login.bats installs
# it root-owned as /usr/local/bin/claude). Every run appends what it ran as to /tmp/fake-claude-runs (world-writable, made
# by the suite): uid, groups, NoNewPrivs, its terminal, and whether root's environment leaked in.
#   --version        prints the version in /etc/fake-claude-version, or 2.1.330
#   auth status      {"loggedIn":true|false,...} and exit 0|1: logged in when ~/.claude/.credentials.json is readable
#                    and holds a refresh token (as the real client decides, claude-code-facts.md)
#   auth login ...   asks for a code on its terminal, then writes a new login (refresh token sk-ant-ort01-NEWLOGIN,
#                    8 h, the account in /etc/fake-claude-account) as 2.1.118+ does: a temp file renamed over the link
set -uo pipefail
log=/tmp/fake-claude-runs
{
  printf 'run=%s uid=%s groups=%s nnp=%s tty=%s secret=%s proxy=%s umask=%s home=%s args=%s\n' "$$" "$(id -u)" "$(id -G | tr ' ' ,)" \
    "$(awk '/^NoNewPrivs:/ {print $2}' /proc/self/status)" "$(tty -s && tty || echo none)" "${CS_ROOT_SECRET:-unset}" "${HTTPS_PROXY:-unset}" "$(umask)" "$HOME" "$*"
} >>"$log" 2>/dev/null
creds=$HOME/.claude/.credentials.json
case "${1:-} ${2:-}" in
  "--version ")
    echo "$(cat /etc/fake-claude-version 2>/dev/null || echo 2.1.330) (Claude Code)"
    ;;
  "auth status")
    if grep -q '"refreshToken":"sk-ant-ort01-[^"]' "$creds" 2>/dev/null; then
      echo '{"loggedIn":true,"authMethod":"claude.ai","apiProvider":"firstParty"}'
    else
      echo '{"loggedIn":false,"authMethod":"none"}'
      exit 1
    fi
    ;;
  "auth login")
    printf 'If the browser did not open, visit: https://claude.ai/oauth/authorize?fake\nPaste code here if prompted > '
    read -r code || exit 1
    [[ "$code" == good-code ]] || { echo 'OAuth error: Invalid code'; exit 1; }
    exp=$(( $(date +%s%3N) + 8 * 3600 * 1000 ))
    tmp=$creds.tmp.$$
    (umask 077 && printf '{"claudeAiOauth":{"accessToken":"sk-ant-oat01-NEWLOGIN","refreshToken":"sk-ant-ort01-NEWLOGIN","expiresAt":%s,"scopes":["user:inference","user:profile"],"subscriptionType":"max","accountUuid":"%s","organizationUuid":"org-1"},"mcpOAuth":{}}\n' "$exp" "$(cat /etc/fake-claude-account 2>/dev/null || echo 00000000-0000-4000-8000-000000000001)" >"$tmp")
    mv -f -T "$tmp" "$creds"
    echo 'Login successful.'
    ;;
  *)
    echo "fake claude: unsupported: $*" >&2
    exit 64
    ;;
esac
