# vmnet_json: a stdout callback for vmnet's Ansible test (tests/ansible/run.sh).
#
# ansible-core 2.14 (Debian 12) ships no JSON stdout callback (that one lives
# in the ansible.posix collection, which Debian's ansible-core does not
# include), so the test keeps this small one beside it and points its
# ansible.cfg at this folder (callback_plugins). It uses only ansible-core.
#
# At the end of the run it prints one JSON document on stdout:
#
#   {"plays": [{"play": {"name": ..., "id": ...},
#               "tasks": [{"task": {"name": ..., "id": ..., "action": ...},
#                          "hosts": {"<host>": <the task's result for that host>}}]}],
#    "stats": {"<host>": {"ok", "changed", "failures", "unreachable",
#                         "skipped", "rescued", "ignored"}}}
#
# A host's result is the module's result as Ansible returns it, with
# "failed", "skipped" or "unreachable" set to true when that is how it ended,
# and "action", the module's name.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
    name: vmnet_json
    type: stdout
    short_description: one JSON document with every play, task, host result and the stats
    description:
        - Written for vmnet's tests; prints the whole run as one JSON document at the end.
'''

import json

from ansible.module_utils.common.json import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'vmnet_json'

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display)
        self._plays = []

    # --- where a result goes ------------------------------------------------------

    def _current_tasks(self):
        if not self._plays:  # a task outside any play: should not happen, keep it anyway
            self._plays.append({'play': {'name': '', 'id': ''}, 'tasks': []})
        return self._plays[-1]['tasks']

    def _task_entry(self, task):
        """The entry of TASK in the current play, made on first use."""
        tasks = self._current_tasks()
        uuid = str(task._uuid)
        for entry in reversed(tasks):
            if entry['task']['id'] == uuid:
                return entry
        entry = {'task': {'name': task.get_name(), 'id': uuid, 'action': task.action},
                 'hosts': {}}
        tasks.append(entry)
        return entry

    def _record(self, result, **flags):
        res = dict(result._result)
        res.update(flags)
        res['action'] = result._task.action
        self._task_entry(result._task)['hosts'][result._host.get_name()] = res

    # --- events ---------------------------------------------------------------------

    def v2_playbook_on_play_start(self, play):
        self._plays.append({'play': {'name': play.get_name(), 'id': str(play._uuid)},
                            'tasks': []})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_entry(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_entry(task)

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True)

    def v2_playbook_on_stats(self, stats):
        summary = {}
        for host in sorted(stats.processed.keys()):
            summary[host] = stats.summarize(host)
        doc = {'plays': self._plays, 'stats': summary}
        self._display.display(json.dumps(doc, cls=AnsibleJSONEncoder, indent=4, sort_keys=True))
