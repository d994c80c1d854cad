#!/usr/bin/env bats
# status and sync against every kind of drift, with a fake Claude that writes as the member.

setup() {
  load test_helper
  reset_state
  init_with_login initial 3600 csalice csbob cscarol
  chmod o+rx "$BATS_TEST_DIRNAME"
}

count_backups() { # WHO -- credentials backups of WHO (a user, or "shared")
  find $SD/backups -path "$SD/backups/*/$1/.claude/.credentials.json" | wc -l
}

links_state() {
  find /shared /home -xdev -printf '%p %y %u:%g %m %l %s %T@\n' 2>/dev/null | sort
  getent group claudeshare
}

# After a repair: healthy, every member reads EXPECTED through its link, a second
# sync changes nothing, and a dry run then has nothing to do.
assert_converged() {
  run claude-share status
  assert_success
  for u in csalice csbob cscarol; do
    run su - "$u" -c 'cat ~/.claude/.credentials.json'
    assert_success
    assert_output "$1"
  done
  local before
  before=$(links_state)
  run claude-share sync
  assert_success
  assert_output --partial 'nothing to do'
  assert_equal "$(links_state)" "$before"
}

dry_run_changes_nothing() {
  local before
  before=$(links_state)
  run claude-share sync --dry-run
  assert_success
  assert_output --partial 'would '
  assert_equal "$(links_state)" "$before"
}

@test "(a) in-place write + chmod 0600 by the file's owner: permission-drift, repaired to 0660" {
  chown csalice $SHARED
  local fresh
  fresh=$(fake_creds "$(ms_from_now 28800)" a-inplace)
  claude_as csalice inplace "$fresh"
  assert_equal "$(stat -c %a $SHARED)" 600
  run su - csbob -c 'cat ~/.claude/.credentials.json'
  assert_failure
  run claude-share status
  assert_failure 1
  assert_output --partial permission-drift
  dry_run_changes_nothing
  run claude-share sync
  assert_success
  assert_equal "$(stat -c '%G %a' $SHARED)" "claudeshare 660"
  assert_converged "$fresh"
}

@test "(b) temp + rename severs the link: the newer token becomes the shared copy, both old copies backed up" {
  local old fresh
  old=$(cat $SHARED)
  fresh=$(fake_creds "$(ms_from_now 28800)" b-sever)
  claude_as csbob sever "$fresh"
  [ -f /home/csbob/.claude/.credentials.json ] && [ ! -L /home/csbob/.claude/.credentials.json ]
  run claude-share status
  assert_failure 1
  assert_output --partial severed
  assert_output --partial 'newer token'
  refute_output --partial sk-ant
  run claude-share status --json
  assert_failure 1
  echo "$output" | node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const bob = d.users.find((u) => u.name === "csbob");
    if (d.schemaVersion !== 2 || d.healthy || d.login.newerSevered !== 1 || bob.items[0].state !== "severed") process.exit(1);'
  dry_run_changes_nothing
  run claude-share sync
  assert_success
  assert_output --partial backup:
  assert_equal "$(cat $SHARED)" "$fresh"
  assert_equal "$(cat "$(find $SD/backups -path '*/shared/.claude/.credentials.json')")" "$old"
  assert_equal "$(cat "$(find $SD/backups -path '*/csbob/.claude/.credentials.json')")" "$fresh"
  assert_converged "$fresh"
}

@test "(c) one-hop temp + rename in the shared dir keeps link and mode: healthy as it is" {
  local fresh
  fresh=$(fake_creds "$(ms_from_now 28800)" c-onehop)
  claude_as cscarol onehop "$fresh"
  assert_equal "$(stat -c '%U %G %a' $SHARED)" "cscarol claudeshare 660"
  assert_converged "$fresh"
}

@test "(d) a logged-out stub never wins: backed up and relinked" {
  local shared stub
  shared=$(cat $SHARED)
  stub=$(fake_creds 0 stub | sed 's/"refreshToken":"[^"]*"/"refreshToken":""/')
  claude_as csalice sever "$stub"
  run claude-share status
  assert_failure 1
  run claude-share sync
  assert_success
  assert_equal "$(cat "$(find $SD/backups -path '*/csalice/.claude/.credentials.json')")" "$stub"
  assert_converged "$shared"
}

@test "(e) /login with another account never wins; the report names the user" {
  local shared
  shared=$(cat $SHARED)
  claude_as cscarol sever "$(fake_creds "$(ms_from_now 90000)" other 99999999-0000-4000-8000-000000000009)"
  run claude-share status
  assert_failure 1
  assert_output --partial 'cscarol logged in to another account'
  run claude-share sync
  assert_success
  assert_output --partial cscarol
  assert_converged "$shared"
}

@test "(e2) /login with another account by a client that drops accountUuid and rewrites the shared .claude.json through the link: the pinned account holds; sync --accept-account switches on purpose" {
  local shared other
  shared=$(cat $SHARED)
  [ "$(stat -c '%U %a' /var/lib/claude-share/account)" = 'root 600' ]
  other=$(fake_creds "$(ms_from_now 90000)" other | sed 's/,"accountUuid":"[^"]*"//')
  claude_as cscarol sever "$other"
  su - cscarol -c "t=$SD/home/.claude/.claude.json.tmp.\$\$; printf '%s' '{\"oauthAccount\":{\"accountUuid\":\"99999999-0000-4000-8000-000000000009\"},\"hasCompletedOnboarding\":true}' >\$t && chmod 660 \$t && mv \$t $SD/home/.claude/.claude.json"
  run claude-share status
  assert_failure 1
  assert_output --partial 'cscarol logged in with another account through the link'
  run claude-share sync --dry-run --accept-account
  assert_output --partial 'would promote into shared copy'
  run claude-share sync --accept-account
  assert_success
  assert_equal "$(cat $SHARED)" "$other"
  grep -q 99999999-0000-4000-8000-000000000009 /var/lib/claude-share/account
  run claude-share status
  assert_success
  [[ "$shared" != "$other" ]]
}

@test "several members severed with different expiry: the greatest expiresAt wins" {
  local best
  best=$(fake_creds "$(ms_from_now 30000)" best)
  claude_as csalice sever "$(fake_creds "$(ms_from_now 10000)" early)"
  claude_as csbob sever "$best"
  claude_as cscarol sever "$(fake_creds "$(ms_from_now 20000)" middle)"
  dry_run_changes_nothing
  run claude-share sync
  assert_success
  for who in shared csalice csbob cscarol; do
    assert_equal "$(count_backups $who)" 1
  done
  assert_converged "$best"
}

@test "a deleted link, a link pointing elsewhere, a member out of the group: detected, repaired" {
  local shared
  shared=$(cat $SHARED)
  su - csalice -c 'rm ~/.claude/settings.json'
  su - csbob -c 'ln -sfn /tmp/elsewhere ~/.claude.json'
  gpasswd -d cscarol claudeshare >/dev/null
  run claude-share status
  assert_failure 1
  assert_output --partial missing
  assert_output --partial wrong-target
  assert_output --partial not-in-group
  dry_run_changes_nothing
  run claude-share sync
  assert_success
  run id -nG cscarol
  assert_output --partial claudeshare
  assert_equal "$(readlink /home/csbob/.claude.json)" "$SD/home/.claude/.claude.json"
  assert_converged "$shared"
}

@test "a layout before 0.2 (.claude.json in a group-writable <shared>/home): sync moves it, makes <shared>/home 2750, relinks everyone; the members' Claude keeps working" {
  local shared cj
  shared=$(cat $SHARED)
  # What 0.1 made: the shared .claude.json beside .claude/, <shared>/home 2770, the links pointing there.
  mv $SD/home/.claude/.claude.json $SD/home/.claude.json
  chmod 2770 $SD/home
  for u in csalice csbob cscarol; do ln -sfn $SD/home/.claude.json /home/$u/.claude.json; done
  printf '{"hasCompletedOnboarding":true,"theme":"old"}\n' | su - csbob -c "bash $FAKE onehop .claude.json"
  cj=$(cat $SD/home/.claude.json)
  run claude-share status
  assert_failure 1
  assert_output --partial legacy-layout
  dry_run_changes_nothing
  run claude-share sync
  assert_success
  assert_output --partial 'moved the shared .claude.json (layout before 0.2) to'
  [ ! -e $SD/home/.claude.json ]
  assert_equal "$(cat $SD/home/.claude/.claude.json)" "$cj"
  assert_equal "$(stat -c '%U:%G %a' $SD/home)" "root:claudeshare 2750"
  for u in csalice csbob cscarol; do assert_equal "$(readlink /home/$u/.claude.json)" "$SD/home/.claude/.claude.json"; done
  # A member's Claude writes .claude.json the one-hop way: the temp file now goes where she may write.
  printf '{"hasCompletedOnboarding":true,"theme":"new"}\n' | su - csalice -c "bash $FAKE onehop .claude.json"
  run su - cscarol -c 'cat ~/.claude.json'
  assert_output --partial '"theme":"new"'
  run su - csalice -c "touch $SD/home/x"
  assert_failure
  assert_converged "$shared"
}

@test "a shared file set to 0600 by its owner: permission-drift, repaired" {
  chown csalice $SD/home/.claude/settings.json
  su - csalice -c "chmod 0600 $SD/home/.claude/settings.json"
  run claude-share status --json
  assert_failure 1
  assert_output --partial permission-drift
  run claude-share sync
  assert_success
  assert_equal "$(stat -c '%U %a' $SD/home/.claude/settings.json)" "csalice 660"
  assert_converged "$(cat $SHARED)"
}

@test "status --quiet prints nothing when healthy" {
  run claude-share status --quiet
  assert_success
  assert_output ''
  su - csalice -c 'rm ~/.claude/settings.json'
  run claude-share status --quiet
  assert_failure 1
  assert_output --partial missing
}

@test "two syncs at once on a drifted system: both succeed or one reports the lock; healthy; no backup lost" {
  local fresh
  fresh=$(fake_creds "$(ms_from_now 40000)" race)
  claude_as csalice sever "$fresh"
  claude_as csbob sever "$(fake_creds 0 stub2 | sed 's/"refreshToken":"[^"]*"/"refreshToken":""/')"
  claude-share sync >/tmp/s1.out 2>&1 & p1=$!
  claude-share sync >/tmp/s2.out 2>&1 & p2=$!
  rc1=0; wait $p1 || rc1=$?
  rc2=0; wait $p2 || rc2=$?
  cat /tmp/s1.out /tmp/s2.out
  [[ $rc1 == 0 || ( $rc1 == 2 && $(cat /tmp/s1.out) == *"holds"* ) ]]
  [[ $rc2 == 0 || ( $rc2 == 2 && $(cat /tmp/s2.out) == *"holds"* ) ]]
  for who in shared csalice csbob; do
    assert_equal "$(count_backups $who)" 1
  done
  assert_converged "$fresh"
}

@test "a stale lock left by a killed process is broken" {
  mkdir -p -m 0700 /run/claude-share
  echo 999999 >/run/claude-share/lock
  run claude-share sync
  assert_success
  [ ! -e /run/claude-share/lock ]
}
