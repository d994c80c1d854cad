#!/usr/bin/env bats
# Containers and agents for real (issue 15.3): a real Docker engine (Debian's docker.io) runs inside the e2e sandbox,
# which is the server claude-share manages, and its containers run the real Claude Code against fake-anthropic.mjs.
# Every container is started with exactly what `claude-share server container-args` printed (eval'd, as a person
# pastes it), plus only what the test itself needs: the client (the cache of the versions, read-only), node for the
# cli.js build, the throw-away CA, and --network host (the sandbox's own network namespace, where the fake endpoint
# listens on 127.0.0.1 and the sandbox's /etc/hosts points the real hosts at it; there is no route out of it).
#
# test/real-client/run.sh sets it up: CLAUDE_SHARE_E2E_DOCKER_DATA (the engine's data root, on the host's disk) and
# CLAUDE_SHARE_CONTAINER_TREE (a debootstrapped Debian 12 tree, imported as the containers' base image).

IMAGE=cs-agent
BASE=cs-agent-base:bookworm
DOCKERD_LOG=/tmp/cs-dockerd.log

setup_file() {
  load ../../docker/e2e/test_helper
  require_sandbox
  [[ -n "${CLAUDE_SHARE_E2E_DOCKER_DATA:-}" && -d /var/lib/docker ]] || {
    echo "run it through test/real-client/run.sh (it gives the sandbox a data root for dockerd)" >&2
    return 1
  }
  command -v dockerd >/dev/null || { echo "dockerd not found: apt-get install docker.io" >&2; return 1; }
  # The engine of this sandbox only: its socket in the sandbox's /run, no bridge and no iptables (containers use the
  # sandbox's network namespace), cgroupfs.
  dockerd --data-root /var/lib/docker --host unix:///run/docker.sock --iptables=false --ip6tables=false --ip-masq=false \
    --bridge=none --log-level warn >"$DOCKERD_LOG" 2>&1 3>&- </dev/null &
  local i
  for i in $(seq 150); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
  docker version >/dev/null 2>&1 || { cat "$DOCKERD_LOG" >&2; return 1; }
  # Containers a killed run left in the (persistent) data root.
  docker ps -aq | xargs -r docker rm -f >/dev/null
  # The base image: the debootstrapped tree, imported again only when the tree changed (its stamp is the label).
  local tree=${CLAUDE_SHARE_CONTAINER_TREE:?run it through test/real-client/run.sh} id have
  id=$(cat "$tree/.claude-share-fresh-tree" | sha256sum | cut -c1-16)
  have=$(docker image inspect -f '{{ index .Config.Labels "claude-share.tree" }}' $BASE 2>/dev/null || true)
  if [[ "$have" != "$id" ]]; then
    tar --numeric-owner --one-file-system -C "$tree" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
      --exclude='./var/cache/apt/archives/*.deb' -cf - . |
      docker import --change "LABEL claude-share.tree=$id" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - $BASE >/dev/null
  fi
  build_image 1 >/dev/null
}

teardown_file() {
  docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1
  pkill -x dockerd 2>/dev/null
  local i
  for i in $(seq 100); do pgrep -x dockerd >/dev/null || break; sleep 0.1; done
  return 0
}

setup() {
  load ../../docker/e2e/test_helper
  load helpers
  real_client_setup
  WATCH_PID=
}

teardown() {
  docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1
  [[ -n "${WATCH_PID:-}" ]] && kill "$WATCH_PID" 2>/dev/null
  real_client_teardown
}

# build_image N -- (re)build the agents' image: the base plus a build number, so each build is a new image; prints its id.
build_image() {
  local ctx
  ctx=$(mktemp -d)
  printf 'FROM %s\nLABEL claude-share.build=%s\nRUN mkdir -p /opt/claude && echo "build %s" >/etc/cs-agent-build\n' $BASE "$1" "$1" >"$ctx/Dockerfile"
  docker build -q --network none -t $IMAGE "$ctx" || { rm -rf "$ctx"; return 1; }
  rm -rf "$ctx"
}

# claude_in_image VERSION -- the client's command line inside a container (the cache mounted at /opt/claude).
claude_in_image() {
  local d=/opt/claude/node_modules/@anthropic-ai
  if [[ -x $CACHE/$1/node_modules/@anthropic-ai/claude-code-linux-x64/claude ]]; then echo "$d/claude-code-linux-x64/claude"; else echo "node $d/claude-code/cli.js"; fi
}

# test_mounts VERSION -- what only the test adds to a container: the client, node, the throw-away CA, the quiet flags.
test_mounts() {
  echo "--network host --volume $CACHE/$1:/opt/claude:ro --volume $(command -v node):/usr/local/bin/node:ro" \
    "--volume $CA/ca.crt:/etc/cs-test-ca.crt:ro --env NODE_EXTRA_CA_CERTS=/etc/cs-test-ca.crt --env DISABLE_TELEMETRY=1" \
    "--env DISABLE_ERROR_REPORTING=1 --env CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 --env DISABLE_AUTOUPDATER=1"
}

# in_container NAME VERSION ARGS... -- docker run, with what `container-args NAME` printed, the real client with ARGS.
in_container() {
  local name=$1 v=$2 args
  shift 2
  args=$(claude-share server container-args "$name") || return 1
  eval "docker run --rm --name cs-run-$name $args $(test_mounts "$v") $IMAGE timeout 60 $(claude_in_image "$v") $*" 3>&-
}

# presented_once REFRESH -- the endpoint saw REFRESH presented exactly once (a client whose new access token expires at
# once, short_tokens, may refresh again within the same run, so "the last one presented" would be too strict).
presented_once() { [[ "$(grep -c "\"refresh\":\"$1\"" $FAKE/log.jsonl)" -eq 1 ]]; }

# refreshes WHO REFRESH CMD... -- CMD (WHO's client) answers, having refreshed with REFRESH exactly once.
refreshes() {
  local who=$1 token=$2
  shift 2
  run "$@"
  [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "$who -p: $status $output"
  presented_once "$token" || fail_v "$who did not refresh with $token"
}

# healed NAME -- wait until NAME's link is back and the shared copy holds the newest token the endpoint issued.
healed() {
  local i
  for i in $(seq 100); do linked "$1" && [[ "$(shared_refresh)" == "$(issued)" ]] && return 0; sleep 0.05; done
  cat /tmp/cs-watch.log
  return 1
}

# containers_with_watcher EXPIRES_MS NAME... -- the shared login, a member (csbob), the containers, the watcher.
containers_with_watcher() {
  local expires=$1 c i
  shift
  reset_state && start_fake
  login_with "$expires"
  for c in "$@"; do claude-share server add-container "$c" >/dev/null 2>&1 || return 1; done
  claude-share server watch --debounce 200 >/tmp/cs-watch.log 2>&1 3>&- &
  WATCH_PID=$!
  for i in $(seq 50); do grep -q watching /tmp/cs-watch.log && break; sleep 0.1; done
}

@test "links in real containers: a refresh inside one container reaches the shared copy on the host (written through the link up to 2.1.117; from 2.1.118 it severs the link and the watcher heals it), a second container and a member go on with the promoted token, never a used one" {
  local v
  for v in $(versions); do
    containers_with_watcher "$(ms_from_now -3600)" csc1 csc2
    short_tokens
    refreshes csc1 sk-ant-ort01-r0 in_container csc1 "$v" -p hi
    healed csc1 || fail_v "csc1's refresh was not healed on the host"
    refreshes csc2 "$(issued)" in_container csc2 "$v" -p hi
    healed csc2 || fail_v "csc2's refresh was not healed"
    refreshes csbob "$(issued)" as_member csbob "$v" -p hi
    healed csbob || fail_v "csbob's refresh was not healed"
    [[ "$(reused)" -eq 0 ]] || fail_v "a rotated refresh token was presented again"
    # Nothing the containers wrote is left outside their homes, and status sees them healthy and lists them.
    run claude-share status
    [[ $status -eq 0 && "$output" == *csc1* && "$output" == *csc2* ]] || fail_v "status: $status $output"
    echo "# figure: [$v] two containers and a member refreshed in turn, each refresh shared; no used token presented" >&3
    kill $WATCH_PID; wait $WATCH_PID 2>/dev/null || true; WATCH_PID=
  done
}

@test "a rebuilt container keeps its login: a new image and a new container find the login on the host, logged in, and answer" {
  local v first second
  for v in $(versions); do
    containers_with_watcher "$(ms_from_now -3600)" csc1
    first=$(build_image "1-$v") || fail_v "build 1"
    run in_container csc1 "$v" -p hi
    [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "first container -p: $status $output"
    healed csc1 || fail_v "the first container's refresh was not healed"
    # The rebuild: another image (a new id), the old container gone (--rm), a new one from the new image.
    second=$(build_image "2-$v") || fail_v "build 2"
    [[ -n "$second" && "$second" != "$first" ]] || fail_v "the rebuild made the same image ($first)"
    run in_container csc1 "$v" auth status
    [[ $status -eq 0 && "$output" == *'"loggedIn": true'* ]] || fail_v "rebuilt container: auth status $status: $output"
    run in_container csc1 "$v" -p hi
    [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "rebuilt container -p: $status $output"
    [[ "$(reused)" -eq 0 ]] || fail_v "a rotated refresh token was presented again"
    echo "# figure: [$v] rebuilt (image ${first:7:12} -> ${second:7:12}): still logged in, answered" >&3
    kill $WATCH_PID; wait $WATCH_PID 2>/dev/null || true; WATCH_PID=
  done
}

@test "token mode in real containers: agents with no credentials file, only the token from the env file container-args names, run claude -p at once; nothing refreshes and nothing is written" {
  local v setup args uid pgid gid i pids
  setup=sk-ant-oat01-setup-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  for v in $(versions); do
    # An expired shared login: had an agent used the linked credentials, it would have had to refresh.
    containers_with_watcher "$(ms_from_now -3600)" csc1
    fake_knows_access "$setup"
    printf '%s\n' "$setup" | claude-share server token set >/dev/null || fail_v "token set"
    args=$(claude-share server container-args csc1)
    [[ "$args" == *"--env-file /etc/claude-share/oauth-token.env"* ]] || fail_v "container-args without the env file: $args"
    [[ "$args" != *"$setup"* ]] || fail_v "container-args printed the token"
    # Three agents at once, each with an empty config directory of its own (tmpfs) holding only the onboarding flag:
    # the account's uid and group and the env file from container-args, no home, no credentials anywhere.
    uid=$(id -u csc1) pgid=$(id -g csc1) gid=$(getent group claudeshare | cut -d: -f3)
    pids=()
    for i in 1 2 3; do
      docker run --rm --name cs-agent-$i --user "$uid:$pgid" --group-add "$gid" --security-opt no-new-privileges --cap-drop ALL \
        --env-file /etc/claude-share/oauth-token.env --tmpfs "/agent:uid=$uid,gid=$pgid,mode=0700" \
        --env HOME=/agent --env CLAUDE_CONFIG_DIR=/agent $(test_mounts "$v") $IMAGE \
        sh -c "echo '{\"hasCompletedOnboarding\":true}' >/agent/.claude.json && timeout 60 $(claude_in_image "$v") -p hi; rc=\$?; ls -A /agent >&2; exit \$rc" \
        >/tmp/agent.$i 2>&1 3>&- &
      pids+=($!)
    done
    for i in 1 2 3; do
      wait "${pids[i - 1]}" || fail_v "agent $i: $(cat /tmp/agent.$i)"
      grep -q pong /tmp/agent.$i || fail_v "agent $i: $(cat /tmp/agent.$i)"
      ! grep -q credentials /tmp/agent.$i || fail_v "agent $i wrote a credentials file: $(cat /tmp/agent.$i)"
    done
    [[ "$(grep -c "\"bearer\":\"$setup\"" $FAKE/log.jsonl)" -ge 3 ]] || fail_v "the API did not see the setup-token from each agent"
    # The managed container too, started exactly as container-args says (its links and the env file): the token wins.
    run in_container csc1 "$v" -p hi
    [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "csc1 with the env file: $status $output"
    ! grep -q '"grant":"refresh_token"' $FAKE/log.jsonl || fail_v "something refreshed"
    linked csc1 || fail_v "csc1's link was touched"
    echo "# figure: [$v] token mode: 3 agents at once and the managed container answered with the token alone, no refresh" >&3
    kill $WATCH_PID; wait $WATCH_PID 2>/dev/null || true; WATCH_PID=
  done
}

@test "devcontainer.json as container-args prints it, started the way the devcontainer CLI does (runArgs, mounts, containerUser, containerEnv): logged in" {
  local v json
  for v in $(versions); do
    containers_with_watcher "$(ms_from_now 7200)" csc1
    json=$(claude-share server container-args csc1 --format devcontainer) || fail_v "container-args: $json"
    # runArgs as they are, each mount as --mount, containerUser as --user, containerEnv as --env.
    mapfile -t args < <(node -e '
      const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
      const a = [...d.runArgs, ...d.mounts.flatMap((m) => ["--mount", m]), "--user", d.containerUser,
        ...Object.entries(d.containerEnv).flatMap(([k, x]) => ["--env", `${k}=${x}`])];
      console.log(a.join("\n"));' <<<"$json")
    run docker run --rm "${args[@]}" $(test_mounts "$v") $IMAGE timeout 60 $(claude_in_image "$v") auth status
    [[ $status -eq 0 && "$output" == *'"loggedIn": true'* ]] || fail_v "devcontainer: auth status $status: $output"
    [[ -z "$(issued)" ]] || fail_v "a valid login was refreshed"
    kill $WATCH_PID; wait $WATCH_PID 2>/dev/null || true; WATCH_PID=
  done
}

@test "a compose service as container-args prints it (docker-compose run): a refresh inside it is shared, and a member goes on with the promoted token" {
  local v dir
  command -v docker-compose >/dev/null || fail "docker-compose not found: apt-get install docker-compose"
  for v in $(versions); do
    containers_with_watcher "$(ms_from_now -3600)" csc1
    short_tokens
    dir=$(mktemp -d)
    # The service as a person writes it: the image, the host's network (this sandbox's), then the printed part.
    { printf 'services:\n  csc1:\n    image: %s\n    network_mode: host\n' $IMAGE; claude-share server container-args csc1 --format compose; } >"$dir/docker-compose.yml"
    # What only the test adds (the client, node, the CA) comes from `run`'s own flags, not the file.
    run docker-compose --project-directory "$dir" -f "$dir/docker-compose.yml" -p cs run --rm -T \
      -v "$CACHE/$v:/opt/claude:ro" -v "$(command -v node):/usr/local/bin/node:ro" -v "$CA/ca.crt:/etc/cs-test-ca.crt:ro" \
      -e NODE_EXTRA_CA_CERTS=/etc/cs-test-ca.crt -e DISABLE_TELEMETRY=1 -e DISABLE_ERROR_REPORTING=1 \
      -e CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 -e DISABLE_AUTOUPDATER=1 \
      csc1 timeout 60 $(claude_in_image "$v") -p hi 3>&-
    [[ $status -eq 0 && "$output" == *pong* ]] || fail_v "compose run: $status $output $(cat "$dir/docker-compose.yml")"
    presented_once sk-ant-ort01-r0 || fail_v "the compose service did not refresh with the shared login"
    healed csc1 || fail_v "the compose service's refresh was not shared"
    refreshes csbob "$(issued)" as_member csbob "$v" -p hi
    [[ "$(reused)" -eq 0 ]] || fail_v "a rotated refresh token was presented again"
    rm -rf "$dir"
    kill $WATCH_PID; wait $WATCH_PID 2>/dev/null || true; WATCH_PID=
  done
}
