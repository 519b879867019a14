#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright: vmnet developers
# GNU Lesser General Public License v2.1 or later (see COPYING or https://www.gnu.org/licenses/lgpl-2.1.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: network
short_description: Make a hypervisor host's VM networks match a vmnet plan
version_added: "0.1.0"
description:
  - Runs the managed host's own C(vmnet) (C(vmnet --json apply) or C(vmnet --json destroy))
    with a plan given as a file on the host or inline, and reports what it changed.
  - vmnet creates and removes bridges, VLAN links, addresses and routes, sets the forwarding
    sysctls, replaces its own nftables tables (forwards, masquerade, isolation, policy),
    runs dnsmasq and defines libvirt networks, as the plan says; see vmnet(8) and vmnet-plan(5).
  - A second run of the same plan changes nothing and reports C(ok).
  - In diff mode the firewall is shown entry by entry (a changed port forward shows the old
    forward removed and the new one added), with the links, addresses, routes and sysctls
    the plan manages, observed before and after the run.
options:
  plan:
    description:
      - Path of the plan on the managed host.
      - Exactly one of C(plan) and C(content) is required.
    type: path
  content:
    description:
      - The plan's XML text, for example from a template lookup. It is given to vmnet on
        standard input, so messages name it C(<stdin>).
      - Works in check mode on a host that has never seen the plan (a template task would
        write no file in check mode).
    type: str
  state:
    description:
      - C(present) applies the plan, C(absent) destroys what it made.
    type: str
    choices: [present, absent]
    default: present
  netns:
    description:
      - Work inside the network namespace C(/run/netns/NAME) (vmnet C(--netns)).
    type: str
  host:
    description:
      - Of a fleet plan (one with C(<host>) elements, vmnet-plan(5) FLEET PLANS), the host
        whose part to apply (vmnet C(--host)); by default the managed host's hostname.
      - A host that is not in the plan fails the task, naming the plan's hosts.
      - A plan without hosts ignores it.
    type: str
  connect:
    description:
      - libvirt URI (vmnet C(--connect)); by default qemu:///system, and with C(netns)
        libvirt is only used when this is given.
    type: str
  wait:
    description:
      - Seconds to wait for another vmnet run on the host to finish; 0 fails at once.
    type: int
    default: 0
  unplug_timeout:
    description:
      - Seconds a replug waits for a running guest to release its NIC (vmnet C(--unplug-timeout)), 1 to 3600.
    type: int
  force:
    description:
      - With C(state=absent), destroy even what guests and libvirt networks that vmnet does
        not manage still use (vmnet C(destroy --force)).
    type: bool
    default: false
  executable:
    description:
      - The vmnet program on the managed host. By default C(vmnet) from the PATH,
        C(/usr/sbin) or C(/usr/local/sbin).
    type: path
notes:
  - vmnet changes links and nftables tables, so it runs as root (C(become)).
  - The module runs C(vmnet --json); vmnet's own JSON document is described in vmnet(8).
requirements:
  - vmnet on the managed host (the vmnet package)
attributes:
  check_mode:
    support: full
    description:
      - Runs C(vmnet --check), which observes the host and changes nothing.
  diff_mode:
    support: full
    description:
      - Shows the actions with the firewall entries they add and remove; after a real run
        also the managed state before and after it.
  platform:
    platforms: debian
    description:
      - Linux hosts with vmnet installed.
author:
  - vmnet developers
'''

EXAMPLES = r'''
- name: Apply the plan templated for this host
  vmnet.host.network:
    content: "{{ lookup('ansible.builtin.template', 'vmnet-plan.xml.j2') }}"
    wait: 30
  become: true

- name: Apply a plan already on the host, inside a network namespace
  vmnet.host.network:
    plan: /etc/vmnet/lab.xml
    netns: lab

- name: Apply this host's part of one fleet plan for every hypervisor
  vmnet.host.network:
    content: "{{ lookup('ansible.builtin.file', 'fleet.xml') }}"
    host: "{{ inventory_hostname_short }}"

- name: Remove everything the plan made
  vmnet.host.network:
    plan: /etc/vmnet/lab.xml
    state: absent
'''

RETURN = r'''
plan:
  description: The plan's name.
  returned: when the plan was read
  type: str
  sample: hv1
state:
  description: The state asked for.
  returned: always
  type: str
  sample: present
netns:
  description: The network namespace, when one was given.
  returned: always
  type: str
actions:
  description: What vmnet did (or, in check mode, would do), in order.
  returned: when the plan was read
  type: list
  elements: dict
  contains:
    type:
      description: The kind of action (C(link-create), C(nft-replace), ...).
      type: str
    object:
      description: What it acts on.
      type: str
    impact:
      description: C(safe), C(recreate) or C(disruptive).
      type: str
    description:
      description: One line for people.
      type: str
    changes:
      description: For C(nft-replace), the firewall entries it removes and adds.
      type: list
      elements: dict
      returned: for nft-replace
      sample: [{"change": "remove", "kind": "forward", "text": "forward @fwd4: tcp . 8080 : 10.0.0.10 . 80"}]
errors:
  description: An invalid plan's diagnostics (file, line, message, text).
  returned: on failure
  type: list
  elements: dict
msg:
  description: "What happened, or every diagnostic of an invalid plan (C(file:line: message)), one per line."
  returned: always
  type: str
vmnet:
  description: vmnet's own JSON document, as it printed it.
  returned: when vmnet printed one
  type: dict
'''

import json

from ansible.module_utils.basic import AnsibleModule

UNPLUG_TIMEOUT_MAX = 3600


def prepared_text(doc, state, netns, executed):
    actions = doc.get('actions', [])
    disruptive = len([a for a in actions if a.get('impact') == 'disruptive'])
    lines = ["vmnet %s plan '%s'%s: %s %d actions (%d disruptive)" % (
        'destroy' if state == 'absent' else 'apply', doc.get('plan', ''),
        ' in network namespace %s' % netns if netns else '',
        'took' if executed else 'would take', len(actions), disruptive)]
    for i, a in enumerate(actions):
        desc = a.get('description', '')
        tag = ' [%s]' % a.get('impact', '')
        if desc.endswith(tag):
            desc = desc[:-len(tag)]
        lines.append('  %3d. [%s] %s' % (i + 1, a.get('impact', ''), desc))
        for c in a.get('changes', []):
            lines.append('         %s %s' % ('+' if c.get('change') == 'add' else '-', c.get('text', '')))
    return '\n'.join(lines) + '\n'


def main():
    module = AnsibleModule(
        argument_spec=dict(
            plan=dict(type='path'),
            content=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            netns=dict(type='str'),
            host=dict(type='str'),
            connect=dict(type='str'),
            wait=dict(type='int', default=0),
            unplug_timeout=dict(type='int'),
            force=dict(type='bool', default=False),
            executable=dict(type='path'),
        ),
        mutually_exclusive=[('plan', 'content')],
        required_one_of=[('plan', 'content')],
        supports_check_mode=True,
    )
    p = module.params
    result = dict(changed=False, state=p['state'], netns=p['netns'])

    if p['wait'] < 0:
        module.fail_json(msg='argument wait must be a number of seconds, got: %d' % p['wait'], **result)
    if p['unplug_timeout'] is not None and not 1 <= p['unplug_timeout'] <= UNPLUG_TIMEOUT_MAX:
        module.fail_json(msg='argument unplug_timeout must be 1 to %d seconds, got: %d'
                         % (UNPLUG_TIMEOUT_MAX, p['unplug_timeout']), **result)

    vmnet = p['executable'] or module.get_bin_path('vmnet', required=True,
                                                   opt_dirs=['/usr/sbin', '/usr/local/sbin'])
    executed = not module.check_mode
    argv = [vmnet, '--json', 'destroy' if p['state'] == 'absent' else 'apply', '--wait', str(p['wait'])]
    if p['netns']:
        argv += ['--netns', p['netns']]
    if p['host']:
        argv += ['--host', p['host']]
    if p['connect']:
        argv += ['--connect', p['connect']]
    if p['unplug_timeout'] is not None:
        argv += ['--unplug-timeout', str(p['unplug_timeout'])]
    if p['force'] and p['state'] == 'absent':
        argv.append('--force')
    if module.check_mode:
        argv.append('--check')
    elif module._diff:
        argv.append('--diff')
    argv.append(p['plan'] if p['plan'] else '-')

    rc, out, err = module.run_command(argv, data=p['content'], binary_data=True)
    try:
        doc = json.loads(out)
    except ValueError:
        module.fail_json(msg='vmnet printed no JSON document (exit status %d): %s'
                         % (rc, err.strip() or out.strip()), rc=rc, stdout=out, stderr=err, **result)
    result['vmnet'] = doc
    if 'plan' in doc:
        result['plan'] = doc['plan']
    result['actions'] = doc.get('actions', [])
    for w in doc.get('warnings', []):
        module.warn(w.get('text', str(w)) if isinstance(w, dict) else str(w))

    # Exit status 4: a signal came once the last step had started, and vmnet
    # finished the run (vmnet(8), SIGNALS): complete and verified, not a failure.
    if rc == 4 and not doc.get('failed'):
        module.warn('vmnet was interrupted during its last step and finished the run')
    elif doc.get('failed') or rc != 0:
        errors = doc.get('errors', [])
        texts = [e.get('text') for e in errors if e.get('text')]
        if doc.get('errors') and doc.get('msg', '').endswith(': invalid plan'):
            msg = '\n'.join(texts)
        else:
            msg = doc.get('msg') or err.strip() or 'vmnet failed (exit status %d)' % rc
        module.fail_json(msg=msg, errors=errors, rc=rc, stderr=err, **result)

    result['changed'] = bool(doc.get('changed'))
    if not result['changed']:
        result['msg'] = ("no changes: nothing of plan '%s' is on the host" if p['state'] == 'absent'
                         else "no changes: the host matches plan '%s'") % doc.get('plan', '')
    else:
        result['msg'] = doc.get('msg', '')
    if module._diff:
        diff = []
        header = "vmnet plan '%s'%s" % (doc.get('plan', ''),
                                        ', network namespace %s' % p['netns'] if p['netns'] else '')
        if 'diff' in doc:
            diff.append(dict(before_header=header, before=doc['diff']['before'],
                             after_header=header, after=doc['diff']['after']))
        if result['actions']:
            diff.append(dict(prepared=prepared_text(doc, p['state'], p['netns'], executed)))
        result['diff'] = diff
    module.exit_json(**result)


if __name__ == '__main__':
    main()
