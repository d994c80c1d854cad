#!/usr/bin/env bash
# The workspace suite (issue 16): `client init`, `cs live` and the rest between two hosts on this machine — the e2e
# sandbox is the server (a real OpenSSH server, FUSE, sshfs, claude-share members), and a "laptop" in network and
# UTS namespaces of its own joined to it by a veth pair (test/workspace/hosts.bash, workspace.bats).
#
#   sudo npm run test:workspace  [bats options such as --filter REGEX]
#
# Installs what it lacks from Debian's packages (test/workspace/deps.sh), and the real Claude Code 2.1.330 (npm,
# cached as the real-client suite caches it), which the remote `claude` case starts in the mount.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
# shellcheck source=test/workspace/deps.sh
source "$here/deps.sh"
ws_deps

cache=${CLAUDE_SHARE_REAL_CLIENT_CACHE:-/var/cache/claude-share-real-client}
v=2.1.330
mkdir -p "$cache"
exec 8>"$cache/.install.lock" # the real-client leg installs into the same cache, perhaps at the same time
flock 8
if [[ ! -e "$cache/$v/.complete" ]]; then
  ws_say "installing @anthropic-ai/claude-code@$v into $cache"
  rm -rf "$cache/$v.tmp"
  npm install --no-audit --no-fund --ignore-scripts --loglevel=error --prefix "$cache/$v.tmp" "@anthropic-ai/claude-code@$v" >&2
  rm -rf "$cache/$v" && mv "$cache/$v.tmp" "$cache/$v" && touch "$cache/$v/.complete"
fi
chmod -R a+rX "$cache"
exec 8>&-
cd "$repo"
CLAUDE_SHARE_REAL_CLIENT_CACHE=$cache CLAUDE_SHARE_E2E_MODE=${CLAUDE_SHARE_E2E_MODE:-sandbox} exec bash docker/e2e/run.sh test/workspace/workspace.bats "$@"
