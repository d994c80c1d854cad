#!/usr/bin/env bash
# The Docker leg of the end-to-end tests: every docker/e2e/*.bats suite, in a
# container of docker/e2e/Dockerfile built on a local Debian base.
#
#   bash test/docker/run.sh [bats files | bats options such as --filter REGEX]...
#   (npm run test:docker)
#
# As root, on a Debian/Ubuntu host with apt, without Docker Hub:
#   1. installs docker.io if dockerd is missing;
#   2. starts a PRIVATE dockerd (own data-root under $CACHE, own exec-root,
#      socket and containerd namespace; --iptables=false --bridge=none) and
#      stops it on exit. A system Docker, if any, is never touched;
#   3. imports the debootstrapped tree of test/fresh/tree.sh SUITE as the base
#      image claude-share-base:SUITE (again only when the tree changed);
#   4. builds docker/e2e/Dockerfile on it (--network host: there is no bridge;
#      npm and apt reach their registries as the host does, and the host's
#      extra CA certificates are handed to the build in docker/e2e/extra-ca/);
#   5. runs `bash docker/e2e/run.sh ARGS` in a container with --network none.
# Exit code: the suites' (0 = all passed); 2 = the harness itself failed.
# The last line is plain: `docker: N passed, N failed, N skipped`.
#
# Environment:
#   CLAUDE_SHARE_DOCKER_SUITE  bookworm (default: Debian 12) or trixie
#   CLAUDE_SHARE_DOCKER_TREE   use this root tree instead of test/fresh/tree.sh's
#   CLAUDE_SHARE_DOCKER_CACHE  default /var/cache/claude-share-docker (dockerd's data-root lives there)
#   CLAUDE_SHARE_DOCKER_JOBS   run the suite files in N containers side by side (default 1)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
SUITE=${CLAUDE_SHARE_DOCKER_SUITE:-bookworm}
CACHE=${CLAUDE_SHARE_DOCKER_CACHE:-/var/cache/claude-share-docker}
RUNDIR=/run/claude-share-docker
SOCK=$RUNDIR/docker.sock
BASE_IMAGE=claude-share-base:$SUITE
IMAGE=claude-share-e2e:$SUITE
EXTRA_CA="$REPO/docker/e2e/extra-ca"
export DOCKER_HOST=unix://$SOCK DOCKER_BUILDKIT=0
unset DOCKER_CONTEXT DOCKER_CONFIG

log() { printf 'docker-e2e: %s\n' "$*" >&2; }
die() {
  printf 'docker-e2e: ERROR: %s\n' "$2" >&2
  printf 'docker: 0 passed, 0 failed, 0 skipped (harness error)\n'
  exit "$1"
}
section() { printf '\n==== docker-e2e: %s ====\n' "$*" >&2; }
now_ms() { date +%s%3N; }
T0=$(now_ms)
TIMES=()
lap() { # NAME START_MS
  TIMES+=("$1 $((($(now_ms) - $2) / 100))")
}
print_times() {
  local t out=
  for t in ${TIMES[@]+"${TIMES[@]}"}; do
    out+="${t% *} $((${t##* } / 10)).$((${t##* } % 10))s, "
  done
  log "times: ${out}total $((($(now_ms) - T0) / 1000))s"
}

[[ $(id -u) -eq 0 ]] || die 2 "run as root (it starts a private dockerd): sudo npm run test:docker"
case "$SUITE" in bookworm | trixie) ;; *) die 2 "CLAUDE_SHARE_DOCKER_SUITE must be bookworm or trixie (got $SUITE)" ;; esac

apt_install() {
  log "installing $* (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" </dev/null >&2 ||
    { apt-get -o DPkg::Lock::Timeout=600 update -qq </dev/null >&2 && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" </dev/null >&2; } ||
    die 2 "cannot install $*"
}

# Debian's client, which matches Debian's dockerd (a newer client elsewhere on
# PATH, e.g. /usr/local/bin/docker, would want buildx for `docker build`).
[[ -x /usr/sbin/dockerd && -x /usr/bin/docker ]] || apt_install docker.io
DOCKER=/usr/bin/docker
command -v flock >/dev/null || die 2 "flock (util-linux) not found"

mkdir -p "$CACHE" "$RUNDIR"
chmod 0700 "$CACHE" "$RUNDIR"
# One run at a time: a second one waits (they would share the daemon).
exec 8>"$CACHE/run.lock"
if ! flock -n 8; then
  log "another test:docker run holds $CACHE/run.lock; waiting"
  flock 8
fi

###############################################################################
# The private dockerd.
###############################################################################
DOCKERD_PID=
CONTAINER=claude-share-e2e-$$
stop_dockerd() {
  [[ -n "$DOCKERD_PID" ]] || return 0
  local ids
  ids=$("$DOCKER" ps -aq --filter "name=$CONTAINER" 2>/dev/null || true)
  [[ -z "$ids" ]] || "$DOCKER" rm -f $ids >/dev/null 2>&1 || true
  kill -TERM "$DOCKERD_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 150); do
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "$DOCKERD_PID" 2>/dev/null || true
  wait "$DOCKERD_PID" 2>/dev/null || true
  DOCKERD_PID=
}
on_exit() {
  local rc=$?
  stop_dockerd
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

start_dockerd() {
  # A dockerd left by a run that was SIGKILLed (we hold the run lock, so
  # nobody else uses it): stop it, or the new one refuses its pid file.
  local old
  old=$(cat "$RUNDIR/dockerd.pid" 2>/dev/null || true)
  if [[ "$old" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$old/comm" 2>/dev/null)" == dockerd ]] &&
    tr '\0' ' ' <"/proc/$old/cmdline" | grep -qF -- "--host unix://$SOCK"; then
    log "stopping a dockerd left by an earlier run (pid $old)"
    kill -TERM "$old" 2>/dev/null || true
    local i
    for i in $(seq 1 150); do
      kill -0 "$old" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$old" 2>/dev/null || true
  fi
  rm -f "$SOCK"
  local t=$(now_ms)
  # --bridge=none --iptables=false: no network set-up on the host at all (builds
  # use --network host, the tests --network none). Own exec-root, pid file and
  # containerd namespace: independent of any system Docker.
  dockerd --data-root "$CACHE/data" --exec-root "$RUNDIR/exec" --pidfile "$RUNDIR/dockerd.pid" \
    --host "unix://$SOCK" --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
    --containerd-namespace claude-share-e2e --containerd-plugins-namespace claude-share-e2e-plugins \
    --log-level warn >"$CACHE/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  local i
  for i in $(seq 1 300); do
    if "$DOCKER" version >/dev/null 2>&1; then
      lap dockerd "$t"
      return 0
    fi
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.2
  done
  tail -n 30 "$CACHE/dockerd.log" >&2 || true
  die 2 "the private dockerd did not start (log: $CACHE/dockerd.log)"
}

###############################################################################
# The base image: the debootstrapped tree, imported.
###############################################################################
import_base() {
  local tree=${CLAUDE_SHARE_DOCKER_TREE:-} use_lock=
  if [[ -z "$tree" ]]; then
    [[ -f "$REPO/test/fresh/tree.sh" ]] || die 2 "test/fresh/tree.sh not found (set CLAUDE_SHARE_DOCKER_TREE=/a/debootstrapped/tree)"
    tree=$(bash "$REPO/test/fresh/tree.sh" "$SUITE") || die 2 "test/fresh/tree.sh $SUITE failed"
    # tree.sh deletes a replaced tree only when nobody holds this lock.
    use_lock="$(dirname "$tree")/.$SUITE.use"
  fi
  [[ -x "$tree/bin/sh" && -d "$tree/etc/apt" ]] || die 2 "$tree is not a Debian root tree"
  # The tree's identity: tree.sh's stamp (rewritten on every build), else a
  # listing of names, sizes and times.
  local id
  if [[ -f "$tree/.claude-share-fresh-tree" ]]; then
    id=$(cat "$tree/.claude-share-fresh-tree")
  else
    id=$(cd "$tree" && find . -xdev -printf '%p %s %T@\n' | sort | sha256sum)
  fi
  id=$(printf '%s\n%s\n' "$(realpath "$tree")" "$id" | sha256sum | cut -c1-16)
  local have
  have=$("$DOCKER" image inspect -f '{{ index .Config.Labels "claude-share.tree" }}' "$BASE_IMAGE" 2>/dev/null || true)
  if [[ "$have" == "$id" ]]; then
    log "$BASE_IMAGE is up to date with $tree"
    return 0
  fi
  local t=$(now_ms)
  log "importing $tree as $BASE_IMAGE"
  # /dev, /proc and /sys are the runtime's; the package cache is dead weight.
  local tar=(tar --numeric-owner --one-file-system -C "$tree"
    --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* --exclude=./var/cache/apt/archives/*.deb -cf - .)
  local changes=(--change "LABEL claude-share.tree=$id"
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    --change 'CMD ["bash"]')
  if [[ -n "$use_lock" ]]; then
    flock -s "$use_lock" "${tar[@]}" | "$DOCKER" import "${changes[@]}" - "$BASE_IMAGE" >/dev/null
  else
    "${tar[@]}" | "$DOCKER" import "${changes[@]}" - "$BASE_IMAGE" >/dev/null
  fi || die 2 "docker import of $tree failed"
  lap import "$t"
}

###############################################################################
# The test image.
###############################################################################
sync_extra_ca() {
  # The host's extra CA certificates (an HTTPS proxy's), for npm and apt in the
  # build. Rewritten only when they differ, so the build cache stays valid.
  mkdir -p "$EXTRA_CA"
  local want have
  want=$(cd /usr/local/share/ca-certificates 2>/dev/null && find . -maxdepth 1 -name '*.crt' -type f -exec sha256sum {} + | sort) || want=
  have=$(cd "$EXTRA_CA" && find . -maxdepth 1 -name '*.crt' -type f -exec sha256sum {} + | sort)
  # Modes are part of the build cache's key: the same ones whatever the umask
  # of the checkout (git archive, for one, gives 0775/0664).
  chmod 0755 "$EXTRA_CA"
  chmod 0644 "$EXTRA_CA/.gitignore" 2>/dev/null || true
  [[ "$want" == "$have" ]] && return 0
  find "$EXTRA_CA" -maxdepth 1 -name '*.crt' -delete
  if [[ -n "$want" ]]; then
    cp /usr/local/share/ca-certificates/*.crt "$EXTRA_CA/"
    chmod 0644 "$EXTRA_CA"/*.crt
  fi
}

build_image() {
  sync_extra_ca
  local t=$(now_ms)
  section "docker build $IMAGE (BASE=$BASE_IMAGE)"
  "$DOCKER" build --network host --build-arg "BASE=$BASE_IMAGE" \
    -f "$REPO/docker/e2e/Dockerfile" -t "$IMAGE" "$REPO" >&2 || die 2 "docker build failed"
  lap build "$t"
  # Images replaced by this build (and their layers) are not needed any more.
  "$DOCKER" image prune -f >/dev/null 2>&1 || true
}

###############################################################################
# The suites.
###############################################################################
ARGS=()
for a in "$@"; do
  # A path to a file of the repo means the same file inside the image.
  if [[ -e "$a" ]]; then
    abs=$(realpath -- "$a")
    if [[ "$abs" == "$REPO" ]]; then
      a=.
    elif [[ "$abs" == "$REPO"/* ]]; then a=${abs#"$REPO"/}; fi
  fi
  ARGS+=("$a")
done

# One container: `docker run ... bash docker/e2e/run.sh ARGS`, its output to
# stdout. The container is removed on exit (and by stop_dockerd if we are
# interrupted).
run_container() { # NAME ARGS...
  local name=$1
  shift
  # --network none: the tests must never reach a real OAuth endpoint.
  # No --init: the suites check that pid 1 is run.sh.
  # --cap-add SYS_ADMIN: one case (60-lifecycle.bats, the self-test without
  # /proc) runs `unshare --mount` and mounts a tmpfs on /proc; Docker's default
  # seccomp profile allows unshare(2) and mount(2) only with CAP_SYS_ADMIN, and
  # AppArmor's docker-default profile (on hosts that have AppArmor) denies
  # mount(2) even then. Everything else runs with Docker's default capabilities
  # (useradd/chpasswd/su/chown/setuid all are among them); no --privileged.
  "$DOCKER" run --rm --name "$name" --network none --hostname claude-share-e2e \
    --cap-add SYS_ADMIN --security-opt apparmor=unconfined \
    "$IMAGE" bash docker/e2e/run.sh "$@" </dev/null 2>&1
}

# Shards: CLAUDE_SHARE_DOCKER_JOBS=N runs the suite files in N containers side
# by side (each its own disposable system, so they cannot see each other's
# users), the longest files first, each to the least loaded container. A
# file's length is its duration in the last full run ($SECONDS_FILE), else a
# guess from its size.
SECONDS_FILE="$CACHE/suite-seconds"
SHARD_FILES=() OPTS=() RECORD=1
plan_shards() {
  local jobs=${CLAUDE_SHARE_DOCKER_JOBS:-1} a f files=()
  [[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die 2 "CLAUDE_SHARE_DOCKER_JOBS must be a positive number (got $jobs)"
  for a in ${ARGS[@]+"${ARGS[@]}"}; do
    if [[ "$a" == *.bats && -f "$REPO/$a" && "$a" != *[[:space:]]* ]]; then
      files+=("$a")
    else
      [[ "$a" == --timing || "$a" == -T ]] && continue
      # A directory or other path: left to bats, in one container; any other
      # option (--filter...) runs only some tests: no durations recorded.
      [[ -e "$REPO/$a" || -e "$a" ]] && jobs=1
      RECORD=0
      OPTS+=("$a")
    fi
  done
  # Per-test durations on the TAP lines, for the record (and for the reader).
  OPTS+=(--timing)
  if [[ ${#files[@]} -eq 0 ]]; then
    for f in "$REPO"/docker/e2e/*.bats; do files+=("docker/e2e/${f##*/}"); done
    # (with a directory among the arguments, bats picks the files itself)
    [[ $jobs -gt 1 || $RECORD -eq 1 ]] || files=()
  fi
  ((jobs <= ${#files[@]})) || jobs=${#files[@]}
  ((jobs >= 1)) || jobs=1
  if ((jobs == 1)); then
    SHARD_FILES=("${files[*]+"${files[*]}"}")
    return 0
  fi
  local -a load names
  local i best w
  for ((i = 0; i < jobs; i++)); do load[i]=0 names[i]=; done
  while read -r w f; do
    best=0
    for ((i = 1; i < jobs; i++)); do ((load[i] < load[best])) && best=$i; done
    load[best]=$((load[best] + w))
    names[best]+=" $f"
  done < <(for f in "${files[@]}"; do printf '%s %s\n' "$(file_weight "$f")" "$f"; done | sort -rn)
  SHARD_FILES=()
  for ((i = 0; i < jobs; i++)); do SHARD_FILES+=("${names[i]# }"); done
}
file_weight() { # FILE -> seconds (recorded, else about 1 s per 50 bytes)
  local w
  w=$(awk -v f="$1" '$1 == f { print $2 }' "$SECONDS_FILE" 2>/dev/null | tail -n 1)
  [[ "$w" =~ ^[0-9]+$ ]] || w=$(($(stat -c %s "$REPO/$1") / 50))
  printf '%s\n' "$w"
}
record_seconds() { # LOG FILES... (bats ran FILES in this order, --timing)
  local log=$1 f n first=1 last secs
  shift
  [[ $RECORD -eq 1 ]] || return 0
  local -A ms=()
  while read -r n secs; do ms[$n]=$secs; done < <(sed -nE 's/^(not )?ok ([0-9]+) .* # in ([0-9]+) ms$/\2 \3/p' "$log")
  touch "$SECONDS_FILE"
  for f in "$@"; do
    last=$((first + $(grep -c '^@test' "$REPO/$f") - 1))
    secs=0
    for ((n = first; n <= last; n++)); do secs=$((secs + ${ms[$n]:-0})); done
    first=$((last + 1))
    { grep -v "^$f " "$SECONDS_FILE" || true; printf '%s %d\n' "$f" $(((secs + 500) / 1000)); } >"$SECONDS_FILE.new"
    mv "$SECONDS_FILE.new" "$SECONDS_FILE"
  done
}

run_suites() {
  local t=$(now_ms) rc=0 dir
  dir=$(mktemp -d)
  plan_shards
  # (SHARD_FILES[i]: file names without spaces, split on purpose.)
  # shellcheck disable=SC2086
  if [[ ${#SHARD_FILES[@]} -eq 1 ]]; then
    section "docker run --network none $IMAGE bash docker/e2e/run.sh ${OPTS[*]} ${SHARD_FILES[0]}"
    { run_container "$CONTAINER" "${OPTS[@]}" ${SHARD_FILES[0]}; echo "$?" >"$dir/0.rc"; } | tee "$dir/0.log"
  else
    # Output per container, printed whole when it ends (not interleaved).
    # (Waits name the containers' pids: dockerd is a child of this shell too.)
    local i done_pid
    local -A shard_of=()
    for i in "${!SHARD_FILES[@]}"; do
      log "container $i: bash docker/e2e/run.sh ${OPTS[*]} ${SHARD_FILES[i]}"
      { run_container "$CONTAINER-$i" "${OPTS[@]}" ${SHARD_FILES[i]}; echo "$?" >"$dir/$i.rc"; } >"$dir/$i.log" &
      shard_of[$!]=$i
    done
    while [[ ${#shard_of[@]} -gt 0 ]]; do
      done_pid=
      wait -n -p done_pid "${!shard_of[@]}" || true
      if [[ -z "$done_pid" || -z "${shard_of[$done_pid]:-}" ]]; then
        # Nothing reaped (should not happen): take any container that is gone.
        for done_pid in "${!shard_of[@]}"; do kill -0 "$done_pid" 2>/dev/null || break; done
        kill -0 "$done_pid" 2>/dev/null && { sleep 0.5; continue; }
      fi
      i=${shard_of[$done_pid]}
      unset "shard_of[$done_pid]"
      section "container $i, done after $((($(now_ms) - t) / 1000))s: ${SHARD_FILES[i]}"
      cat "$dir/$i.log"
    done
  fi
  lap run "$t"
  local passed=0 failed=0 skipped=0 line r bad=0
  for i in "${!SHARD_FILES[@]}"; do
    r=$(cat "$dir/$i.rc" 2>/dev/null || echo 2)
    # shellcheck disable=SC2086
    record_seconds "$dir/$i.log" ${SHARD_FILES[i]}
    line=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$dir/$i.log" | tail -n 1 || true)
    if [[ "$line" =~ ^e2e:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped ]]; then
      passed=$((passed + BASH_REMATCH[1])) failed=$((failed + BASH_REMATCH[2])) skipped=$((skipped + BASH_REMATCH[3]))
    else
      log "container $i gave no summary (exit $r)"
      bad=1
      [[ $r -ne 0 ]] || r=2
    fi
    [[ $rc -ne 0 ]] || rc=$r
  done
  rm -rf "$dir"
  print_times
  printf 'docker: %d passed, %d failed, %d skipped%s\n' "$passed" "$failed" "$skipped" \
    "$( ((bad)) && echo ' (a container gave no summary)')"
  return "$rc"
}

section "private dockerd ($SOCK, data-root $CACHE/data)"
start_dockerd
import_base
build_image
rc=0
run_suites || rc=$?
exit "$rc"
