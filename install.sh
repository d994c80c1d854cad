#!/usr/bin/env bash
# Install (or upgrade in place) claude-share into /usr/local/lib/claude-share, linked as /usr/local/bin/claude-share.
#
#   sudo ./install.sh                 from a clone
#   curl -fsSL URL/install.sh | sudo REF=<commit> bash   clones CLAUDE_SHARE_REPO at REF first
#   sudo ./install.sh --uninstall     removes the program; never the shared directory, backups or user data
set -euo pipefail

PREFIX=${PREFIX:-/usr/local}
LIB="$PREFIX/lib/claude-share"
BIN="$PREFIX/bin/claude-share"
CS_BIN="$PREFIX/bin/cs"
REPO_URL=${CLAUDE_SHARE_REPO:-https://github.com/claude-share/claude-share.git}
REF=${REF:-main}
NODE_MIN=18.19
candidate=

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$1" >&2; exit "${2:-1}"; }

[[ $(id -u) -eq 0 ]] || die "run it as root: sudo $0 $*" 77

# cs (workspace mode) is ours only when it links into $LIB: another program's cs is never touched.
ours_cs() { [[ -L "$CS_BIN" && "$(readlink "$CS_BIN")" == "$LIB/"* ]]; }

if [[ "${1:-}" == --uninstall ]]; then
  rm -f "$BIN"
  if ours_cs; then rm -f "$CS_BIN"; fi
  rm -rf "$LIB"
  if [[ -e /etc/claude-share/config ]]; then
    say "removed $BIN and $LIB. The shared directory, its backups, /etc/claude-share and every home are untouched;"
    say "members are still linked: to give them private copies, install again and run 'claude-share server uninstall' first (see README)."
  else
    say "removed $BIN and $LIB. The shared directory and its backups are untouched."
  fi
  exit 0
fi
[[ $# -eq 0 ]] || die "unknown argument: $1 (use --uninstall or nothing)" 64

apt_install() {
  command -v apt-get >/dev/null || die "missing $*; install them with your package manager and run this again" 69
  say "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null; }
}

# A version as one comparable number: 18.19.1 -> 18019001.
vnum() { awk -F. '{ printf "%d%03d%03d\n", $1, $2, $3 }' <<<"${1#v}"; }
node_ok() { command -v node >/dev/null && [[ $(vnum "$(node -p process.versions.node 2>/dev/null || echo 0)") -ge $(vnum "$NODE_MIN") ]]; }

# Node.js 18.19 or newer: the distribution's own package when it is new enough (Debian 12 and 13, Ubuntu 24.04),
# else one precise instruction.
if ! node_ok; then
  if command -v apt-cache >/dev/null; then
    candidate=$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ {print $2}' | sed -E 's/^[0-9]+://; s/[-~+].*//')
    if [[ -z "$candidate" || "$candidate" == "(none)" ]]; then
      apt-get update >/dev/null 2>&1 || true
      candidate=$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ {print $2}' | sed -E 's/^[0-9]+://; s/[-~+].*//')
    fi
    if [[ "$candidate" =~ ^[0-9] && $(vnum "$candidate") -ge $(vnum "$NODE_MIN") ]]; then apt_install nodejs npm; fi
  fi
  if ! node_ok; then
    die "Node.js $NODE_MIN or newer is required; found $(node --version 2>/dev/null || echo none), and this distribution's package${candidate:+ (nodejs $candidate)} is older.
  Install Node.js 20 from https://nodejs.org/en/download or NodeSource (https://github.com/nodesource/distributions), then run this again." 69
  fi
fi
command -v npm >/dev/null || apt_install npm

for tool in useradd groupadd usermod chpasswd gpasswd; do
  command -v "$tool" >/dev/null || PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null || apt_install passwd
done

# The source: this checkout, or a fresh clone at REF when piped from curl.
here=$(cd "$(dirname "${BASH_SOURCE[0]:-.}")" 2>/dev/null && pwd -P || true)
if [[ -n "$here" && -f "$here/package.json" && -d "$here/src" ]] && grep -q '"name": "claude-share"' "$here/package.json"; then
  src=$here
else
  command -v git >/dev/null || apt_install git ca-certificates
  src=$(mktemp -d /tmp/claude-share-src.XXXXXX)
  trap 'rm -rf "$src"' EXIT
  say "cloning $REPO_URL at $REF"
  git clone --quiet "$REPO_URL" "$src"
  git -C "$src" checkout --quiet "$REF"
fi

# Build in a staging copy, then swap it in: an upgrade that fails leaves the old version working.
stage=$(mktemp -d "$PREFIX/lib/.claude-share-stage.XXXXXX" 2>/dev/null || { mkdir -p "$PREFIX/lib" && mktemp -d "$PREFIX/lib/.claude-share-stage.XXXXXX"; })
trap 'rm -rf "$stage"; [[ "${src:-}" == /tmp/claude-share-src.* ]] && rm -rf "$src"' EXIT
tar -C "$src" --exclude=./node_modules --exclude=./dist --exclude=./.git -cf - . | tar -C "$stage" -xf -
say "building (npm ci, tsc)"
(cd "$stage" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm run --silent build >/dev/null && npm prune --omit=dev --loglevel=error >/dev/null) ||
  die "the build failed (npm ci, tsc): see the messages above; nothing was installed" 70
# Prove the runtime before calling it installed: every module loads, and the descriptor-pinned work a real init and
# sync do in a member's home (as root, for an unprivileged account) succeeds and reads back.
out=$(node "$stage/dist/src/cli/self-test.js" 2>&1) ||
  die "this Node.js ($(node --version)) cannot run claude-share: $out
  nothing was installed; if the cause is not obvious, report it with that line" 70
say "$out"
chmod -R go-w "$stage"
chmod 0755 "$stage"
rm -rf "$LIB.old"
[[ -e "$LIB" ]] && mv "$LIB" "$LIB.old"
mv "$stage" "$LIB"
rm -rf "$LIB.old"
mkdir -p "$(dirname "$BIN")"
ln -sfn "$LIB/dist/src/cli.js" "$BIN"
say "installed $("$BIN" --version) at $BIN"
if [[ ! -e "$CS_BIN" && ! -L "$CS_BIN" ]] || ours_cs; then
  ln -sfn "$LIB/dist/src/cli/cs.js" "$CS_BIN"
  say "linked $CS_BIN (workspace mode: cs live)"
else
  say "$CS_BIN is another program's: not replaced; workspace mode is 'claude-share cs live' here"
fi
say "next: sudo claude-share server init"
