#!/usr/bin/env bats
# Lifecycle: install.sh from a clean clone, remove-user, uninstall, prometheus output, completion.

setup() {
  load test_helper
  reset_state
  rm -rf /var/lib/cs-prom
  init_with_login life 3600 csalice csbob
}

@test "remove-user: private copies, but never of the login (csalice's keeps working); out of the group and the config" {
  local shared
  shared=$(cat $SD/home/.claude/.credentials.json)
  run claude-share server remove-user csbob
  assert_success
  assert_output --partial 'csbob leaves without the shared login'
  assert_output --partial '/login with their own account'
  assert_equal "$(echo "$output" | grep -c login-not-copied)" 1
  # No copy of the single-use refresh token: his first refresh cannot log csalice out.
  [ ! -e /home/csbob/.claude/.credentials.json ]
  run grep -rlF "$(echo "$shared" | grep -o 'sk-ant-ort01-[A-Za-z0-9_-]*' | head -1)" /home/csbob
  assert_failure
  [ -f /home/csbob/.claude/settings.json ] && [ ! -L /home/csbob/.claude/settings.json ]
  assert_equal "$(stat -c '%U %a' /home/csbob/.claude/settings.json)" "csbob 600"
  assert_equal "$(su - csalice -c 'cat ~/.claude/.credentials.json')" "$shared"
  run id -nG csbob
  refute_output --partial claudeshare
  grep -q '^MANAGED_USERS=csalice$' $CFG
  run claude-share status
  assert_success
  # Run again (a script, Ansible): nothing to do, exit 0, nothing changed; the line names who is managed.
  local before
  before=$(find /home/csbob $SD -printf '%p %y %m\n' | sort | md5sum)
  run claude-share server remove-user csbob
  assert_success
  assert_output 'csbob is not a managed user: nothing to do (managed users: csalice)'
  [ "$(find /home/csbob $SD -printf '%p %y %m\n' | sort | md5sum)" = "$before" ]
}

@test "remove-user --delete-account keeps the home; --remove-home removes it" {
  run claude-share server remove-user csbob --delete-account
  assert_success
  run getent passwd csbob
  assert_failure
  [ -d /home/csbob ]
  run claude-share server remove-user csalice --delete-account --remove-home
  assert_success
  [ ! -e /home/csalice ]
  [ -n "$(ls $SD/backups)" ]
}

@test "uninstall --keep-login csalice: she keeps the live login, csbob gets none; config, cron and unit go; --purge after it archives root-only" {
  [[ -e /usr/sbin/cron || -e /usr/sbin/crond ]] || install -m 0755 /dev/null /usr/sbin/cron
  claude-share server install-cron >/dev/null
  local before
  before=$(find /home /shared -printf '%p %y\n' | sort)
  run claude-share server uninstall --dry-run
  assert_success
  assert_output --partial 'would replace the link with a private copy'
  assert_equal "$(find /home /shared -printf '%p %y\n' | sort)" "$before"
  run claude-share server uninstall --keep-login csnobody
  assert_failure 65
  assert_equal "$(find /home /shared -printf '%p %y\n' | sort)" "$before"
  run claude-share server uninstall --keep-login csalice
  assert_success
  assert_output --partial 'csbob leaves without the shared login'
  assert_output --partial 'csalice keeps it'
  [ -f /home/csalice/.claude/.credentials.json ] && [ ! -L /home/csalice/.claude/.credentials.json ]
  run su - csalice -c 'cat ~/.claude/.credentials.json'
  assert_output --partial sk-ant-ort01-life
  [ ! -e /home/csbob/.claude/.credentials.json ]
  for u in csalice csbob; do [ -f /home/$u/.claude.json ] && [ ! -L /home/$u/.claude.json ]; done
  [ ! -e $CFG ] && [ ! -e /etc/cron.d/claude-share ] && [ -d $SD ]
  # The README's order: uninstall, then uninstall --purge (the config is gone by then).
  run claude-share server uninstall
  assert_success
  assert_output --partial 'already uninstalled'
  refute_output --partial 'init'
  run claude-share server uninstall --purge
  assert_success
  assert_output --partial 'archived /shared/claude-share'
  [ ! -e $SD ]
  archive=$(ls -d /shared/claude-share.archive-*)
  assert_equal "$(stat -c '%U %a' "$archive")" "root 700"
  [ -d "$archive/backups" ]
  run claude-share status
  assert_failure 2
  assert_output --partial 'server init first'
}

@test "uninstall on a terminal shows the plan and asks; n changes nothing, y goes ahead, --yes does not ask" {
  local before
  before=$(find /home /shared /etc/claude-share -printf '%p %y\n' | sort)
  run expect -c '
    set timeout 60
    spawn claude-share server uninstall
    expect "Proceed?" { send "n\r" }
    expect eof
    catch wait result
    exit [lindex $result 3]
  '
  assert_success
  assert_output --partial 'would replace the link with a private copy'
  assert_output --partial 'nobody keeps the shared login'
  assert_output --partial 'nothing was changed'
  assert_equal "$(find /home /shared /etc/claude-share -printf '%p %y\n' | sort)" "$before"
  run expect -c '
    set timeout 60
    spawn claude-share server uninstall --yes
    expect eof
    catch wait result
    exit [lindex $result 3]
  '
  assert_success
  refute_output --partial 'Proceed?'
  [ ! -e $CFG ]
}

@test "status --prometheus writes node_exporter metrics atomically" {
  mkdir -p /var/lib/cs-prom
  run claude-share status --prometheus /var/lib/cs-prom/claude-share.prom
  assert_success
  run cat /var/lib/cs-prom/claude-share.prom
  assert_line 'claude_share_healthy 1'
  assert_line 'claude_share_managed_users 2'
  assert_line 'claude_share_severed_copies 0'
  assert_line --regexp '^claude_share_login_expiry_seconds [0-9]+$'
  su - csalice -c 'rm ~/.claude/settings.json'
  run claude-share status --quiet --prometheus /var/lib/cs-prom/claude-share.prom
  assert_failure 1
  run cat /var/lib/cs-prom/claude-share.prom
  assert_line 'claude_share_healthy 0'
  assert_line 'claude_share_problems{code="missing",severity="drift"} 1'
}

@test "completion bash completes subcommands and flags" {
  run bash -c 'eval "$(claude-share completion bash)"; COMP_WORDS=(claude-share server ad); COMP_CWORD=2; _claude_share; echo "${COMPREPLY[*]}"'
  assert_success
  assert_output 'add-container add-user'
  run bash -c 'eval "$(claude-share completion bash)"; COMP_WORDS=(claude-share sync --dr); COMP_CWORD=2; _claude_share; echo "${COMPREPLY[*]}"'
  assert_output -- '--dry-run'
}

@test "install.sh from a clean clone (file:// repository at a REF), then init through /usr/local/bin" {
  local origin=/tmp/cs-origin ref shim
  shim=$(cat /usr/local/bin/claude-share)
  make_origin $origin
  ref=$(git -C $origin rev-parse HEAD)
  rm -f /usr/local/bin/claude-share
  # Piped from curl, install.sh is not in a checkout: run it from stdin to take the clone path.
  run bash -c "cd /tmp && CLAUDE_SHARE_REPO=file://$origin REF=$ref npm_config_prefer_offline=true bash -s <$origin/install.sh"
  assert_success
  assert_output --partial "cloning file://$origin at $ref"
  assert_equal "$(readlink /usr/local/bin/claude-share)" /usr/local/lib/claude-share/dist/src/cli.js
  run /usr/local/bin/claude-share version
  assert_success
  assert_output --regexp '^claude-share [0-9]+\.[0-9]+\.[0-9]+$'
  reset_state
  install -d -m 0700 /root/.claude
  fake_creds "$(ms_from_now 3600)" inst >/root/.claude/.credentials.json
  make_users_file /root/users.txt $'csinst:pw\n'
  run /usr/local/bin/claude-share server init --yes --users-from-file /root/users.txt
  assert_success
  assert_equal "$(readlink /home/csinst/.claude/.credentials.json)" "$SD/home/.claude/.credentials.json"
  # Idempotent upgrade in place, then uninstall keeps data.
  run bash -c "cd $origin && npm_config_prefer_offline=true ./install.sh"
  assert_success
  run /usr/local/bin/claude-share status
  assert_success
  run "$origin/install.sh" --uninstall
  assert_success
  [ ! -e /usr/local/lib/claude-share ] && [ ! -e /usr/local/bin/claude-share ]
  [ -f $SD/home/.claude/.credentials.json ] && [ -f $CFG ]
  printf '%s\n' "$shim" >/usr/local/bin/claude-share && chmod 0755 /usr/local/bin/claude-share
}

@test "install.sh with a distribution Node older than 18.19 (Ubuntu 22.04's 12): one instruction, exit 69, nothing installed" {
  local fake=/tmp/cs-old-node
  mkdir -p $fake
  # Ubuntu 22.04: node 12.22.9 installed and the only candidate of its archive.
  printf '#!/bin/sh\ncase "$*" in *versions*) echo 12.22.9 ;; *) echo v12.22.9 ;; esac\n' >$fake/node
  printf '#!/bin/sh\nprintf "nodejs:\\n  Installed: 12.22.9~dfsg-1ubuntu3\\n  Candidate: 12.22.9~dfsg-1ubuntu3\\n"\n' >$fake/apt-cache
  chmod 0755 $fake/node $fake/apt-cache
  run env PATH="$fake:$PATH" PREFIX=/tmp/cs-old-prefix bash "$CS_REPO/install.sh"
  assert_failure 69
  assert_output --partial 'Node.js 18.19 or newer is required; found v12.22.9'
  assert_output --partial '(nodejs 12.22.9)'
  assert_output --partial 'then run this again.'
  refute_output --regexp '[0-9]+$'
  [ ! -e /tmp/cs-old-prefix/lib/claude-share ]
}

@test "the installed self-test passes here and names the step that fails when the runtime cannot work in a home" {
  run node "$CS_REPO/dist/src/cli/self-test.js"
  assert_success
  assert_output --regexp '^self-test passed on Node [0-9]+\.'
  # Without /proc the descriptor-pinned walk (/proc/self/fd/N) cannot work: the self-test must say so, not pass.
  run unshare --mount bash -c "mount -t tmpfs none /proc && node '$CS_REPO/dist/src/cli/self-test.js'"
  assert_failure 70
  assert_output --regexp '^self-test failed: make a member home: '
}
