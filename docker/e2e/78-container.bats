#!/usr/bin/env bats
# Containers managed like members (server add-container, container-args, remove-container), with real accounts and
# a stand-in for the container: a mount namespace that sees only what container-args mounts (the container's home
# and the shared copies, at the same paths), entered as the container's uid with the group, HOME set. No container
# engine is needed for what claude-share does; the Docker leg of CI runs these same cases in its image.

LOG=/tmp/watch.log

setup() {
  load test_helper
  reset_state
  init_with_login_no_password ct 3600 csalice
}

teardown() {
  [[ -n "${WATCH_PID:-}" ]] && kill "$WATCH_PID" 2>/dev/null && wait "$WATCH_PID" 2>/dev/null
  return 0
}

# in_container NAME CMD... -- CMD as the container would run it: its account, the group added, HOME its home, and a
# file system in which /home and /shared hold only what container-args mounts.
in_container() {
  local name=$1 uid gid sgid
  shift
  uid=$(id -u "$name") gid=$(id -g "$name") sgid=$(getent group claudeshare | cut -d: -f3)
  unshare --mount --fork bash -c '
    set -e
    home=$1 store=$2 uid=$3 gid=$4 sgid=$5; shift 5
    mount --make-rprivate /
    mkdir -p /run/ct-home /run/ct-store
    mount --bind "$home" /run/ct-home
    mount --bind "$store" /run/ct-store
    mount -t tmpfs none /home
    mount -t tmpfs none /shared
    mkdir -p "$home" "$store"
    mount --bind /run/ct-home "$home"
    mount --bind /run/ct-store "$store"
    exec setpriv --reuid "$uid" --regid "$gid" --groups "$sgid" env -i HOME="$home" PATH=/usr/bin:/bin "$@"
  ' _ "/home/$name" "$SD/home/.claude" "$uid" "$gid" "$sgid" "$@" 3>&-
}

@test "add-container: an account with no login shell, linked like a member; container-args names exactly what to mount; status lists it" {
  run claude-share server add-container csagent
  assert_success
  assert_equal "$(getent passwd csagent | cut -d: -f7)" /usr/sbin/nologin
  assert_equal "$(passwd -S csagent | awk '{print $2}')" L
  assert_equal "$(readlink /home/csagent/.claude/.credentials.json)" "$SHARED"
  id -nG csagent | grep -qw claudeshare
  run claude-share server container-args csagent
  assert_success
  assert_output --partial "--user $(id -u csagent):$(id -g csagent) --group-add $(getent group claudeshare | cut -d: -f3)"
  assert_output --partial '--volume /home/csagent:/home/csagent'
  assert_output --partial "--volume $SD/home/.claude:$SD/home/.claude"
  assert_output --partial '--env HOME=/home/csagent'
  run claude-share status
  assert_success
  assert_output --partial 'csagent (container)'
  # Inside, the container sees its login through the links, and nobody else's home.
  run in_container csagent bash -c 'cat "$HOME/.claude/.credentials.json" >/dev/null && ls /home'
  assert_success
  assert_output csagent
}

@test "a refresh inside the container severs a link in its host directory: the watcher heals it; csalice uses the new token; the container rebuilt keeps its login" {
  claude-share server add-container csagent >/dev/null
  start_watch
  local t
  t=$(fake_creds "$(ms_from_now 9000)" from-the-container)
  # The fake client from outside /home: the repository may be in a home (a fresh system's newcomer clones it there),
  # and /home inside holds only the container's own.
  install -m 0755 "$FAKE" /tmp/fake-claude-container.sh
  printf '%s\n' "$t" | in_container csagent bash /tmp/fake-claude-container.sh sever
  for _ in $(seq 50); do [[ -L /home/csagent/.claude/.credentials.json ]] && break; sleep 0.1; done
  assert_equal "$(readlink /home/csagent/.claude/.credentials.json)" "$SHARED"
  assert_equal "$(cat "$SHARED")" "$t"
  # The watcher did it (a heal of csagent, or of everyone when the sweep at its start was still under way).
  for _ in $(seq 50); do grep -qE 'healed (csagent|all members)' "$LOG" && break; sleep 0.1; done
  grep -qE 'healed (csagent|all members)' "$LOG" || { cat "$LOG"; false; }
  assert_equal "$(su - csalice -c 'cat ~/.claude/.credentials.json')" "$t"
  # A rebuilt container is a new mount namespace over the same host directory: the login is still there.
  run in_container csagent bash -c 'cat "$HOME/.claude/.credentials.json"'
  assert_success
  assert_output "$t"
}

@test "remove-container: the account goes, its home stays, the config forgets it; a member's name is refused" {
  claude-share server add-container csagent >/dev/null
  run claude-share server remove-container csalice
  assert_equal "$status" 65
  run claude-share server remove-container csagent
  assert_success
  run getent passwd csagent
  assert_failure
  [[ -d /home/csagent ]]
  run grep -c csagent /etc/claude-share/config
  assert_output 0
}
