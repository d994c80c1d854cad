# shellcheck shell=bash
# Two hosts on one machine, for workspace mode (issue 16); sourced by test/workspace/workspace.bats and
# bench/workspace.sh, inside the disposable e2e sandbox only.
#
# The sandbox is the SERVER: claude-share members (password "pw"), a real OpenSSH server on 10.77.0.1, FUSE and
# Debian's sshfs. The LAPTOP is a process in network and UTS namespaces of its own (hostname cs-laptop, 10.77.0.2,
# a veth pair between them); its users are plain accounts, not members. Laptop commands run through nsenter into
# those namespaces. Both hosts share the sandbox's files, kept apart by the homes' permissions.

WS_SERVER_IP=10.77.0.1
WS_LAPTOP_PID_FILE=/run/cs-workspace-laptop.pid

# ws_hosts_up LAPTOP_USER... -- the network, the laptop, sshd and the laptop's accounts (the members exist already).
ws_hosts_up() {
  hostname cs-server
  local u lp
  for u in "$@"; do useradd -m -s /bin/bash "$u"; done
  unshare --net --uts sh -c 'hostname cs-laptop; exec sleep infinity' 3>&- &
  lp=$!
  echo "$lp" >"$WS_LAPTOP_PID_FILE"
  for _ in $(seq 50); do [[ $(readlink /proc/$lp/ns/net) != "$(readlink /proc/self/ns/net)" && $(nsenter -t "$lp" -u hostname) == cs-laptop ]] && break; sleep 0.1; done
  ip link add csws type veth peer name cswl
  ip link set cswl netns "$lp"
  ip addr add "$WS_SERVER_IP/24" dev csws
  ip link set csws up
  nsenter -t "$lp" -n sh -c 'ip addr add 10.77.0.2/24 dev cswl && ip link set cswl up && ip link set lo up'
  # The server's sshd: password logins (client init's first connection), public keys, stream forwarding (defaults).
  mkdir -p /etc/ssh-cs /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f /etc/ssh-cs/host_ed25519
  cat >/etc/ssh-cs/sshd_config <<CONF
ListenAddress $WS_SERVER_IP
HostKey /etc/ssh-cs/host_ed25519
PidFile /run/cs-workspace-sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin no
CONF
  /usr/sbin/sshd -f /etc/ssh-cs/sshd_config -E /tmp/cs-sshd.log 3>&-
  printf '#!/bin/sh\necho pw\n' >/usr/local/bin/cs-askpass
  chmod 0755 /usr/local/bin/cs-askpass
}

ws_hosts_down() {
  local u
  for u in "$@"; do pkill -KILL -u "$u" 2>/dev/null || true; done
  awk '$3 == "fuse.sshfs" {print $2}' /proc/mounts | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  [[ -f /run/cs-workspace-sshd.pid ]] && kill "$(cat /run/cs-workspace-sshd.pid)" 2>/dev/null
  [[ -f $WS_LAPTOP_PID_FILE ]] && kill "$(cat "$WS_LAPTOP_PID_FILE")" 2>/dev/null
  ip link del csws 2>/dev/null || true
  rm -rf /usr/local/bin/cs-askpass /etc/ssh-cs
  return 0
}

# lap USER CMD -- CMD in a login shell of USER on the laptop (its namespaces); keepalives every second there.
lap() {
  local u=$1
  shift
  nsenter -t "$(cat "$WS_LAPTOP_PID_FILE")" -n -u -- su - "$u" -c "export CLAUDE_SHARE_KEEPALIVE=1; $*" 3>&-
}
# srv USER CMD -- CMD in a login shell of USER on the server.
srv() {
  local u=$1
  shift
  su - "$u" -c "$*" 3>&-
}
# init_client LAPTOP_USER MEMBER -- client init with the member's password (askpass: no terminal here).
init_client() {
  lap "$1" "SSH_ASKPASS=/usr/local/bin/cs-askpass SSH_ASKPASS_REQUIRE=force claude-share client init $2@$WS_SERVER_IP"
}
