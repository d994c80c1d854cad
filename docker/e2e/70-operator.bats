#!/usr/bin/env bats
# What an admin meets at the terminal and in scripts: closed pipes, monitoring paths that do not exist yet.

setup() {
  load test_helper
  reset_state
  rm -rf /var/lib/prometheus
  init_with_login ops 3600 csalice csbob
}

# Runs ARGS with stdout a pipe whose reader is already gone (what `| head` does once it has its line), so the very
# first write gets EPIPE; prints "EXIT STDERR".
run_into_closed_pipe() {
  python3 - "$@" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)
os.close(w)
print(p.returncode, p.stderr.decode(errors="replace").strip().replace("\n", " | "))
PY
}

@test "every command survives a closed stdout (status | head): no stack trace, its own exit code, a sync still finishes" {
  run run_into_closed_pipe claude-share status
  assert_success
  assert_output '0 '
  run run_into_closed_pipe claude-share status --json
  assert_output '0 '
  run run_into_closed_pipe claude-share --help
  assert_output '0 '
  # A sync whose reader went away still repairs everything.
  su - csalice -c 'rm ~/.claude/settings.json'
  run run_into_closed_pipe claude-share sync
  assert_output --regexp '^0 '
  refute_output --partial 'EPIPE'
  [ -L /home/csalice/.claude/settings.json ]
  run claude-share status
  assert_success
}

@test "status --prometheus into node-exporter's directory when it is not installed: 64, the fix named, nothing written" {
  run claude-share status --quiet --prometheus /var/lib/prometheus/node-exporter/claude-share.prom
  assert_failure 64
  assert_output --partial 'the directory /var/lib/prometheus/node-exporter does not exist'
  assert_output --partial 'mkdir -p /var/lib/prometheus/node-exporter'
  refute_output --partial 'internal error'
  [ ! -e /var/lib/prometheus ]
  mkdir -p /var/lib/prometheus/node-exporter
  run claude-share status --quiet --prometheus /var/lib/prometheus/node-exporter/claude-share.prom
  assert_success
  grep -qx 'claude_share_healthy 1' /var/lib/prometheus/node-exporter/claude-share.prom
  grep -qx 'claude_share_problems{code="no-login",severity="operator"} 0' /var/lib/prometheus/node-exporter/claude-share.prom
}

@test "backups: list names where each file came from (owner, mode); restore puts a member's old settings back as the shared copy; old runs pruned by BACKUP_KEEP_DAYS, newest logins kept" {
  # csalice's own settings replace her link (0640): sync backs them up and relinks her.
  su - csalice -c 'rm ~/.claude/settings.json && printf "{\"theme\":\"alice\"}\n" >~/.claude/settings.json && chmod 0640 ~/.claude/settings.json'
  run claude-share sync
  assert_success
  run claude-share backups list
  assert_success
  assert_output --partial 'kept 30 days'
  assert_output --regexp '← /home/csalice/\.claude/settings\.json \(member, csalice, mode 0640'
  run claude-share backups list --json
  assert_success
  local what
  what=$(node -e 'const d=JSON.parse(require("fs").readFileSync(0,"utf8")); for (const r of d.runs) for (const f of r.files) if (f.user==="csalice" && f.path.endsWith("settings.json")) { console.log(r.run+"/"+f.file); process.exit(0) }' <<<"$output")
  [ -n "$what" ]
  run claude-share backups restore "$what"
  assert_failure 65
  assert_output --partial 'csalice is managed'
  assert_output --partial -- '--as-shared'
  run claude-share backups restore "$what" --as-shared
  assert_success
  assert_output --partial 'backup:'
  run su - csbob -c 'cat ~/.claude/settings.json'
  assert_output '{"theme":"alice"}'
  assert_equal "$(stat -c '%U %G %a' $SD/home/.claude/settings.json)" 'root claudeshare 660'
  # A live login is not replaced without --force.
  local login
  login=$(find $SD/backups -path '*/root/.claude/.credentials.json' | head -1)
  run claude-share backups restore "${login#$SD/backups/}" --as-shared
  assert_failure 2
  assert_output --partial 'is live'
  # Retention: a 60-day-old run goes (its directory too) after the next run that writes a backup, except the newest
  # login backup of anyone.
  sed -i 's/^BACKUP_KEEP_DAYS=.*/BACKUP_KEEP_DAYS=30/' /etc/claude-share/config
  local old=$SD/backups/$(date -u -d '60 days ago' +%Y-%m-%dT%H-%M-%S.000Z)
  install -d -m 0700 $old/csbob/.claude $old/csalice/.claude
  echo x >$old/csalice/.claude/settings.json
  echo 'bob-only-login' >$old/csbob/.claude/.credentials.json
  chmod 0600 $old/*/.claude/*
  su - csalice -c 'rm ~/.claude/settings.json && echo "{}" >~/.claude/settings.json'
  run claude-share sync
  assert_success
  [ ! -e $old/csalice ]
  assert_equal "$(cat $old/csbob/.claude/.credentials.json)" 'bob-only-login'
  run claude-share status
  assert_success
}

@test "--json: a refusal is one JSON object on stdout too (the human line on stderr); --version, -V and version print the same" {
  run bash -c 'claude-share sync --json --config /nonexistent 2>/dev/null'
  assert_failure 2
  node -e 'const d=JSON.parse(process.argv[1]); if (d.schemaVersion !== 2 || d.command !== "sync" || d.error.exitCode !== 2 || !d.error.message || !("fix" in d.error)) process.exit(1)' "$output"
  run bash -c 'claude-share sync --json --config /nonexistent 2>&1 >/dev/null'
  assert_output --partial 'claude-share: '
  local v1 v2 v3
  v1=$(claude-share --version)
  v2=$(claude-share -V)
  v3=$(claude-share version)
  assert_equal "$v1" "$v3"
  assert_equal "$v2" "$v3"
  [[ "$v3" =~ ^claude-share\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
  # Every problem names its user: two members out of the group are two problems.
  gpasswd -d csalice claudeshare >/dev/null
  gpasswd -d csbob claudeshare >/dev/null
  run claude-share status --json
  assert_failure 1
  node -e 'const d=JSON.parse(process.argv[1]); const u=d.problems.filter(p=>p.code==="not-in-group").map(p=>p.user).sort().join(); if (u !== "csalice,csbob") { console.error(u); process.exit(1) }' "$output"
  run claude-share sync --json
  assert_success
  node -e 'const d=JSON.parse(process.argv[1]); if (d.counts.changed !== 1 || d.counts.failed !== 0) process.exit(1)' "$output"
  # Schema 2: a group is named, never a number or a "target".
  node -e 'const d=JSON.parse(process.argv[1]); const a=d.actions.find(x=>x.kind==="add-to-group"); if (d.schemaVersion !== 2 || a.group !== "claudeshare" || "target" in a || a.result !== "created" && a.result !== "replaced") { console.error(JSON.stringify(a)); process.exit(1) }' "$output"
}

@test "the login's end: estimated 30 days from init when the login does not say; its refreshTokenExpiresAt 5 days ahead is a warning, exit 1, in JSON and Prometheus" {
  run claude-share status --json
  assert_success
  node -e 'const d=JSON.parse(process.argv[1]); if (!d.login.endsAtEstimated || d.login.daysLeft < 29 || d.login.daysLeft > 30) { console.error(JSON.stringify(d.login)); process.exit(1) }' "$output"
  [ "$(stat -c '%U %a' /var/lib/claude-share/login-seen)" = 'root 600' ]
  # A client that keeps refreshTokenExpiresAt (2.1.330) wrote it through the link: 5 days left.
  local ends=$(( $(date +%s%3N) + 5 * 86400000 ))
  sed -i "s/\"scopes\"/\"refreshTokenExpiresAt\":$ends,\"scopes\"/" $SD/home/.claude/.credentials.json
  run claude-share status
  assert_failure 1
  assert_output --partial '[login-ending] the shared login ends in 4 days'
  assert_output --partial 'fix: before then, log in again as one member'
  mkdir -p /var/lib/prometheus/node-exporter
  run claude-share status --quiet --prometheus /var/lib/prometheus/node-exporter/cs.prom
  assert_failure 1
  grep -Eq '^claude_share_login_ends_in_seconds\{estimated="false"\} 4[0-9]{5}$' /var/lib/prometheus/node-exporter/cs.prom
  grep -qx 'claude_share_problems{code="login-ending",severity="warning"} 1' /var/lib/prometheus/node-exporter/cs.prom
}
