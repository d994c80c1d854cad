#!/usr/bin/env bats
# The Ansible role and module (issue 17) with Debian's ansible-core, against two hosts inside the e2e sandbox: each a
# root directory of its own (an overlay on the sandbox's /, with its own /etc, homes and /tmp), entered through
# test/ansible/connection_plugins/cs_chroot.py. The playbook is the README's, ansible/example/playbook.yml, as written;
# only the inventory is the test's. The cases run in order, as one story: the three-step test the Ansible project
# uses (check mode changes nothing and reports changes; apply changes; apply again changes nothing), then drift.

HOSTS=/tmp/cs-hosts
A=/tmp/cs-ansible

setup_file() {
  load ../../docker/e2e/test_helper
  require_sandbox
  command -v ansible-playbook >/dev/null || { echo "ansible-playbook not found: run it through test/ansible/run.sh" >&2; return 1; }
  local h r
  mkdir -p $A
  for h in host1 host2; do
    r=$HOSTS/$h/root
    mkdir -p $HOSTS/$h/upper $HOSTS/$h/work $r
    mount -t overlay "cs-$h" -o lowerdir=/,upperdir=$HOSTS/$h/upper,workdir=$HOSTS/$h/work $r
    mount -t proc proc $r/proc
    mount --rbind /dev $r/dev
    mount -t tmpfs tmp $r/tmp
    mount -t tmpfs run $r/run
    # A new host: without the claude-share the sandbox put on its own PATH.
    rm -rf $r/usr/local/bin/claude-share $r/usr/local/lib/claude-share
    # No registry here: npm's cache stands in for it (as in 60-lifecycle's install.sh case).
    echo prefer-offline=true >>$r/root/.npmrc
    # The login that init shares (a fake one: no client talks to any endpoint here).
    rm -rf $r/root/.claude $r/root/.claude.json
    install -d -m 0700 $r/root/.claude
    fake_creds "$(ms_from_now 7200)" "$h" >$r/root/.claude/.credentials.json
    printf '{"oauthAccount":{"accountUuid":"00000000-0000-4000-8000-000000000001"},"hasCompletedOnboarding":true}\n' >$r/root/.claude.json
  done
  printf '[claude_share_servers]\nhost1 ansible_host=%s\nhost2 ansible_host=%s\n[claude_share_servers:vars]\nansible_connection=cs_chroot\nansible_python_interpreter=/usr/bin/python3\nansible_become=false\n' \
    $HOSTS/host1/root $HOSTS/host2/root >$A/inventory.ini
  # The members, as group_vars would give them (the passwords in Vault in real life).
  cat >$A/vars.yml <<EOF
claude_share_source: $CS_REPO
claude_share_healer: none
claude_share_members:
  - {name: csann, password: "ann-pw-1"}
  - {name: csben, password: "ben-pw-1"}
EOF
}

teardown_file() {
  local h
  for h in host1 host2; do umount -R $HOSTS/$h/root 2>/dev/null || umount -l $HOSTS/$h/root 2>/dev/null; done
  return 0
}

setup() {
  load ../../docker/e2e/test_helper
}

# play [ARGS...] -- the README's playbook on both hosts; output in $output, the recap per host in RECAP_host1/2.
play() {
  run env ANSIBLE_ROLES_PATH="$CS_REPO/ansible/roles" ANSIBLE_CONNECTION_PLUGINS="$BATS_TEST_DIRNAME/connection_plugins" \
    ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_LOCAL_TEMP=$A/tmp \
    ansible-playbook -i $A/inventory.ini -e @$A/vars.yml "$@" "$CS_REPO/ansible/example/playbook.yml"
  RECAP_host1=$(grep -E '^host1 +:' <<<"$output" || true)
  RECAP_host2=$(grep -E '^host2 +:' <<<"$output" || true)
}
changed() { grep -oE 'changed=[0-9]+' <<<"$1" | cut -d= -f2; }
in_host() { local h=$1; shift; chroot $HOSTS/$h/root "$@"; }
# host_state HOST -- accounts, claude-share's files and the homes of a host: what a check run must not change.
host_state() {
  local r=$HOSTS/$1/root
  cat $r/etc/passwd $r/etc/group $r/etc/shadow
  ls -la $r/usr/local/bin $r/etc/claude-share $r/shared $r/home 2>&1
  return 0
}

@test "1. check mode on two new hosts: reports what would change on each, changes nothing" {
  local b1 b2
  b1=$(host_state host1) b2=$(host_state host2)
  play --check --diff
  [[ $status -eq 0 ]] || { echo "$output"; false; }
  [[ $(changed "$RECAP_host1") -ge 1 && $(changed "$RECAP_host2") -ge 1 ]] || { echo "$output"; false; }
  assert_output --partial 'server init with 2 member(s)'
  [[ "$(host_state host1)" == "$b1" && "$(host_state host2)" == "$b2" ]] || { echo "check mode changed a host"; false; }
  refute_output --partial 'ann-pw-1'
}

@test "2. apply: installs claude-share with install.sh and converges both hosts (changed)" {
  play --diff
  [[ $status -eq 0 ]] || { echo "$output"; false; }
  [[ $(changed "$RECAP_host1") -ge 1 && $(changed "$RECAP_host2") -ge 1 ]] || { echo "$output"; false; }
  refute_output --partial 'ann-pw-1'
  local h
  for h in host1 host2; do
    # install.sh built it there (setup_file removed any claude-share the hosts had).
    [[ "$(readlink $HOSTS/$h/root/usr/local/bin/claude-share)" == /usr/local/lib/claude-share/dist/src/cli.js && -f $HOSTS/$h/root/usr/local/lib/claude-share/dist/src/cli.js ]]
    run in_host $h claude-share status
    assert_success
    assert_output --partial csann
    assert_output --partial csben
    # The password from the vars reached chpasswd (never argv): su with it works.
    [[ "$(in_host $h getent shadow csann | cut -d: -f2)" == '$'* ]]
  done
}

@test "3. apply again: changed=0 on every host; check mode now reports nothing to change either" {
  play
  [[ $status -eq 0 ]] || { echo "$output"; false; }
  [[ $(changed "$RECAP_host1") == 0 && $(changed "$RECAP_host2") == 0 ]] || { echo "$output"; false; }
  play --check
  [[ $status -eq 0 && $(changed "$RECAP_host1") == 0 && $(changed "$RECAP_host2") == 0 ]] || { echo "$output"; false; }
}

@test "4. the healer and the Prometheus path: written once (changed), then changed=0; healer none takes them away again" {
  local h
  # A cron daemon on both hosts (install-cron refuses to write a cron file nobody reads): its binary is what it checks.
  for h in host1 host2; do install -m 0755 /dev/null $HOSTS/$h/root/usr/sbin/cron; done
  play -e claude_share_healer=cron-heal -e claude_share_prometheus_path=/var/lib/prom/cs.prom
  [[ $status -eq 0 && $(changed "$RECAP_host1") -ge 1 && $(changed "$RECAP_host2") -ge 1 ]] || { echo "$output"; false; }
  for h in host1 host2; do
    grep -q 'root /usr/local/bin/claude-share sync --cron' $HOSTS/$h/root/etc/cron.d/claude-share
    grep -q 'status --quiet --prometheus /var/lib/prom/cs.prom' $HOSTS/$h/root/etc/cron.d/claude-share-prometheus
  done
  play -e claude_share_healer=cron-heal -e claude_share_prometheus_path=/var/lib/prom/cs.prom
  [[ $status -eq 0 && $(changed "$RECAP_host1") == 0 && $(changed "$RECAP_host2") == 0 ]] || { echo "$output"; false; }
  play
  [[ $status -eq 0 && $(changed "$RECAP_host1") -ge 1 ]] || { echo "$output"; false; }
  [[ ! -e $HOSTS/host1/root/etc/cron.d/claude-share && ! -e $HOSTS/host1/root/etc/cron.d/claude-share-prometheus ]]
  for h in host1 host2; do rm -f $HOSTS/$h/root/usr/sbin/cron; done
}

@test "5. a member dropped from the inventory is removed on every host (remove-user: data kept)" {
  sed -i '/csben/d' $A/vars.yml
  play --diff
  [[ $status -eq 0 && $(changed "$RECAP_host1") -ge 1 && $(changed "$RECAP_host2") -ge 1 ]] || { echo "$output"; false; }
  local h
  for h in host1 host2; do
    run in_host $h claude-share status --json
    assert_success
    refute_output --partial '"name": "csben"'
    [[ -d $HOSTS/$h/root/home/csben ]]
  done
}

@test "6. a link severed on one host: re-apply heals it there (changed=1) and changes nothing on the other" {
  local f=$HOSTS/host1/root/home/csann/.claude/settings.json
  [[ -L $f ]]
  rm $f && echo '{"mine":true}' >$f && in_host host1 chown csann: /home/csann/.claude/settings.json
  play --diff
  [[ $status -eq 0 ]] || { echo "$output"; false; }
  [[ $(changed "$RECAP_host1") == 1 && $(changed "$RECAP_host2") == 0 ]] || { echo "$output"; false; }
  [[ -L $f ]]
}

@test "7. a password that is not a string, an unknown variable, or a name the CLI refuses (its code and fix) fail with a clear message before anything changes" {
  local b1 b2
  b1=$(host_state host1) b2=$(host_state host2)
  play -e '{"claude_share_members": [{"name": "csnew", "password": ["not", "a", "string"]}]}'
  assert_failure
  assert_output --regexp 'password|claude_share_members'
  play -e '{"claude_share_members": [{"name": "csnew", "password": 12345}]}'
  assert_failure
  assert_output --partial 'the password of csnew is not a string'
  play -e claude_share_memebers=oops
  assert_failure
  assert_output --partial 'unknown variable(s) claude_share_memebers'
  # A line break in a password would be a second line of the users file: refused by the module.
  play -e '{"claude_share_members": [{"name": "csnew", "password": "pw\nroot:owned"}]}'
  assert_failure
  assert_output --partial 'the password of csnew has a line break'
  refute_output --partial 'root:owned'
  # What only the CLI knows (a name shadow-utils refuses): its problem code and fix line reach Ansible's failure.
  play -e '{"claude_share_members": [{"name": "csann", "password": "ann-pw-1"}, {"name": "Bad Name", "password": "x"}]}'
  assert_failure
  assert_output --partial '"code": "bad-input"'
  assert_output --regexp '"fix": "[^"]+'
  [[ "$(host_state host1)" == "$b1" && "$(host_state host2)" == "$b2" ]] || { echo "a refused run changed a host"; false; }
}

@test "8. state absent: uninstalls on every host (members keep private copies), the program goes; again: changed=0" {
  play -e claude_share_state=absent
  [[ $status -eq 0 && $(changed "$RECAP_host1") -ge 1 ]] || { echo "$output"; false; }
  [[ ! -e $HOSTS/host1/root/etc/claude-share/config && ! -e $HOSTS/host1/root/usr/local/bin/claude-share ]]
  [[ -f $HOSTS/host1/root/home/csann/.claude/settings.json && ! -L $HOSTS/host1/root/home/csann/.claude/settings.json ]]
  play -e claude_share_state=absent
  [[ $status -eq 0 && $(changed "$RECAP_host1") == 0 && $(changed "$RECAP_host2") == 0 ]] || { echo "$output"; false; }
}
