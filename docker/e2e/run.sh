#!/usr/bin/env bash
# End-to-end tests for claude-share: ONE entry point.
#
#   bash docker/e2e/run.sh [bats files | bats options such as --filter REGEX]...
#   bash docker/e2e/run.sh --exec CMD ARGS...   (CMD instead of bats, e.g. bench/)
#
# The suites (docker/e2e/*.bats) run for real as root: they create and delete
# users with useradd/chpasswd/userdel, write /etc/claude-share, /shared, ...
# So they must only ever run inside a disposable system. This script picks one:
#
#   1. CLAUDE_SHARE_E2E_INSIDE=1 (set by the Dockerfile and by the sandbox
#      below) and the marker file /.claude-share-e2e-sandbox exists:
#      we ARE in the disposable system -> run bats directly.
#   2. A working Docker engine (`docker info` succeeds):
#      docker build -f docker/e2e/Dockerfile -t claude-share-e2e . && docker run
#   3. Root + unshare: a throw-away sandbox made of Linux namespaces
#      (mount, pid, uts, ipc, net) + an overlayfs whose lower layer is the
#      host's / and whose upper layer is a tmpfs + chroot. Every user, file and
#      process created inside vanishes when the sandbox's pid 1 exits.
#   4. Otherwise: exit 2 with an explanation.
#
# CLAUDE_SHARE_E2E_MODE=docker|sandbox forces step 2 or 3.
# Exit code: bats' (or --exec CMD's) exit code (0 = all passed), 2 = cannot run at all,
# 3 = the sandbox leaked into the host (should never happen).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
SELF="$HERE/run.sh"
IMAGE=claude-share-e2e
# Marker file that only exists at the root of a disposable system (the image
# creates it, the sandbox creates it in its overlay). Checked together with
# CLAUDE_SHARE_E2E_INSIDE=1 so that an exported variable alone can never make
# the suites delete users on a real machine.
MARKER=/.claude-share-e2e-sandbox
# State shared by run.sh and test_helper.bash inside the disposable system.
STATE_DIR=/run/claude-share-e2e
# Left behind by 00-sandbox.bats; must NOT be visible on the host afterwards.
CANARY_USER=e2ecanary
CANARY_FILE=.e2e-sandbox-canary

log() { printf 'e2e: %s\n' "$*" >&2; }
die() {
  local code=$1
  shift
  printf 'e2e: ERROR: %s\n' "$*" >&2
  exit "$code"
}
section() { printf '\n==== e2e: %s ====\n' "$*" >&2; }

require_dist() {
  [[ -f "$REPO/dist/src/cli.js" ]] ||
    die 2 "$REPO/dist/src/cli.js not found: run 'npm run build' first (npm test does it for you)."
}

find_bats() {
  # npm does not always link bats into node_modules/.bin (its package.json
  # declares the bin *directory*), so fall back to the package's own script.
  local c
  for c in "$REPO/node_modules/.bin/bats" "$REPO/node_modules/bats/bin/bats"; do
    [[ -x "$c" ]] && {
      printf '%s\n' "$c"
      return 0
    }
  done
  die 2 "bats not found in node_modules: run 'npm ci' first."
}

# Turn arguments that name existing files/dirs (relative to the caller's cwd)
# into repo-relative paths, so they mean the same thing inside Docker (where
# the repo lives elsewhere) and inside the sandbox (whose cwd is the repo).
ARGS=()
normalize_args() {
  local a abs
  ARGS=()
  for a in "$@"; do
    if [[ -e "$a" ]]; then
      abs=$(realpath -- "$a")
      if [[ "$abs" == "$REPO" ]]; then
        a=.
      elif [[ "$abs" == "$REPO"/* ]]; then
        a=${abs#"$REPO"/}
      else
        a=$abs
      fi
    fi
    ARGS+=("$a")
  done
}

###############################################################################
# 1. Inside the disposable system: run the bats suites.
###############################################################################
run_suites() {
  [[ ${EUID:-$(id -u)} -eq 0 ]] || die 2 "the e2e suites must run as root."
  [[ -e "$MARKER" ]] ||
    die 2 "CLAUDE_SHARE_E2E_INSIDE=1 but $MARKER is missing: refusing to run suites that create and delete users on a system that is not disposable. Run 'bash docker/e2e/run.sh' without CLAUDE_SHARE_E2E_INSIDE."
  cd "$REPO"
  require_dist
  local bats
  bats=$(find_bats)

  # The CLI on PATH, for root and for `su - user` login shells alike (su -
  # resets PATH, so a private bin dir would not be seen by other users).
  # /usr/local/bin is fine to write: this system is disposable.
  local node_bin
  node_bin=$(command -v node) || die 2 "node not found on PATH."
  cat >/usr/local/bin/claude-share <<EOF
#!/bin/sh
# claude-share e2e shim (written by docker/e2e/run.sh inside the sandbox)
exec "$node_bin" "$REPO/dist/src/cli.js" "\$@"
EOF
  chmod 0755 /usr/local/bin/claude-share
  # cs (workspace mode): the same program, as install.sh links it.
  cat >/usr/local/bin/cs <<EOF
#!/bin/sh
exec "$node_bin" "$REPO/dist/src/cli/cs.js" "\$@"
EOF
  chmod 0755 /usr/local/bin/cs

  # Non-root test users must be able to run node on the repo's dist/ and
  # node_modules/: make every parent directory of the repo traversable
  # (e.g. when the repo is under /root). Disposable system, so harmless.
  local d=$REPO
  while [[ "$d" != / ]]; do
    chmod o+x "$d"
    d=$(dirname "$d")
  done

  # Baseline of what existed before any test ran, so that reset_state only
  # removes what the tests created. Kept on the first run in this system, so
  # running twice in a row in the same sandbox/container behaves the same.
  mkdir -p "$STATE_DIR"
  if [[ ! -e "$STATE_DIR/baseline-users" ]]; then
    getent passwd | cut -d: -f1 | sort -u >"$STATE_DIR/baseline-users"
    getent group | cut -d: -f1 | sort -u >"$STATE_DIR/baseline-groups"
    if [[ -e /shared ]]; then echo yes; else echo no; fi >"$STATE_DIR/baseline-shared"
  fi
  export CS_REPO="$REPO" CS_E2E_STATE="$STATE_DIR"

  # Hook for benchmarks (bench/run.sh): `run.sh --exec CMD ARGS...` runs CMD
  # instead of bats, in this same disposable system with the same setup (cwd =
  # repo, the claude-share shim, marker, env). CMD's exit code is ours.
  if [[ "${1:-}" == --exec ]]; then
    shift
    [[ $# -gt 0 ]] || die 64 "--exec needs a command, e.g. --exec bash bench/bench.sh"
    section "exec $*"
    local xrc=0
    "$@" || xrc=$?
    return "$xrc"
  fi

  # Default to every suite; keep user-given files/options as they are.
  local a has_paths=0
  for a in "$@"; do
    [[ -e "$a" ]] && has_paths=1
  done
  local args=("$@")
  if [[ $has_paths -eq 0 ]]; then
    shopt -s nullglob
    local suites=(docker/e2e/*.bats)
    shopt -u nullglob
    [[ ${#suites[@]} -gt 0 ]] || die 2 "no docker/e2e/*.bats suites found."
    args+=("${suites[@]}")
  fi

  section "bats ${args[*]}"
  # A case that hangs (a background process a test failed to stop) fails after this long instead of holding CI
  # until its deadline; the slowest case takes about 30 s on an idle machine.
  export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-300}
  local report rc=0
  report=$(mktemp -d /tmp/claude-share-e2e-report.XXXXXX)
  "$bats" --print-output-on-failure --report-formatter tap --output "$report" "${args[@]}" || rc=$?

  # One plain summary line that CI log readers understand.
  local passed=0 failed=0 skipped=0
  if [[ -f "$report/report.tap" ]]; then
    skipped=$(grep -cE '^ok [0-9]+ .*# [Ss][Kk][Ii][Pp]' "$report/report.tap" || true)
    passed=$(($(grep -cE '^ok [0-9]+' "$report/report.tap" || true) - skipped))
    failed=$(grep -cE '^not ok [0-9]+' "$report/report.tap" || true)
  fi
  rm -rf "$report"
  printf 'e2e: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
  if [[ $rc -eq 0 && $failed -gt 0 ]]; then rc=1; fi
  return "$rc"
}

###############################################################################
# 2. Docker engine available.
###############################################################################
docker_works() {
  command -v docker >/dev/null 2>&1 && timeout 30 docker info >/dev/null 2>&1
}

run_in_docker() {
  section "building image $IMAGE (docker/e2e/Dockerfile)"
  docker build -f "$REPO/docker/e2e/Dockerfile" -t "$IMAGE" "$REPO"
  section "running $IMAGE"
  # --network none: the tests must never reach a real OAuth endpoint.
  # SYS_ADMIN (and no AppArmor profile, which would deny mount(2) anyway): one
  # case runs `unshare --mount` and mounts a tmpfs on /proc (60-lifecycle.bats).
  local opts=(--rm --network none --cap-add SYS_ADMIN --security-opt apparmor=unconfined)
  if [[ $# -gt 0 ]]; then
    docker run "${opts[@]}" "$IMAGE" bash docker/e2e/run.sh "$@"
  else
    docker run "${opts[@]}" "$IMAGE"
  fi
}

###############################################################################
# 3a. Host side of the sandbox: start it, wait, check nothing leaked.
###############################################################################
host_fingerprint() {
  # mtime + size + hash: a write that restored the same bytes still shows.
  local f
  for f in /etc/passwd /etc/shadow /etc/group /etc/gshadow; do
    [[ -e "$f" ]] && printf '%s %s %s\n' "$f" "$(stat -c '%Y %s' "$f")" "$(sha256sum <"$f")"
  done
  return 0
}

# The suites drive prompts through a pty (expect), switch users (su: login; the
# README walkthrough: sudo, git),
# manage accounts (passwd) and isolate the network (ip). Missing ones are
# installed from Debian's packages, so the README's test command stands alone.
ensure_tools() {
  local -A need=([expect]=expect [passwd]=useradd [login]=su [util-linux]=unshare [procps]=ps [iproute2]=ip [sudo]=sudo [git]=git)
  local pkg missing=()
  for pkg in "${!need[@]}"; do
    command -v "${need[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  command -v apt-get >/dev/null 2>&1 || die 2 "missing tools for the e2e suites: ${missing[*]} (install them, or use Docker)."
  log "installing ${missing[*]} (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null 2>&1 ||
    { apt-get -o DPkg::Lock::Timeout=600 update -qq </dev/null && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" </dev/null; }
}

run_in_sandbox() {
  require_dist
  ensure_tools
  command -v chroot >/dev/null 2>&1 || die 2 "chroot not found (coreutils)."
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
  grep -qw overlay /proc/filesystems || die 2 "the kernel has no overlayfs: the e2e sandbox needs it (or use Docker)."

  # Mount point for the sandbox's tmpfs. The directory itself is created on
  # the host (and removed on exit); everything mounted on it lives only in
  # the sandbox's private mount namespace.
  local base
  base=$(mktemp -d "${TMPDIR:-/tmp}/claude-share-e2e.XXXXXX")
  # shellcheck disable=SC2064  # expand $base now
  trap "rmdir '$base' 2>/dev/null || true" EXIT

  # Namespaces: mount (private mounts), pid (own /proc; every process dies
  # with the sandbox's pid 1), uts (own hostname), ipc, and net when `ip` can
  # bring the loopback up (tests never reach the real network, but can still
  # use 127.0.0.1). --kill-child: if this script is killed, so is the sandbox.
  local ns=(--mount --pid --uts --ipc --fork --kill-child)
  if command -v ip >/dev/null 2>&1; then
    ns+=(--net)
  else
    log "note: 'ip' (iproute2) not found, the sandbox shares the host's network."
  fi

  local before after rc=0 t0
  before=$(host_fingerprint)
  t0=$(date +%s%N)
  section "starting sandbox: unshare ${ns[*]} + overlay(/) + chroot"
  # In the background + wait, so that a signal to this script tears the
  # sandbox down too: SIGKILL to unshare makes the kernel SIGKILL the
  # sandbox's pid 1 (--kill-child), which takes every process inside with it.
  local pid sig
  unshare "${ns[@]}" /bin/bash "$SELF" __sandbox_init__ "$base" "$@" <&0 &
  pid=$!
  # shellcheck disable=SC2064  # expand $pid now
  for sig in INT:130 TERM:143 HUP:129; do
    trap "kill -KILL $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; log 'interrupted, sandbox killed'; exit ${sig#*:}" "${sig%:*}"
  done
  wait "$pid" || rc=$?
  trap - INT TERM HUP
  log "sandbox exited with status $rc after $((($(date +%s%N) - t0) / 1000000)) ms (torn down)"

  # Paranoia: prove that nothing leaked to the host.
  after=$(host_fingerprint)
  if [[ "$before" != "$after" ]]; then
    log "LEAK: the host's /etc/passwd|shadow|group|gshadow changed during the sandboxed run:"
    diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") >&2 || true
    rc=3
  fi
  if getent passwd "$CANARY_USER" >/dev/null 2>&1; then
    log "LEAK: user '$CANARY_USER' created inside the sandbox exists on the host."
    rc=3
  fi
  if [[ -e "$REPO/$CANARY_FILE" ]]; then
    log "LEAK: $REPO/$CANARY_FILE written inside the sandbox exists on the host."
    rc=3
  fi
  return "$rc"
}

###############################################################################
# 3b. Sandbox side: runs as pid 1 of the new namespaces (unshare --fork).
###############################################################################
sandbox_init() {
  local base=$1
  shift
  local r="$base/root"

  # Private propagation, so no mount made below can reach the host (unshare
  # already defaults to this; be explicit).
  mount --make-rprivate /

  # A tmpfs holds the overlay's upper+work dirs: overlayfs needs them on a
  # filesystem with xattrs/d_type, and tmpfs is freed with the namespace.
  mount -t tmpfs -o mode=0755 claude-share-e2e "$base"
  mkdir -p "$r" "$base/upper" "$base/work" "$base/repo-upper" "$base/repo-work"

  # The disposable root: the host's / read-only underneath, every write
  # (useradd, /etc/claude-share, /home/...) goes to the tmpfs. lowerdir=/ is
  # the root filesystem only: other mounts (/proc, /dev, a separate /work...)
  # are not seen through it, hence the mounts below.
  mount -t overlay claude-share-e2e-root \
    -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" "$r" ||
    die 2 "cannot mount an overlay with lowerdir=/ (is / itself unsupported as an overlay lower layer?)."

  # /proc of the NEW pid namespace: ps/pgrep/kill only see sandbox processes.
  mount -t proc -o nosuid,nodev,noexec proc "$r/proc"

  # A fresh read-only sysfs (nothing in the tests should write to /sys);
  # fall back to a bind of the host's if a fresh one cannot be mounted.
  mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$r/sys" 2>/dev/null ||
    mount --rbind /sys "$r/sys"

  # A minimal /dev on tmpfs, so the tests cannot touch the host's /dev:
  # the usual character devices are bind-mounted from the host...
  mount -t tmpfs -o mode=0755,nosuid,noexec dev "$r/dev"
  local n
  for n in null zero full random urandom tty; do
    if [[ -e "/dev/$n" ]]; then
      touch "$r/dev/$n"
      mount --bind "/dev/$n" "$r/dev/$n"
    fi
  done
  # ...FUSE for the workspace suite's sshfs (test/workspace): a node of our own, 0666 as on any distribution, so
  # the host's own /dev/fuse (0600 on some hosts) keeps its mode; a bind of it only if mknod is not allowed here...
  if [[ -c /dev/fuse ]]; then
    mknod -m 0666 "$r/dev/fuse" c 10 229 2>/dev/null || { touch "$r/dev/fuse" && mount --bind /dev/fuse "$r/dev/fuse"; }
  fi
  # ...a private devpts instance gives su/expect/script their own pseudo-
  # terminals (gid 5 = tty on Debian/Ubuntu)...
  mkdir -p "$r/dev/pts" "$r/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$r/dev/pts"
  ln -s pts/ptmx "$r/dev/ptmx"
  # ...plus the standard symlinks and a private /dev/shm.
  ln -s /proc/self/fd "$r/dev/fd"
  ln -s /proc/self/fd/0 "$r/dev/stdin"
  ln -s /proc/self/fd/1 "$r/dev/stdout"
  ln -s /proc/self/fd/2 "$r/dev/stderr"
  mount -t tmpfs -o mode=1777,nosuid,nodev shm "$r/dev/shm"

  # Empty, writable /tmp and /run (lock files, pid files, bats' temp dirs);
  # /var/run is a symlink to /run on Debian/Ubuntu.
  mount -t tmpfs -o mode=1777,nosuid,nodev tmp "$r/tmp"
  mount -t tmpfs -o mode=0755,nosuid,nodev run "$r/run"
  mkdir -m 1777 "$r/run/lock"

  # The repo (with node_modules and dist) at the same path inside, through
  # its own overlay: visible even if it is on another mount or under /tmp,
  # and copy-on-write so the tests can never modify the real checkout.
  mkdir -p "$r$REPO"
  mount -t overlay claude-share-e2e-repo \
    -o "lowerdir=$REPO,upperdir=$base/repo-upper,workdir=$base/repo-work" "$r$REPO"

  # node must be reachable inside; if its install prefix is on a filesystem
  # the root overlay does not show, bind it read-only.
  local node_bin node_real node_prefix
  node_bin=$(command -v node) || die 2 "node not found on PATH."
  node_real=$(realpath "$node_bin")
  if [[ ! -x "$r$node_real" ]]; then
    node_prefix=$(dirname "$(dirname "$node_real")")
    mkdir -p "$r$node_prefix"
    mount --bind "$node_prefix" "$r$node_prefix"
    mount -o remount,bind,ro "$r$node_prefix"
  fi

  # A container engine inside (the real-client suite's containers.bats runs dockerd here): its data root on the
  # host's disk (overlayfs cannot be the upper layer of the engine's own overlays), and the cgroup hierarchies
  # writable (the fresh sysfs above is read-only). Only when the caller asks for it.
  if [[ -n "${CLAUDE_SHARE_E2E_DOCKER_DATA:-}" ]]; then
    [[ -d "$CLAUDE_SHARE_E2E_DOCKER_DATA" ]] || die 2 "CLAUDE_SHARE_E2E_DOCKER_DATA=$CLAUDE_SHARE_E2E_DOCKER_DATA is not a directory."
    mkdir -p "$r/var/lib/docker"
    mount --bind "$CLAUDE_SHARE_E2E_DOCKER_DATA" "$r/var/lib/docker"
    mount --rbind /sys/fs/cgroup "$r/sys/fs/cgroup"
  fi

  # Mark the root as disposable (see MARKER), name the host, bring lo up.
  touch "$r$MARKER"
  hostname claude-share-e2e
  # sudo resolves the host's name (the README walkthrough runs it): the overlay's /etc/hosts knows it.
  grep -qw claude-share-e2e "$r/etc/hosts" 2>/dev/null || echo '127.0.1.1 claude-share-e2e' >>"$r/etc/hosts"
  if command -v ip >/dev/null 2>&1; then ip link set lo up 2>/dev/null || true; fi

  # Run this script again inside the chroot, in "inside" mode, with a clean,
  # predictable environment. Its exit code becomes ours; when we (pid 1)
  # exit, the kernel kills whatever is left and frees every mount.
  local path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  case ":$path:" in *":$(dirname "$node_bin"):"*) ;; *) path="$(dirname "$node_bin"):$path" ;; esac
  local envv=(
    "PATH=$path" HOME=/root USER=root LOGNAME=root SHELL=/bin/bash
    "TERM=${TERM:-dumb}" "LANG=${LANG:-C.UTF-8}" CLAUDE_SHARE_E2E_INSIDE=1
  )
  local v
  for v in CI LC_ALL TZ NO_COLOR CLAUDE_SHARE_REAL_CLIENT_VERSIONS CLAUDE_SHARE_REAL_CLIENT_CACHE CLAUDE_SHARE_REAL_CLIENT_CA CLAUDE_SHARE_E2E_DOCKER_DATA CLAUDE_SHARE_CONTAINER_TREE; do
    [[ -n "${!v:-}" ]] && envv+=("$v=${!v}")
  done
  # Run it in the background and wait: pid 1 of a pid namespace only
  # receives the signals it handles, so on INT/TERM/HUP we simply exit and the
  # kernel SIGKILLs every process left in the sandbox. (<&0: keep stdin,
  # which bash would otherwise replace with /dev/null for a background job.)
  local rc=0 child
  chroot "$r" /usr/bin/env -i "${envv[@]}" /bin/bash "$SELF" "$@" <&0 &
  child=$!
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  wait "$child" || rc=$?
  exit "$rc"
}

###############################################################################
main() {
  if [[ "${1:-}" == __sandbox_init__ ]]; then
    shift
    sandbox_init "$@"
  fi

  normalize_args "$@"
  set -- ${ARGS[@]+"${ARGS[@]}"}

  if [[ "${CLAUDE_SHARE_E2E_INSIDE:-}" == 1 ]]; then
    run_suites "$@"
    return
  fi

  local mode=${CLAUDE_SHARE_E2E_MODE:-auto}
  case "$mode" in
    docker)
      run_in_docker "$@"
      ;;
    sandbox)
      [[ ${EUID:-$(id -u)} -eq 0 ]] || die 2 "CLAUDE_SHARE_E2E_MODE=sandbox needs root."
      command -v unshare >/dev/null 2>&1 || die 2 "unshare (util-linux) not found."
      run_in_sandbox "$@"
      ;;
    auto)
      if docker_works; then
        run_in_docker "$@"
      elif [[ ${EUID:-$(id -u)} -eq 0 ]] && command -v unshare >/dev/null 2>&1; then
        run_in_sandbox "$@"
      else
        die 2 "end-to-end tests create real users, so they need either a working Docker engine ('docker info' failed) or root with unshare(1) for the namespace sandbox. Re-run as root (sudo npm run test:e2e) or start Docker."
      fi
      ;;
    *)
      die 2 "CLAUDE_SHARE_E2E_MODE must be docker, sandbox or auto (got '$mode')."
      ;;
  esac
}

main "$@"
