# shellcheck shell=bash
# What workspace mode's suite and benchmark need on this machine, installed when missing (sourced by
# test/workspace/run.sh and bench/workspace-run.sh, as root): openssh-server (the server), openssh-client and
# openssh-sftp-server (the laptop), sshfs and fuse3 (the server), nsenter (util-linux).
ws_say() { printf 'workspace: %s\n' "$*" >&2; }
ws_apt_install() {
  # policy-rc.d says no: installing openssh-server must not start an sshd on this machine.
  local had=1 rc=0
  [[ -e /usr/sbin/policy-rc.d ]] || { had=0; printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 0755 /usr/sbin/policy-rc.d; }
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
    { apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null; } || rc=$?
  [[ $had == 1 ]] || rm -f /usr/sbin/policy-rc.d
  return "$rc"
}
ws_deps() {
  [[ $(id -u) -eq 0 ]] || { ws_say "run it as root (it creates users and network namespaces in a disposable sandbox)"; exit 77; }
  [[ -e /dev/fuse ]] || { ws_say "/dev/fuse is missing: the server's sshfs needs FUSE (modprobe fuse)"; exit 2; }
  local need=()
  [[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
  command -v ssh >/dev/null || need+=(openssh-client)
  [[ -x /usr/lib/openssh/sftp-server ]] || need+=(openssh-sftp-server)
  command -v sshfs >/dev/null || need+=(sshfs)
  command -v fusermount3 >/dev/null || need+=(fuse3)
  command -v nsenter >/dev/null || need+=(util-linux)
  if ((${#need[@]})); then ws_say "installing ${need[*]} (apt-get)"; ws_apt_install "${need[@]}"; fi
  ws_say "$(sshfs --version 2>&1 | grep -m1 'SSHFS version'), $(ssh -V 2>&1)"
}
