#!/usr/bin/env bash
# Print the path of a cached, freshly debootstrapped Debian tree; build it first if it is missing.
#
#   bash test/fresh/tree.sh SUITE [--rebuild]      SUITE: bookworm (Debian 12) or trixie (Debian 13)
#
# stdout: the tree's path and nothing else (callers do `tree=$(tree.sh bookworm)`); progress goes to stderr.
# Used by test/fresh/run.sh and by the Docker leg, so it stands alone (root, Debian host with apt).
#
# The tree is what a newcomer's new server looks like: `debootstrap --variant=minbase` plus the three packages a
# person needs to follow the README at all (ca-certificates, git to clone, sudo because the README says sudo).
# Nothing else is pre-installed: installing Node.js and npm is install.sh's job, and that is what the suite tests.
# Only this machine's plumbing is added, because this build network reaches deb.debian.org and the npm registry
# only through a proxy: resolv.conf, apt sources (+ the host's Check-Valid-Until setting), the proxy's CA
# certificates, and the npm config.
#
# Cache: $CLAUDE_SHARE_FRESH_CACHE (default /var/cache/claude-share-fresh)/SUITE. Built in a temporary directory
# next to it and renamed into place, so an interrupted build never leaves a half tree behind; a flock keeps two
# callers from building the same suite at once (the second waits, then finds the tree).
# CLAUDE_SHARE_FRESH_MAX_AGE_DAYS (default 30): an older tree is rebuilt, so its packages do not drift far from
# what the archive serves. --rebuild rebuilds now.
# Callers that use the tree as an overlay lowerdir hold a shared flock on $CACHE/.SUITE.use meanwhile
# (`flock -s`): a replaced tree is only deleted when nobody holds it (overlayfs must not see its lower layer change).
set -euo pipefail

CACHE=${CLAUDE_SHARE_FRESH_CACHE:-/var/cache/claude-share-fresh}
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security
MAX_AGE_DAYS=${CLAUDE_SHARE_FRESH_MAX_AGE_DAYS:-30}
# Bump when the recipe below changes: a tree built by an older recipe is rebuilt.
RECIPE=1
STAMP=.claude-share-fresh-tree

log() { printf 'fresh-tree: %s\n' "$*" >&2; }
die() {
  printf 'fresh-tree: ERROR: %s\n' "$1" >&2
  exit "${2:-1}"
}

usage() { die "usage: $0 bookworm|trixie [--rebuild]" 64; }
# set -e stops silently; say where.
trap 'printf "fresh-tree: ERROR: command failed at line %s (exit %s)\n" "$LINENO" "$?" >&2' ERR

suite=${1:-}
[[ $# -ge 1 ]] || usage
shift
rebuild=0
for a in "$@"; do
  case "$a" in
    --rebuild) rebuild=1 ;;
    *) usage ;;
  esac
done
case "$suite" in
  bookworm | trixie) ;;
  *) usage ;;
esac

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot)." 77
[[ "$MAX_AGE_DAYS" =~ ^[0-9]+$ ]] || die "CLAUDE_SHARE_FRESH_MAX_AGE_DAYS must be a number of days." 64

final="$CACHE/$suite"

# A usable tree: complete (stamp written last, before the rename), same recipe, not too old.
tree_ok() {
  local stamp="$final/$STAMP" recipe built
  [[ -f "$stamp" ]] || return 1
  recipe=$(sed -n 's/^recipe=//p' "$stamp")
  built=$(sed -n 's/^built=//p' "$stamp")
  [[ "$recipe" == "$RECIPE" && "$built" =~ ^[0-9]+$ ]] || return 1
  (($(date +%s) - built <= MAX_AGE_DAYS * 86400))
}

mkdir -p "$CACHE"
chmod 0755 "$CACHE"

# Fast path without the lock: a finished tree is only ever replaced by rename, never modified.
if [[ $rebuild -eq 0 ]] && tree_ok; then
  printf '%s\n' "$final"
  exit 0
fi

exec 9>"$CACHE/.$suite.lock"
if ! flock -n 9; then
  log "another process is building $suite; waiting for it"
  flock 9
fi
# Whoever held the lock may have just built it.
if [[ $rebuild -eq 0 ]] && tree_ok; then
  printf '%s\n' "$final"
  exit 0
fi

# Leftovers of interrupted builds (we hold the lock, so nobody is using them). debootstrap ran in its own mount
# and pid namespaces (below), so nothing can still run or be mounted inside them, and rm -rf cannot reach the
# host's /proc or /dev.
shopt -s nullglob
for old in "$CACHE/.$suite.build."*; do
  log "removing leftover $old"
  rm -rf --one-file-system "$old"
done
shopt -u nullglob
remove_old_trees() {
  # Replaced trees: only when no sandbox holds the use lock (else the next build tries again).
  local old
  shopt -s nullglob
  for old in "$CACHE/.$suite.old."*; do
    if flock -n -x "$CACHE/.$suite.use" true; then
      log "removing replaced tree $old"
      rm -rf --one-file-system "$old"
    else
      log "keeping replaced tree $old: a sandbox still uses it"
    fi
  done
  shopt -u nullglob
}
remove_old_trees

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends debootstrap </dev/null >&2 ||
    { apt-get -o DPkg::Lock::Timeout=600 update -qq </dev/null >&2 && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends debootstrap </dev/null >&2; }
fi
[[ -e "/usr/share/debootstrap/scripts/$suite" ]] || die "this debootstrap does not know $suite (upgrade debootstrap)." 69

tmp=$(mktemp -d "$CACHE/.$suite.build.XXXXXX")
# The long steps run as `isolated` children: in their own mount and pid namespaces, in the background, so that a
# signal reaches this shell at once (bash runs traps only after a foreground child ends) and killing the child's
# unshare kills every process of the step (--kill-child) before the half-built tree is removed.
child=
isolated() {
  unshare --mount --propagation private --pid --fork --kill-child "$@" </dev/null >&2 &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=
  return "$rc"
}
cleanup() {
  if [[ -n "$child" ]]; then
    kill -KILL "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
chmod 0755 "$tmp"

t0=$(date +%s)
log "debootstrap --variant=minbase $suite into $tmp (a few minutes)"
# Own mount namespace with private propagation: debootstrap mounts /proc, /sys and sometimes /dev inside the
# target; those mounts die with the namespace even if it is killed halfway, and never show on the host.
# Its output goes to stderr (stdout is for the path only); on failure, its log is the interesting part.
if ! isolated debootstrap --variant=minbase --include=ca-certificates,git,sudo \
  --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
  "$suite" "$tmp" "$MIRROR"; then
  [[ -f "$tmp/debootstrap/debootstrap.log" ]] && tail -n 30 "$tmp/debootstrap/debootstrap.log" >&2
  die "debootstrap $suite failed (see above)." 1
fi

# --- The machine's plumbing (what a newcomer's server already has: working DNS, apt, TLS) ---

# DNS: this machine's resolver.
install -m 0644 /etc/resolv.conf "$tmp/etc/resolv.conf"

# A hostname that resolves, as on any installed server (sudo warns "unable to resolve host" otherwise).
# run.sh gives the sandbox this hostname (--uts).
printf 'fresh-%s\n' "$suite" >"$tmp/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tfresh-%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$suite" >"$tmp/etc/hosts"

# apt: the suite, its updates and its security archive, as the Debian installer sets them up (deb822).
rm -f "$tmp/etc/apt/sources.list"
cat >"$tmp/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# This machine's archive access may serve Release files past their Valid-Until; keep the host's setting.
apt_conf=(/etc/apt/apt.conf.d)
[[ -f /etc/apt/apt.conf ]] && apt_conf+=(/etc/apt/apt.conf)
if grep -rhi -E 'Acquire::Check-(Valid-Until|Date)' "${apt_conf[@]}" >"$tmp/etc/apt/apt.conf.d/99claude-share-fresh-host"; then
  log "kept the host's apt setting: $(tr '\n' ' ' <"$tmp/etc/apt/apt.conf.d/99claude-share-fresh-host")"
else
  rm -f "$tmp/etc/apt/apt.conf.d/99claude-share-fresh-host"
fi

# TLS: the proxy's extra CA certificates, so git, curl and npm trust it (node reads them through npm's cafile).
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  mkdir -p "$tmp/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$tmp/usr/local/share/ca-certificates/"
fi
chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin update-ca-certificates >&2

# npm: this machine's user config (registry settings, nodedir for node-gyp: the headers cannot be downloaded
# from nodejs.org here) and a global config with the CA bundle. Debian's npm reads /etc/npmrc; an npm
# installed under /usr reads /usr/etc/npmrc. Copied, never printed.
if [[ -f /root/.npmrc ]]; then
  install -m 0600 /root/.npmrc "$tmp/root/.npmrc"
fi
global_npmrc() {
  if [[ -f /usr/etc/npmrc ]]; then grep -v '^[[:space:]]*cafile[[:space:]]*=' /usr/etc/npmrc || true; fi
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n'
}
global_npmrc >"$tmp/etc/npmrc"
chmod 0644 "$tmp/etc/npmrc"
mkdir -p "$tmp/usr/etc"
install -m 0644 "$tmp/etc/npmrc" "$tmp/usr/etc/npmrc"

# Package lists of all three archives, like an installed server has them (debootstrap leaves only the suite's
# main list: no -updates, no -security fixes).
log "apt-get update in the tree"
isolated chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed in the $suite tree." 1
# debootstrap's .debs are not part of a fresh server.
chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin apt-get clean >&2

printf 'suite=%s\nrecipe=%s\nbuilt=%s\n' "$suite" "$RECIPE" "$(date +%s)" >"$tmp/$STAMP"

# Into place by rename: readers either see the old complete tree or the new one. The old one is moved aside and
# removed once no sandbox uses it as its lowerdir.
if [[ -e "$final" ]]; then
  mv "$final" "$(mktemp -u "$CACHE/.$suite.old.XXXXXX")"
fi
mv "$tmp" "$final"
trap - EXIT
remove_old_trees
log "built $final in $(($(date +%s) - t0)) s"
printf '%s\n' "$final"
