# -*- coding: utf-8 -*-
# A connection for claude-share's Ansible test only: each "host" is a root directory (an overlay made by
# test/ansible/ansible.bats inside the e2e sandbox), entered with chroot(8). ansible-core has no chroot connection
# (community.general's is not in Debian's ansible-core), and these hosts need no sshd.
from __future__ import annotations

DOCUMENTATION = r"""
name: cs_chroot
short_description: Run tasks in a chroot directory (claude-share's test hosts)
description: The host's ansible_host is the root directory; commands run as root through chroot(8).
options:
  remote_addr:
    description: The root directory.
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
"""

import os
import shutil
import subprocess

from ansible.errors import AnsibleError
from ansible.plugins.connection import ConnectionBase


class Connection(ConnectionBase):
    transport = "cs_chroot"
    has_pipelining = True
    default_user = "root"

    def _connect(self):
        self.root = self.get_option("remote_addr")
        if not os.path.isfile(os.path.join(self.root, "bin/sh")):
            raise AnsibleError("%s is not a root directory" % self.root)
        self._connected = True
        return self

    def exec_command(self, cmd, in_data=None, sudoable=False):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        p = subprocess.Popen(["chroot", self.root, "/bin/sh", "-c", cmd], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/")
        out, err = p.communicate(in_data)
        return p.returncode, out, err

    def _inside(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        shutil.copyfile(in_path, self._inside(out_path))

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        shutil.copyfile(self._inside(in_path), out_path)

    def close(self):
        self._connected = False
