#!/usr/bin/python
# -*- coding: utf-8 -*-
# claude-share's Ansible module: converges one host through the claude-share CLI and its --json output.
# GPL-compatible, no dependency beyond ansible-core's module_utils.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: claude_share
short_description: Share one Claude Code login between the users of a Linux server (claude-share)
description:
  - Converges a host with the claude-share CLI (installed by the role's install step), which it calls with C(--json).
  - C(changed) is true only when the CLI changed something; in check mode the CLI runs with C(--dry-run) and the
    module reports what would change; with C(--diff) the plan is shown as before/after lines.
  - Failures carry the CLI's problem code (C(code)) and its fix line (C(fix)).
  - Passwords reach the CLI through a root-only temporary file, never its command line.
options:
  state:
    description: C(present) converges; C(absent) runs C(claude-share server uninstall) (members keep private copies).
    type: str
    choices: [present, absent]
    default: present
  shared_dir:
    type: str
    default: /shared/claude-share
  group:
    type: str
    default: claudeshare
  source_user:
    description: Whose login seeds the shared copy at the first init.
    type: str
    default: root
  members:
    description: The members. One that leaves the list is removed (remove-user, data kept).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        type: str
        required: true
      password:
        description: Used when the account is created (never changed afterwards). Required unless no_password.
        type: str
  no_password:
    description: Accounts with a locked password (SSH keys only).
    type: bool
    default: false
  share_settings_local:
    type: bool
    default: true
  healer:
    description: What keeps the links healed between runs.
    type: str
    choices: [watch, cron, cron-heal, none]
    default: cron-heal
  prometheus_path:
    description: When set, status writes node_exporter's textfile there every 5 minutes (a cron file of its own).
    type: str
    default: ""
  cli:
    type: str
    default: /usr/local/bin/claude-share
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

CONFIG = "/etc/claude-share/config"
CRON = "/etc/cron.d/claude-share"
UNIT = "/etc/systemd/system/claude-share-watch.service"
PROM_CRON = "/etc/cron.d/claude-share-prometheus"


def read_config():
    values = {}
    with open(CONFIG, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                values[k.strip()] = v.strip().strip('"')
    split = lambda k: [x for x in values.get(k, "").split(",") if x]
    return {
        "shared_dir": values.get("SHARED_DIR"),
        "group": values.get("GROUP"),
        "members": split("MANAGED_USERS"),
        "containers": split("CONTAINERS"),
    }


class Cli:
    def __init__(self, module):
        self.m = module
        self.check = module.check_mode
        self.changed = False
        self.results = []
        self.before = []
        self.after = []

    def secret_file(self, text):
        """A root-only file under /root for a password: removed when the module ends."""
        fd, path = tempfile.mkstemp(prefix=".claude-share-ansible.", dir="/root")
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        self.m.add_cleanup_file(path)
        return path

    def run(self, args, mutating=True):
        argv = [self.m.params["cli"]] + args + ["--json"]
        if mutating and self.check:
            argv.append("--dry-run")
        rc, out, err = self.m.run_command(argv, environ_update={"NO_COLOR": "1"})
        try:
            doc = json.loads(out) if out.strip() else {}
        except ValueError:
            doc = {}
        if "error" in doc or rc not in (0, 1):
            e = doc.get("error") or {}
            self.m.fail_json(
                msg="claude-share %s: %s" % (" ".join(args[:2]), e.get("message") or err.strip() or "failed (exit %d)" % rc),
                code=e.get("code"),
                fix=e.get("fix"),
                rc=rc,
                changed=self.changed,
                results=self.results,
            )
        counts = doc.get("counts") or {}
        acted = counts.get("planned", 0) > 0 if self.check else counts.get("changed", 0) > 0 or counts.get("failed", 0) > 0
        for a in doc.get("actions") or []:
            if a.get("result") in ("planned", "created", "replaced", "backed-up", "failed"):
                what = "%s %s" % (a.get("kind"), a.get("path") or a.get("group") or a.get("user") or ",".join(a.get("users") or []))
                self.before.append("%s: %s" % (what, a.get("before")))
                self.after.append("%s: %s" % (what, a.get("after")))
        if acted:
            self.changed = True
        self.results.append({"command": " ".join(args), "rc": rc, "changed": acted, "problems": [p.get("code") for p in doc.get("problems") or []]})
        return doc

    def plain(self, args, path):
        """A command without --json (install-cron, install-service): run unless in check mode; it rewrites path."""
        self.changed = True
        self.before.append("%s: as it is" % path)
        self.after.append("%s: %s" % (path, " ".join(args)))
        if self.check:
            return
        rc, out, err = self.m.run_command([self.m.params["cli"]] + args, environ_update={"NO_COLOR": "1"})
        if rc != 0:
            self.m.fail_json(msg="claude-share %s failed (exit %d): %s" % (" ".join(args), rc, (err or out).strip()), rc=rc, changed=self.changed, results=self.results)
        self.results.append({"command": " ".join(args), "rc": rc, "changed": True})

    def file(self, path, content):
        """A file the module owns (cron lines): written only when it differs; None removes it."""
        have = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                have = f.read()
        if have == content:
            return
        self.changed = True
        self.before.append("%s: %s" % (path, "present" if have is not None else "absent"))
        self.after.append("%s: %s" % (path, "present" if content is not None else "absent"))
        if self.check:
            return
        if content is None:
            os.unlink(path)
        else:
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                f.write(content)
            os.chmod(path + ".tmp", 0o644)
            os.rename(path + ".tmp", path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            shared_dir=dict(type="str", default="/shared/claude-share"),
            group=dict(type="str", default="claudeshare"),
            source_user=dict(type="str", default="root"),
            members=dict(type="list", elements="dict", default=[], options=dict(name=dict(type="str", required=True), password=dict(type="str", no_log=True))),
            no_password=dict(type="bool", default=False, no_log=False),
            share_settings_local=dict(type="bool", default=True),
            healer=dict(type="str", choices=["watch", "cron", "cron-heal", "none"], default="cron-heal"),
            prometheus_path=dict(type="str", default=""),
            cli=dict(type="str", default="/usr/local/bin/claude-share"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    cli = Cli(module)
    names = [m["name"] for m in p["members"]]
    if len(set(names)) != len(names):
        module.fail_json(msg="claude_share_members names a member twice: %s" % ", ".join(sorted(n for n in set(names) if names.count(n) > 1)))
    # A line break would give the users file (and chpasswd) a second "name:password" line: refused, as the CLI does.
    bad = [m["name"] for m in p["members"] if m.get("password") and any(ord(c) < 32 or ord(c) == 127 for c in m["password"])]
    if bad:
        module.fail_json(msg="the password of %s has a line break or another control character: not allowed" % ", ".join(bad))
    if not p["no_password"]:
        missing = [m["name"] for m in p["members"] if not m.get("password")]
        if missing:
            module.fail_json(msg="members without a password: %s (give each a password from Ansible Vault, or set claude_share_no_password: true)" % ", ".join(missing))
    if not os.path.exists(p["cli"]):
        if module.check_mode and p["state"] == "present":
            # A new host in check mode: the install step did not run, so nothing can be asked of the CLI yet.
            cli.changed = True
            cli.before.append("claude-share: not installed")
            cli.after.append("claude-share: installed, server init with %d member(s)" % len(names))
            finish(module, cli)
        if p["state"] == "absent":
            finish(module, cli)
        module.fail_json(msg="%s is not installed: run the role's install step (claude_share_install: true)" % p["cli"])

    configured = os.path.exists(CONFIG)
    if p["state"] == "absent":
        if configured:
            cli.run(["server", "uninstall", "--yes"])
        if os.path.exists(PROM_CRON):
            cli.file(PROM_CRON, None)
        finish(module, cli)

    if not configured:
        args = ["server", "init", "--yes", "--shared-dir", p["shared_dir"], "--group", p["group"], "--source-user", p["source_user"]]
        if not p["share_settings_local"]:
            args.append("--no-settings-local")
        if p["no_password"]:
            args.append("--no-password")
            for n in names:
                args += ["--user", n]
        elif names:
            args += ["--users-from-file", cli.secret_file("".join("%s:%s\n" % (m["name"], m["password"]) for m in p["members"]))]
        cli.run(args)
    else:
        c = read_config()
        if c["shared_dir"] != p["shared_dir"] or c["group"] != p["group"]:
            module.fail_json(
                msg="this host is set up with shared_dir %s and group %s; moving them is not supported" % (c["shared_dir"], c["group"]),
                fix="keep claude_share_shared_dir and claude_share_group as they are, or uninstall first (claude_share_state: absent)",
            )
        current = [n for n in c["members"] if n not in c["containers"]]
        for m in p["members"]:
            if m["name"] in current:
                continue
            args = ["server", "add-user", m["name"], "--yes"]
            args += ["--no-password"] if p["no_password"] else ["--password-from-file", cli.secret_file(m["password"] + "\n")]
            cli.run(args)
        for n in current:
            if n not in names:
                cli.run(["server", "remove-user", n])
        cli.run(["sync"])

    # The healer: what is there is compared first, so that a second run changes nothing.
    if p["healer"] in ("cron", "cron-heal"):
        want = "sync --cron" if p["healer"] == "cron-heal" else "status --cron"
        have = open(CRON, encoding="utf-8").read() if os.path.exists(CRON) else ""
        if want not in have:
            cli.plain(["server", "install-cron"] + (["--heal"] if p["healer"] == "cron-heal" else []), CRON)
    elif p["healer"] == "watch":
        if not os.path.exists(UNIT):
            cli.plain(["server", "install-service"], UNIT)
    if p["healer"] != "watch" and os.path.exists(UNIT):
        cli.plain(["server", "install-service", "--uninstall"], UNIT)
    if p["healer"] not in ("cron", "cron-heal") and os.path.exists(CRON):
        cli.plain(["server", "install-cron", "--uninstall"], CRON)
    if p["prometheus_path"]:
        cli.file(PROM_CRON, "# Written by the claude_share Ansible role.\n*/5 * * * * root %s status --quiet --prometheus %s >/dev/null\n" % (p["cli"], p["prometheus_path"]))
    elif os.path.exists(PROM_CRON):
        cli.file(PROM_CRON, None)
    finish(module, cli)


def finish(module, cli):
    diff = {"before": "\n".join(cli.before) + ("\n" if cli.before else ""), "after": "\n".join(cli.after) + ("\n" if cli.after else "")}
    module.exit_json(changed=cli.changed, results=cli.results, diff=diff)


if __name__ == "__main__":
    main()
