#!/usr/bin/env bats
# server init, for real: users, group, shared directory, links, backups, refusals.

ITEMS=(.claude/.credentials.json .claude.json .claude/settings.json .claude/settings.local.json)

setup() {
  load test_helper
  reset_state
  rm -rf /root/.claude /root/.claude.json
}

root_login() {
  install -d -m 0700 /root/.claude
  fake_creds "$(ms_from_now 18000)" rootlogin >/root/.claude/.credentials.json
  chmod 0600 /root/.claude/.credentials.json
  printf '{"oauthAccount":{"accountUuid":"00000000-0000-4000-8000-000000000001","emailAddress":"team@example.com"},"hasCompletedOnboarding":true,"projects":{"/root/secret":{}},"mcpServers":{"db":{"command":"x","env":{"TOKEN":"s3"}}}}\n' >/root/.claude.json
  printf '{"theme":"dark"}\n' >/root/.claude/settings.json
}

# Everything init may change, in one string, to prove "changes nothing".

@test "init from a users file: accounts, group, modes, links, and members read the shared login" {
  root_login
  local before_creds
  before_creds=$(cat /root/.claude/.credentials.json)
  make_users_file /root/users.txt $'# team\ncsalice:Alice pw 1\r\ncsbob:b:with:colons\n'
  run claude-share server init --yes --users-from-file /root/users.txt
  assert_success
  assert_output --partial 'created user csalice'
  refute_output --partial 'Alice pw 1'
  refute_output --partial 'sk-ant'

  getent group claudeshare
  run id -nG csalice
  assert_output --partial claudeshare
  # Passwords were really set (a hash, not the locked '!').
  run awk -F: '$1=="csbob"{print substr($2,1,1)}' /etc/shadow
  assert_output '$'

  assert_equal "$(stat -c '%U:%G %a' $SD)" "root:claudeshare 2750"
  assert_equal "$(stat -c '%U:%G %a' $SD/home)" "root:claudeshare 2750"
  assert_equal "$(stat -c '%U:%G %a' $SD/home/.claude)" "root:claudeshare 2770"
  for f in "${ITEMS[@]}"; do
    assert_equal "$(stat -c '%G %a %h' "$(shared_of "$f")")" "claudeshare 660 1"
    for u in csalice csbob; do
      assert_equal "$(readlink "/home/$u/$f")" "$(shared_of "$f")"
    done
  done
  assert_equal "$(stat -c '%U %a' /home/csalice/.claude)" "csalice 700"

  # The login moved (not copied): root's copy is in the root-only backups.
  assert_equal "$(cat $SD/home/.claude/.credentials.json)" "$before_creds"
  [ ! -e /root/.claude/.credentials.json ]
  backup=$(find $SD/backups -path '*/root/.claude/.credentials.json')
  assert_equal "$(cat "$backup")" "$before_creds"
  assert_equal "$(stat -c '%U %a' "$backup")" "root 600"
  assert_equal "$(stat -c '%U %a' $SD/backups)" "root 700"

  # Only account fields reach the shared .claude.json.
  run cat $SD/home/.claude/.claude.json
  assert_output --partial oauthAccount
  refute_output --partial mcpServers
  refute_output --partial /root/secret

  run su - csalice -c 'cat ~/.claude/.credentials.json'
  assert_success
  assert_output "$before_creds"
  run su - csbob -c 'umask'
  assert_output 0002

  run cat $CFG
  assert_line 'MANAGED_USERS=csalice,csbob'
  assert_line "SHARED_DIR=$SD"
  assert_equal "$(stat -c '%U %a' $CFG)" "root 644"

  run claude-share status
  assert_success
}

@test "a second identical run changes nothing and says so" {
  root_login
  make_users_file /root/users.txt $'csalice:pw1\ncsbob:pw2\n'
  claude-share server init --yes --users-from-file /root/users.txt
  local before
  before=$(world)
  run claude-share server init --yes --users-from-file /root/users.txt
  assert_success
  assert_output --partial 'nothing to do'
  assert_equal "$(world)" "$before"
}

@test "settings.local.json sharing switched off and back on a live setup: private copies, then links again (hers kept in the backups)" {
  init_with_login both 3600 csalice csbob
  printf '{"permissions":{"allow":["Bash(ls)"]}}\n' | su - csalice -c "bash ${BATS_TEST_DIRNAME}/fake-claude.sh onehop .claude/settings.local.json"
  run claude-share server init --yes --no-settings-local
  assert_success
  grep -q '^SHARE_SETTINGS_LOCAL=no$' $CFG
  for u in csalice csbob; do
    [ -f /home/$u/.claude/settings.local.json ] && [ ! -L /home/$u/.claude/settings.local.json ]
    assert_equal "$(stat -c '%U %a' /home/$u/.claude/settings.local.json)" "$u 600"
    run su - $u -c 'cat ~/.claude/settings.local.json'
    assert_output --partial 'Bash(ls)'
  done
  run claude-share status
  assert_success
  refute_output --partial settings.local
  # A re-run without the flag keeps the choice.
  claude-share server init --yes >/dev/null
  grep -q '^SHARE_SETTINGS_LOCAL=no$' $CFG
  printf '{"mine":true}\n' | su - csalice -c 'cat >~/.claude/settings.local.json'
  run claude-share server init --yes --settings-local
  assert_success
  grep -q '^SHARE_SETTINGS_LOCAL=yes$' $CFG
  for u in csalice csbob; do assert_equal "$(readlink /home/$u/.claude/settings.local.json)" "$SD/home/.claude/settings.local.json"; done
  grep -q '"mine":true' "$(find $SD/backups -path '*/csalice/.claude/settings.local.json' | tail -1)"
  run claude-share status
  assert_success
}

@test "--dry-run prints the plan and changes nothing" {
  root_login
  make_users_file /root/users.txt $'csalice:pw1\n'
  local before
  before=$(world)
  run claude-share server init --yes --users-from-file /root/users.txt --dry-run
  assert_success
  assert_output --partial 'would create user csalice'
  assert_output --partial 'would link /home/csalice/.claude/.credentials.json'
  assert_equal "$(world)" "$before"
  run claude-share server init --yes --users-from-file /root/users.txt --dry-run --json
  assert_success
  echo "$output" | node -e 'const d=JSON.parse(require("fs").readFileSync(0,"utf8")); if(!d.dryRun||!d.actions.length) process.exit(1)'
  assert_equal "$(world)" "$before"
}

refused() { # EXIT_CODE MESSAGE_PART -- init with /root/users.txt is refused, nothing changes
  local before
  before=$(world)
  run claude-share server init --yes --users-from-file /root/users.txt
  assert_failure "$1"
  assert_output --partial "$2"
  assert_equal "$(world)" "$before"
}

@test "refused users files change nothing: mode 0644, symlink, not root's, bad names, duplicates" {
  make_users_file /root/users.txt $'csalice:pw\n'
  chmod 0644 /root/users.txt
  refused 77 'chmod 0600'

  make_users_file /root/real.txt $'csalice:pw\n'
  rm /root/users.txt && ln -s /root/real.txt /root/users.txt
  refused 77 'symlink'

  rm /root/users.txt
  make_user csowner
  make_users_file /root/users.txt $'csalice:pw\n'
  chown csowner /root/users.txt
  refused 77 'not root'

  make_users_file /root/users.txt $'csalice:pw\nBad Name:pw\ncs..x:pw\n'
  refused 65 'line 2'
  assert_output --partial 'line 3'

  make_users_file /root/users.txt $'csalice:pw\ncsalice:pw2\n'
  refused 65 'duplicate'
  refute_output --partial 'pw2'
}

@test "a source user without credentials: init succeeds and says the login is missing" {
  make_users_file /root/users.txt $'csalice:pw\n'
  run claude-share server init --yes --users-from-file /root/users.txt
  assert_success
  assert_output --partial 'no Claude login yet'
  [ ! -e $SD/home/.claude/.credentials.json ]
  assert_equal "$(readlink /home/csalice/.claude/.credentials.json)" "$SD/home/.claude/.credentials.json"
  run claude-share status
  assert_failure 2
  assert_output --partial 'no-login'
}

@test "a source user that is not root becomes a managed, linked member" {
  make_user cscarol
  install_creds cscarol "$(fake_creds "$(ms_from_now 7200)" carol)"
  local carol
  carol=$(cat /home/cscarol/.claude/.credentials.json)
  make_users_file /root/users.txt $'csalice:pw\n'
  run claude-share server init --yes --source-user cscarol --users-from-file /root/users.txt
  assert_success
  assert_equal "$(cat $SD/home/.claude/.credentials.json)" "$carol"
  assert_equal "$(readlink /home/cscarol/.claude/.credentials.json)" "$SD/home/.claude/.credentials.json"
  run id -nG cscarol
  assert_output --partial claudeshare
  assert_equal "$(cat "$(find $SD/backups -path '*/cscarol/.claude/.credentials.json')")" "$carol"
  grep -q '^MANAGED_USERS=csalice,cscarol$' $CFG
  run su - csalice -c 'cat ~/.claude/.credentials.json'
  assert_output "$carol"
}

@test "interactive init through a pseudo-terminal: defaults on Enter, hidden passwords typed twice" {
  root_login
  run expect -c '
    set timeout 60
    log_user 1
    spawn claude-share server init
    expect "Shared directory" { send "\r" }
    expect "Group" { send "\r" }
    expect "Source user" { send "\r" }
    expect "How many users" { send "1\r" }
    expect "Name of user 1" { send "csinter\r" }
    expect "Password for csinter" { send "Tty-pw-9\r" }
    expect "Repeat the password" { send "Tty-pw-9\r" }
    expect "would create user csinter"
    expect "Proceed?" { send "y\r" }
    expect eof
    catch wait result
    exit [lindex $result 3]
  '
  assert_success
  refute_output --partial 'Tty-pw-9'
  assert_equal "$(readlink /home/csinter/.claude/.credentials.json)" "$SD/home/.claude/.credentials.json"
  run awk -F: '$1=="csinter"{print substr($2,1,1)}' /etc/shadow
  assert_output '$'
}

@test "Ctrl-C during init at user 5 of 30: the step under way ends, 130 says what was not done; the re-run sets every password, the first ones included" {
  root_login
  local f=/root/many.txt i
  : >$f
  for i in $(seq -w 1 30); do echo "csi$i:Pw-$i-x" >>$f; done
  chmod 0600 $f
  run expect -c '
    set timeout 120
    spawn claude-share server init --yes --users-from-file /root/many.txt
    expect -re {\[5/[0-9]+\] csi05} { send "\003" }
    expect "interrupted after"
    expect eof
    catch wait result
    exit [lindex $result 3]
  '
  assert_failure 130
  assert_output --partial 'interrupted: finishing the step under way'
  assert_output --partial 'not done'
  assert_output --partial 'Run the same command again to finish'
  # Some accounts exist, none half-made, and all of them still locked (no chpasswd ran); the journal names them.
  local made
  made=$(getent passwd | grep -c '^csi')
  ((made >= 5 && made < 30))
  for u in $(getent passwd | grep -o '^csi[0-9]*'); do
    [ -d /home/$u ]
    assert_equal "$(awk -F: -v u=$u '$1==u{print substr($2,1,1)}' /etc/shadow)" '!'
  done
  assert_equal "$(stat -c '%U %a' /var/lib/claude-share/pending-passwords)" 'root 600'
  # Every account made is named (a useradd caught by the Ctrl-C as it started is named but was never made).
  for u in $(getent passwd | grep -o '^csi[0-9]*'); do grep -qx "$u" /var/lib/claude-share/pending-passwords; done
  run grep -c Pw- /var/lib/claude-share/pending-passwords
  assert_output 0
  run claude-share server init --yes --users-from-file $f
  assert_success
  for i in $(seq -w 1 30); do
    assert_equal "$(awk -F: -v u=csi$i '$1==u{print substr($2,1,1)}' /etc/shadow)" '$'
  done
  [ ! -e /var/lib/claude-share/pending-passwords ]
  run claude-share status
  assert_success
}

@test "without a terminal and without users, init names the flag (exit 64) and changes nothing" {
  local before
  before=$(world)
  run claude-share server init </dev/null
  assert_failure 64
  assert_output --partial -- '--users-from-file'
  assert_equal "$(world)" "$before"
}

@test "not root: exit 77 and 'run it with sudo'" {
  make_user csplain
  run su - csplain -c 'claude-share server init --yes --user csx --no-password'
  assert_failure 77
  assert_output --partial sudo
}
