# shellcheck shell=bash
# Shared helpers for the claude-share end-to-end suites (docker/e2e/*.bats).
#
# In a suite:
#     setup_file() { load test_helper; reset_state; }   # optional
#     setup()      { load test_helper; reset_state; }
#
# The suites run as root inside a disposable system only (Docker image or the
# namespace sandbox of run.sh). They use the real default paths
# (/etc/claude-share/config, /shared/claude-share, real users): that is the
# point of an end-to-end test, and the sandbox makes it safe.
#
# Conventions: test users are named cs<something> (reset_state removes them),
# e.g. csalice, csbob. `claude-share` on PATH runs node dist/src/cli.js.

CS_REPO=${CS_REPO:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd -P)}
CS_E2E_STATE=${CS_E2E_STATE:-/run/claude-share-e2e}
export CS_REPO CS_E2E_STATE
# shellcheck disable=SC2034  # used by the suites
CS_CLI="$CS_REPO/dist/src/cli.js"

# shared_of REL -- the shared copy that ~/REL links to: all four live in <shared>/home/.claude (since 0.2).
shared_of() { echo "/shared/claude-share/home/.claude/${1##*/}"; }
# shellcheck disable=SC2034
CS_SANDBOX_MARKER=/.claude-share-e2e-sandbox

load "$CS_REPO/node_modules/bats-support/load"
load "$CS_REPO/node_modules/bats-assert/load"

# What reset_state wipes besides test users. Suites may append, e.g.
#     CS_RESET_PATHS+=(/etc/sudoers.d/claude-share)
CS_RESET_PATHS=(/etc/claude-share /shared/claude-share /var/lib/claude-share)
CS_RESET_GROUPS=(claudeshare)

# Fail unless we are in the disposable system (never wipe a real machine).
require_sandbox() {
  if [[ "${CLAUDE_SHARE_E2E_INSIDE:-}" != 1 || ! -e "$CS_SANDBOX_MARKER" ]]; then
    echo "refusing: not inside the claude-share e2e sandbox (run bash docker/e2e/run.sh)" >&2
    return 1
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "the e2e suites must run as root" >&2
    return 1
  fi
  # run.sh records the baseline before any test; do it here if a suite was
  # started some other way.
  if [[ ! -e "$CS_E2E_STATE/baseline-users" ]]; then
    mkdir -p "$CS_E2E_STATE"
    getent passwd | cut -d: -f1 | sort -u >"$CS_E2E_STATE/baseline-users"
    getent group | cut -d: -f1 | sort -u >"$CS_E2E_STATE/baseline-groups"
    if [[ -e /shared ]]; then echo yes; else echo no; fi >"$CS_E2E_STATE/baseline-shared"
  fi
}

_cs_in_baseline() { # KIND(users|groups) NAME
  grep -qxF -- "$2" "$CS_E2E_STATE/baseline-$1" 2>/dev/null
}

# Remove everything a previous test (or a previous run in the same sandbox)
# may have left: users named cs* (with their home), group claudeshare and any
# other cs* group, /etc/claude-share, /shared/claude-share (and /shared if it
# did not exist before the run). Users/groups present before the run are kept.
reset_state() {
  require_sandbox || return 1
  local name home
  while IFS=: read -r name _ _ _ _ home _; do
    [[ "$name" == cs* ]] || continue
    _cs_in_baseline users "$name" && continue
    userdel -f -r "$name" >/dev/null 2>&1 || userdel -f "$name" >/dev/null 2>&1 || true
    if getent passwd "$name" >/dev/null; then
      echo "reset_state: could not delete user $name" >&2
      return 1
    fi
    if [[ "$home" == /home/?* && -e "$home" ]]; then rm -rf -- "$home"; fi
  done < <(getent passwd)

  local groups=("${CS_RESET_GROUPS[@]}") g
  while IFS=: read -r g _; do
    if [[ "$g" == cs* ]] && ! _cs_in_baseline groups "$g"; then groups+=("$g"); fi
  done < <(getent group)
  for g in "${groups[@]}"; do
    getent group "$g" >/dev/null || continue
    groupdel "$g" >/dev/null 2>&1 || groupdel -f "$g" >/dev/null 2>&1 || true
    if getent group "$g" >/dev/null; then
      echo "reset_state: could not delete group $g" >&2
      return 1
    fi
  done

  rm -rf -- "${CS_RESET_PATHS[@]}"
  if [[ "$(cat "$CS_E2E_STATE/baseline-shared" 2>/dev/null)" == no ]]; then
    rm -rf -- /shared
  fi
}

# make_user NAME [PASSWORD] -- a real login user with a home and bash.
make_user() {
  local name=$1 password=${2:-}
  [[ "$name" == cs* ]] || {
    echo "make_user: test user names must start with 'cs' (got $name)" >&2
    return 1
  }
  useradd -m -s /bin/bash "$name"
  if [[ -n "$password" ]]; then
    printf '%s:%s\n' "$name" "$password" | chpasswd
  fi
}

# make_users_file PATH CONTENT -- write CONTENT (newline added if missing) to
# PATH as a root-owned 0600 file, creating parent directories.
make_users_file() {
  local path=$1 content=$2
  mkdir -p -- "$(dirname -- "$path")"
  (
    umask 077
    printf '%s' "$content" >"$path"
    [[ -z "$content" || "$content" == *$'\n' ]] || printf '\n' >>"$path"
  )
  chown root:root -- "$path"
  chmod 0600 -- "$path"
}

# as_user NAME CMD... -- run CMD through a login shell of NAME (su - NAME -c).
as_user() {
  local name=$1
  shift
  su - "$name" -c "$*"
}

# now_ms / ms_from_now SECONDS -- epoch milliseconds (SECONDS may be negative).
now_ms() { date +%s%3N; }
ms_from_now() { echo $(($(date +%s%3N) + ${1:?seconds} * 1000)); }

# fake_creds EXPIRES_MS [REFRESH_TOKEN] [ACCOUNT_UUID]
# Print a Claude Code ~/.claude/.credentials.json document. REFRESH_TOKEN is a
# full "sk-ant-ort01-NAME" token or just NAME (default "e2e"); the access token
# is derived from it: sk-ant-oat01-NAME.
fake_creds() {
  local expires=${1:?fake_creds EXPIRES_MS [REFRESH_TOKEN] [ACCOUNT_UUID]}
  local refresh=${2:-e2e} account=${3:-00000000-0000-4000-8000-000000000001}
  local name=${refresh#sk-ant-ort01-}
  [[ "$expires" =~ ^-?[0-9]+$ ]] || {
    echo "fake_creds: EXPIRES_MS must be an integer (got $expires)" >&2
    return 1
  }
  [[ "$name" =~ ^[A-Za-z0-9._-]+$ && "$account" =~ ^[A-Za-z0-9._-]+$ ]] || {
    echo "fake_creds: token name / account uuid may only contain [A-Za-z0-9._-]" >&2
    return 1
  }
  printf '{"claudeAiOauth":{"accessToken":"sk-ant-oat01-%s","refreshToken":"sk-ant-ort01-%s","expiresAt":%s,"scopes":["user:inference","user:profile"],"subscriptionType":"max","rateLimitTier":"default_claude_max_20x","accountUuid":"%s","organizationUuid":"org-1"},"mcpOAuth":{}}\n' \
    "$name" "$name" "$expires" "$account"
}

# install_creds NAME JSON -- write JSON to ~NAME/.claude/.credentials.json,
# owned by NAME, 0600 (dir 0700), like Claude Code does.
install_creds() {
  local name=$1 json=$2 home
  home=$(getent passwd "$name" | cut -d: -f6)
  [[ -n "$home" ]] || {
    echo "install_creds: no such user $name" >&2
    return 1
  }
  install -d -m 0700 -o "$name" -g "$(id -gn "$name")" "$home/.claude"
  (
    umask 077
    printf '%s\n' "$json" >"$home/.claude/.credentials.json"
  )
  chown "$name:$(id -gn "$name")" "$home/.claude/.credentials.json"
  chmod 0600 "$home/.claude/.credentials.json"
}

# init_with_login TOKEN_NAME SECONDS USER... -- root logged in to Claude (a login
# that expires in SECONDS, refresh token sk-ant-ort01-TOKEN_NAME), then a real
# `server init` of USERS (password "pw") from a root-only users file.
init_with_login() {
  local token=$1 secs=$2
  shift 2
  rm -rf /root/.claude /root/.claude.json
  install -d -m 0700 /root/.claude
  fake_creds "$(ms_from_now "$secs")" "$token" >/root/.claude/.credentials.json
  printf '{"oauthAccount":{"accountUuid":"00000000-0000-4000-8000-000000000001"},"hasCompletedOnboarding":true}\n' >/root/.claude.json
  make_users_file /root/users.txt "$(printf '%s:pw\n' "$@")"
  claude-share server init --yes --users-from-file /root/users.txt >/dev/null
}

# init_with_login_no_password TOKEN_NAME SECONDS USER... -- as init_with_login, but the users get locked passwords
# (`--no-password`): no chpasswd hashing, for suites that only need the accounts (root reaches them with su -).
init_with_login_no_password() {
  local token=$1 secs=$2 u args=()
  shift 2
  rm -rf /root/.claude /root/.claude.json
  install -d -m 0700 /root/.claude
  fake_creds "$(ms_from_now "$secs")" "$token" >/root/.claude/.credentials.json
  printf '{"oauthAccount":{"accountUuid":"00000000-0000-4000-8000-000000000001"},"hasCompletedOnboarding":true}\n' >/root/.claude.json
  for u in "$@"; do args+=(--user "$u"); done
  claude-share server init --yes --no-password "${args[@]}" >/dev/null
}

# make_origin DIR -- a git repository at DIR whose HEAD is this checkout's working tree as it is (uncommitted
# changes included): what a user clones. A clone when the checkout is a git repository; else (the Docker image has
# no .git) a new repository.
make_origin() {
  local origin=${1:?make_origin DIR}
  rm -rf "$origin" && git clone -q "$CS_REPO" "$origin" 2>/dev/null || git init -q "$origin"
  rsync -a --delete --exclude .git --exclude node_modules --exclude dist "$CS_REPO"/ "$origin"/ 2>/dev/null ||
    (cd "$CS_REPO" && tar --exclude=./.git --exclude=./node_modules --exclude=./dist -cf - .) | tar -C "$origin" -xf -
  git -C "$origin" add -A && git -C "$origin" -c user.email=e2e@x -c user.name=e2e commit -qm e2e --allow-empty
}

# ---- shared by the suites: paths, acting as a member, snapshots, the watcher ----
# shellcheck disable=SC2034  # used by the suites
SD=/shared/claude-share
# shellcheck disable=SC2034
SHARED=$SD/home/.claude/.credentials.json
# shellcheck disable=SC2034
CFG=/etc/claude-share/config
FAKE=${BATS_TEST_DIRNAME}/fake-claude.sh

# claude_as USER MODE CONTENT [RELPATH] -- Claude's write modes as that member (fake-claude.sh), content on stdin.
claude_as() { printf '%s\n' "$3" | su - "$1" -c "bash $FAKE $2 ${4:-}"; }

# world -- accounts, passwords' hashes of the cs* users, and every file claude-share could touch: two calls around
# a refused command must print the same. A suite adds directories with WORLD_EXTRA=(/srv ...).
world() {
  getent passwd | sort
  getent group | sort
  grep -E '^cs' /etc/shadow | cut -d: -f1,2 || true
  find /shared /etc/claude-share /root/.claude /root/.claude.json /home ${WORLD_EXTRA[@]+"${WORLD_EXTRA[@]}"} -xdev \
    -printf '%p %y %u:%g %m %l %s\n' 2>/dev/null | sort
}

# etc_state [accounts] -- /etc but the config (with "accounts": without the account files a heal may rewrite).
etc_state() {
  find /etc -path /etc/claude-share -prune -o -printf '%p %y %m %u:%g %s %T@ %l\n' 2>/dev/null | sort |
    if [[ "${1:-}" == accounts ]]; then
      grep -vE '^/etc(/(passwd|shadow|group|gshadow|subuid|subgid)-?|/\.pwd\.lock)? '
    else
      cat
    fi
}

# start_usage_receiver -- claude-share usage receive in the background (RECEIVER_PID), logging to /tmp/cs-usage.log,
# once it says it is receiving. fd 3 closed, as for the watcher.
start_usage_receiver() {
  claude-share usage receive >/tmp/cs-usage.log 2>&1 3>&- &
  RECEIVER_PID=$!
  for _ in $(seq 50); do grep -q receiving /tmp/cs-usage.log && return 0; sleep 0.1; done
  cat /tmp/cs-usage.log
  return 1
}

# start_watch -- the watcher in the background, logging to $LOG (emptied first), once it says it is watching.
# fd 3 is closed for it: bats waits for whatever holds fd 3, and the watcher outlives the test's commands.
start_watch() {
  : >"$LOG"
  claude-share server watch --debounce 200 >>"$LOG" 2>&1 3>&- &
  WATCH_PID=$!
  for _ in $(seq 100); do grep -q 'watching' "$LOG" 2>/dev/null && return 0; sleep 0.1; done
  cat "$LOG"
  return 1
}
