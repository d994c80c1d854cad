#!/usr/bin/env bats
# The README's walkthrough, run verbatim: every ```sh block of its "Walkthrough" section, in order, as one bash
# script (set -e: a step that fails stops it), from a fresh clone of this repository, as root. Blocks marked
# ```sh by hand``` need a person, the network or systemd; what they would have left is put in place here instead:
# root's Claude login (step 3), a cron daemon binary and node-exporter's textfile directory (step 7). The sandbox
# has no network, so npm's cache stands in for the registry (prefer-offline, as in 60-lifecycle's install case).

setup_file() {
  load test_helper
  reset_state
}

setup() {
  load test_helper
  WALK=/tmp/cs-walk
  SHIM=$(cat /usr/local/bin/claude-share)
}

teardown() {
  local u
  for u in alice bob dave erin; do
    _cs_in_baseline users "$u" || userdel -f -r "$u" >/dev/null 2>&1 || true
  done
  rm -f /root/users.txt /root/dave.pw /root/.claude/.credentials.json /etc/cron.d/claude-share
  [[ -e $WALK/npmrc.saved ]] && mv "$WALK/npmrc.saved" /root/.npmrc || rm -f /root/.npmrc
  [[ -e $WALK/cron-stub ]] && rm -f /usr/sbin/cron
  rm -rf "$WALK" /var/lib/prometheus /usr/local/lib/claude-share
  printf '%s\n' "$SHIM" >/usr/local/bin/claude-share && chmod 0755 /usr/local/bin/claude-share
  reset_state
}

# walkthrough_blocks README -- the section's ```sh blocks as one script, each headed by "# block N"; by-hand blocks
# are counted on stderr ("by hand: N").
walkthrough_blocks() {
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n");
    const start = lines.findIndex((l) => l.startsWith("## Walkthrough"));
    const end = lines.findIndex((l, i) => i > start && l.startsWith("## "));
    let block = null, n = 0, manual = 0, out = [];
    for (const l of lines.slice(start, end)) {
      const fence = /^(\s*)```(.*)$/.exec(l);
      if (block === null && fence && /^sh\b/.test(fence[2])) block = { indent: fence[1].length, manual: /by hand/.test(fence[2]), body: [] };
      else if (block && fence) {
        if (block.manual) manual++;
        else out.push(`# block ${++n}`, ...block.body.map((b) => b.slice(block.indent)));
        block = null;
      } else if (block) block.body.push(l);
    }
    process.stderr.write(`by hand: ${manual}\n`);
    process.stdout.write(out.join("\n") + "\n");' "$1"
}

@test "the README's walkthrough, run verbatim from a clone: every sh block in order, then what it promised holds" {
  mkdir -p $WALK
  walkthrough_blocks "$CS_REPO/README.md" >$WALK/walkthrough.sh 2>$WALK/manual
  # The walkthrough really is made of tested steps: at least install, init, verify, add, heal, upgrade, remove,
  # uninstall; and the by-hand ones are the four the README names.
  [ "$(grep -c '^# block ' $WALK/walkthrough.sh)" -ge 8 ]
  assert_equal "$(cat $WALK/manual)" 'by hand: 4'
  grep -qx 'sudo ./install.sh' $WALK/walkthrough.sh
  grep -qx 'sudo claude-share server uninstall --yes' $WALK/walkthrough.sh

  # What the by-hand steps leave.
  install -d -m 0700 /root/.claude
  fake_creds "$(ms_from_now 7200)" walk >/root/.claude/.credentials.json
  chmod 0600 /root/.claude/.credentials.json
  if [[ ! -e /usr/sbin/cron ]]; then
    printf '#!/bin/sh\nexit 0\n' >/usr/sbin/cron && chmod 0755 /usr/sbin/cron && touch $WALK/cron-stub
  fi
  mkdir -p /var/lib/prometheus/node-exporter
  # A server resolves its own name (sudo asks for it); a container's /etc/hosts may not have it (Docker, --network none).
  getent hosts "$(hostname)" >/dev/null || echo "127.0.1.1 $(hostname)" >>/etc/hosts
  [[ -e /root/.npmrc ]] && cp -p /root/.npmrc $WALK/npmrc.saved
  echo prefer-offline=true >>/root/.npmrc

  # A newcomer's clone: the README's commands run from inside it.
  make_origin $WALK/origin
  git clone -q $WALK/origin $WALK/claude-share
  rm -f /usr/local/bin/claude-share
  run bash -c "cd $WALK/claude-share && bash -e -o pipefail $WALK/walkthrough.sh"
  echo "$output" | tail -40
  assert_success
  # Nothing it says is a false alarm: no account it just deleted reported missing, no advice to do what was done.
  refute_output --partial 'user-missing'
  refute_output --partial 'still linked'
  refute_output --partial 'unable to resolve host'

  # Step 5: alice's login is a link into the shared directory, and status said healthy.
  assert_line '/shared/claude-share/home/.claude/.credentials.json'
  assert_output --partial 'claude-share status: healthy'
  # Step 7: monitoring saw a healthy setup.
  grep -qx 'claude_share_healthy 1' /var/lib/prometheus/node-exporter/claude-share.prom
  # Step 9: bob stays, out of the group; erin is gone with her home.
  getent passwd bob >/dev/null
  ! id -nG bob | grep -qw claudeshare
  ! getent passwd erin >/dev/null
  [ ! -e /home/erin ]
  # Step 10: everyone's settings are their own files again, no one holds a copy of the single-use login, and
  # nothing of the tool is left but the shared directory with its backups.
  local u
  for u in alice bob dave; do
    [ -f /home/$u/.claude/settings.json ] && [ ! -L /home/$u/.claude/settings.json ]
    [ ! -L /home/$u/.claude/.credentials.json ]
  done
  [ ! -e /etc/claude-share/config ] && [ ! -e /etc/cron.d/claude-share ]
  [ ! -e /usr/local/bin/claude-share ] && [ ! -e /usr/local/lib/claude-share ]
  [ -f /shared/claude-share/home/.claude/.credentials.json ] && [ -d /shared/claude-share/backups ]
}
