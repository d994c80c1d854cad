#!/usr/bin/env bash
# The Ansible suite (issue 17): the role and module under ansible/, with Debian's ansible-core, against two hosts in
# the e2e sandbox (test/ansible/ansible.bats), then ansible-lint on the role when Debian packages it.
#
#   sudo npm run test:ansible  [bats options such as --filter REGEX]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
say() { printf 'ansible: %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || { say "run it as root (it creates users in a disposable sandbox): sudo npm run test:ansible"; exit 77; }
apt_install() {
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
    { apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null; }
}
command -v ansible-playbook >/dev/null || { say "installing ansible-core (apt-get)"; apt_install ansible-core; }
say "$(ansible-playbook --version | head -1)"
cd "$repo"
rc=0
CLAUDE_SHARE_E2E_MODE=${CLAUDE_SHARE_E2E_MODE:-sandbox} bash docker/e2e/run.sh test/ansible/ansible.bats "$@" || rc=$?
# ansible-lint, Debian's (6.13 on Debian 12): the role and the README's playbook, production profile, no violation.
command -v ansible-lint >/dev/null || { say "installing ansible-lint (apt-get)"; apt_install ansible-lint || true; }
if command -v ansible-lint >/dev/null; then
  if (cd ansible && ansible-lint --nocolor --strict -p roles/claude_share example/playbook.yml); then say "ansible-lint: clean"; else
    say "ansible-lint found violations (above)"
    rc=1
  fi
else
  say "ansible-lint is not packaged here: not run"
fi
exit "$rc"
