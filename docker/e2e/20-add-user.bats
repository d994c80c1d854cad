#!/usr/bin/env bats
# server add-user: a new account, an adopted account with private files, refusals.

setup() {
  load test_helper
  reset_state
  init_with_login shared 18000 csalice
}

@test "add-user creates a new account with a password from a root-only file" {
  make_users_file /root/pw.txt 'Dave-pw-1'
  run claude-share server add-user csdave --password-from-file /root/pw.txt
  assert_success
  refute_output --partial 'Dave-pw-1'
  run awk -F: '$1=="csdave"{print substr($2,1,1)}' /etc/shadow
  assert_output '$'
  run id -nG csdave
  assert_output --partial claudeshare
  assert_equal "$(readlink /home/csdave/.claude/.credentials.json)" "$SD/home/.claude/.credentials.json"
  grep -q '^MANAGED_USERS=csalice,csdave$' $CFG
  run su - csdave -c 'cat ~/.claude/.credentials.json'
  assert_output --partial 'sk-ant-ort01-shared'
  run claude-share status
  assert_success
}

@test "add-user adopts an existing account: its private files are backed up byte for byte, never promoted" {
  make_user cserin
  install_creds cserin "$(fake_creds "$(ms_from_now 99999)" erin-own)"
  printf '{"theme":"light","mine":true}\n' >/home/cserin/.claude/settings.json
  printf '{"projects":{"/home/cserin/x":{}}}\n' >/home/cserin/.claude.json
  chown cserin: /home/cserin/.claude/settings.json /home/cserin/.claude.json
  local creds settings cj shared_before
  creds=$(cat /home/cserin/.claude/.credentials.json)
  settings=$(cat /home/cserin/.claude/settings.json)
  cj=$(cat /home/cserin/.claude.json)
  shared_before=$(cat $SD/home/.claude/.credentials.json)

  run claude-share server add-user cserin
  assert_success
  assert_output --partial 'backup:'
  assert_equal "$(cat $SD/home/.claude/.credentials.json)" "$shared_before"
  assert_equal "$(cat "$(find $SD/backups -path '*/cserin/.claude/.credentials.json')")" "$creds"
  assert_equal "$(cat "$(find $SD/backups -path '*/cserin/.claude/settings.json')")" "$settings"
  assert_equal "$(cat "$(find $SD/backups -path '*/cserin/.claude.json')")" "$cj"
  for f in .claude/.credentials.json .claude.json .claude/settings.json; do
    assert_equal "$(readlink /home/cserin/$f)" "$(shared_of "$f")"
  done
  run claude-share server add-user cserin
  assert_success
  assert_output --partial 'nothing to do'
}

@test "re-login warnings: add-user of a logged-in account, and sync putting a logged-in member back in the group, name them" {
  make_user cserin
  su - cserin -c 'setsid sleep 60 </dev/null >/dev/null 2>&1 &'
  run claude-share server add-user cserin --no-password
  assert_success
  assert_output --partial 'logged in right now: cserin. They must log out and back in'
  gpasswd -d cserin claudeshare >/dev/null
  run claude-share sync
  assert_success
  assert_output --partial 'logged in right now: cserin.'
  run claude-share sync
  assert_success
  refute_output --partial 'logged in right now'
  pkill -u cserin sleep || true
}

@test "add-user on a terminal asks for the new password twice, hidden" {
  run expect -c '
    set timeout 60
    spawn claude-share server add-user csterm
    expect "Password for csterm" { send "Term-pw-7\r" }
    expect "Repeat the password" { send "Term-pw-7\r" }
    expect eof
    catch wait result
    exit [lindex $result 3]
  '
  assert_success
  refute_output --partial 'Term-pw-7'
  run awk -F: '$1=="csterm"{print substr($2,1,1)}' /etc/shadow
  assert_output '$'
  assert_equal "$(readlink /home/csterm/.claude/.credentials.json)" "$SD/home/.claude/.credentials.json"
}

@test "add-user --dry-run changes nothing" {
  local before
  before=$(getent passwd; getent group; cat $CFG)
  run claude-share server add-user csfrank --no-password --dry-run
  assert_success
  assert_output --partial 'would create user csfrank'
  assert_equal "$(getent passwd; getent group; cat $CFG)" "$before"
}

@test "add-user refuses bad names (65), system accounts (64), and a missing password without a terminal (64)" {
  run claude-share server add-user 'Bad Name' --no-password
  assert_failure 65
  run claude-share server add-user daemon
  assert_failure 65
  useradd --system cssys
  run claude-share server add-user cssys
  assert_failure 64
  assert_output --partial -- '--allow-system-user'
  run claude-share server add-user csnopw </dev/null
  assert_failure 64
  assert_output --partial -- '--no-password'
  run getent passwd csnopw
  assert_failure
}

@test "add-user without init: exit 2, run server init first" {
  rm -rf /etc/claude-share
  run claude-share server add-user csgina --no-password
  assert_failure 2
  assert_output --partial 'server init first'
}
