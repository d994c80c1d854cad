#!/usr/bin/env bash
# The workspace suite (issue 16): `client init`, `cs live` and the rest between two hosts on this machine — the e2e
# sandbox is the server (a real OpenSSH server, FUSE, sshfs, claude-share members), and a "laptop" in network and
# UTS namespaces of its own joined to it by a veth pair (test/workspace/workspace.bats).
#
#   sudo npm run test:workspace  [bats options such as --filter REGEX]
#
# Installs what it lacks from Debian's packages: openssh-server (the server), openssh-client and
# openssh-sftp-server (the laptop), sshfs and fuse3 (the server). Also the real Claude Code 2.1.330 (npm, cached as
# the real-client suite caches it), which the remote `claude` case starts in the mount.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
say() { printf 'workspace: %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || { say "run it as root (it creates users and network namespaces in a disposable sandbox): sudo npm run test:workspace"; exit 77; }
[[ -e /dev/fuse ]] || { say "/dev/fuse is missing: the server's sshfs needs FUSE (modprobe fuse)"; exit 2; }
apt_install() {
  # policy-rc.d says no: installing openssh-server must not start an sshd on this machine.
  local had=1
  [[ -e /usr/sbin/policy-rc.d ]] || { had=0; printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 0755 /usr/sbin/policy-rc.d; }
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
    { apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null; }
  [[ $had == 1 ]] || rm -f /usr/sbin/policy-rc.d
}
need=()
[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
[[ -x /usr/lib/openssh/sftp-server ]] || need+=(openssh-sftp-server)
command -v sshfs >/dev/null || need+=(sshfs)
command -v fusermount3 >/dev/null || need+=(fuse3)
command -v nsenter >/dev/null || need+=(util-linux)
if ((${#need[@]})); then say "installing ${need[*]} (apt-get)"; apt_install "${need[@]}"; fi
say "$(sshfs --version 2>&1 | grep -m1 "SSHFS version"), $(ssh -V 2>&1)"

cache=${CLAUDE_SHARE_REAL_CLIENT_CACHE:-/var/cache/claude-share-real-client}
v=2.1.330
if [[ ! -e "$cache/$v/.complete" ]]; then
  say "installing @anthropic-ai/claude-code@$v into $cache"
  mkdir -p "$cache"
  rm -rf "$cache/$v.tmp"
  npm install --no-audit --no-fund --ignore-scripts --loglevel=error --prefix "$cache/$v.tmp" "@anthropic-ai/claude-code@$v" >&2
  rm -rf "$cache/$v" && mv "$cache/$v.tmp" "$cache/$v" && touch "$cache/$v/.complete"
fi
chmod -R a+rX "$cache"
cd "$repo"
CLAUDE_SHARE_REAL_CLIENT_CACHE=$cache CLAUDE_SHARE_E2E_MODE=${CLAUDE_SHARE_E2E_MODE:-sandbox} exec bash docker/e2e/run.sh test/workspace/workspace.bats "$@"
