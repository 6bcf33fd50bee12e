#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qpatch developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: patch
short_description: Put a qpatch patch into a wanted state in live processes
version_added: "0.1.0"
description:
  - Loads, activates or rolls back a qpatch patch object (a relocatable C/C++ C(.o)) in every
    selected process of the managed host, through the C(qpatch) command there.
  - Each process is patched all or nothing; a process already in the wanted state is left
    alone (C(ok), not C(changed)); the host fails when any selected process fails.
  - In check mode qpatch runs every check of a real run (C(--dry-run)) and writes nothing.
options:
  object:
    description: Path of the patch object on the managed host.
    type: path
    required: true
  pid:
    description: Process ids to patch.
    type: list
    elements: int
  exe:
    description: Every process running this executable (the same file, not the same name).
    type: path
  lib:
    description: Every process that maps this library (a file name such as C(libssl.so.3), or a path).
    type: str
  state:
    description:
      - C(active) loads the patch where it is absent and activates it where it is loaded.
      - C(loaded) loads it where it is absent (a process where it is active already is left so).
      - C(absent) rolls it back.
    type: str
    choices: [active, loaded, absent]
    default: active
  qpatch:
    description: The qpatch launcher on the managed host.
    type: path
    default: qpatch
notes:
  - Exactly one of I(pid), I(exe), I(lib) is given.
  - Needs root (or the ptrace rights over the selected processes) on the managed host.
author:
  - qpatch developers
'''

EXAMPLES = r'''
- name: Fix every nginx worker
  qpatch.live.patch:
    object: /var/lib/qpatch/fix.o
    exe: /usr/sbin/nginx

- name: Patch every process that maps libssl, but only load the patch
  qpatch.live.patch:
    object: /var/lib/qpatch/ssl-fix.o
    lib: libssl.so.3
    state: loaded

- name: Roll it back from two processes
  qpatch.live.patch:
    object: /var/lib/qpatch/fix.o
    pid: [1234, 1240]
    state: absent
'''

RETURN = r'''
processes:
  description: One entry per selected process.
  returned: always
  type: list
  elements: dict
  contains:
    pid:
      description: The process id.
      type: int
    command:
      description: Its name (/proc/PID/comm).
      type: str
    before:
      description: The patch's state before (absent, loaded, active, rolled back).
      type: str
    after:
      description: Its state after (in check mode, what it would be).
      type: str
    changed:
      description: Whether this process was (or would be) changed.
      type: bool
    result:
      description: C(ok), C(failed), or C(exited) (the process ended meanwhile; nothing left to patch).
      type: str
    msg:
      description: Why it failed, or what was checked.
      type: str
summary:
  description: Counts of the run (selected, changed, unchanged, failed, exited).
  returned: when qpatch ran
  type: dict
'''

import json

from ansible.module_utils.basic import AnsibleModule

ACTIONS = {'active': ['apply'], 'loaded': ['-l'], 'absent': ['-r']}


def command(params, check_mode):
    argv = [params['qpatch']]
    action = ACTIONS[params['state']]
    if action[0] == 'apply':
        argv += action
        action = []
    argv += ['-o', params['object']]
    if params['pid']:
        argv += ['-p', ','.join(str(p) for p in params['pid'])]
    if params['exe']:
        argv += ['--exe', params['exe']]
    if params['lib']:
        argv += ['--lib', params['lib']]
    argv += action + ['--json']
    if check_mode:
        argv.append('--dry-run')
    return argv


def parse(out):
    processes, summary = [], None
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith('{'):
            continue
        obj = json.loads(line)
        if 'summary' in obj:
            summary = obj['summary']
        else:
            processes.append({k: obj.get(k) for k in ('pid', 'command', 'before', 'after', 'changed', 'result', 'msg')})
    return processes, summary


def main():
    module = AnsibleModule(
        argument_spec=dict(
            object=dict(type='path', required=True),
            pid=dict(type='list', elements='int'),
            exe=dict(type='path'),
            lib=dict(type='str'),
            state=dict(type='str', choices=['active', 'loaded', 'absent'], default='active'),
            qpatch=dict(type='path', default='qpatch'),
        ),
        required_one_of=[('pid', 'exe', 'lib')],
        mutually_exclusive=[('pid', 'exe', 'lib')],
        supports_check_mode=True,
    )
    argv = command(module.params, module.check_mode)
    rc, out, err = module.run_command(argv)
    processes, summary = parse(out)
    changed = any(p['changed'] for p in processes)
    if summary is None:
        module.fail_json(msg=(err or out).strip() or 'qpatch printed nothing', rc=rc, cmd=argv, processes=processes)
    if rc != 0 or not summary.get('ok'):
        failed = [p for p in processes if p['result'] == 'failed']
        module.fail_json(msg='qpatch failed in %d of %d processes: %s' % (
            summary.get('failed', 0), summary.get('selected', 0),
            '; '.join('pid %s: %s' % (p['pid'], p['msg']) for p in failed)),
            rc=rc, cmd=argv, processes=processes, summary=summary, changed=changed)
    module.exit_json(changed=changed, processes=processes, summary=summary, cmd=argv)


if __name__ == '__main__':
    main()
