#!/bin/bash
# ansible-test sanity on the collection vmnet.host (ansible/), with Debian's
# ansible-core only: the collection is copied to a throwaway
# ansible_collections/vmnet/host (where ansible-test wants it) and every
# sanity test runs that needs nothing beyond ansible-core (--local).
#
# Skipped, each for the same reason: ansible-test runs them in a virtual
# environment it fills from PyPI with pinned packages (pip bootstrap from
# ci-files.testing.ansible.com, then pylint, pycodestyle, yamllint,
# voluptuous, ...), which Debian's ansible-core does not ship and an
# offline CI machine cannot fetch:
#   ansible-doc       (tests/ansible/run.sh runs ansible-doc on the
#                      installed collection instead, module and role)
#   import            (run.sh imports the module: every task runs it)
#   pep8 pylint yamllint validate-modules runtime-metadata
# With network access, `ansible-test sanity --venv` in that directory runs them.
: "${top_srcdir:?}"
if ! command -v ansible-test >/dev/null 2>&1; then
        echo "SKIP: ansible-test not found (apt-get install ansible-core)"
        exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/ansible_collections/vmnet"
cp -r "$top_srcdir/ansible" "$T/ansible_collections/vmnet/host"
py=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
skip=""
for t in ansible-doc import pep8 pylint yamllint validate-modules runtime-metadata; do
        skip="$skip --skip-test $t"
done
cd "$T/ansible_collections/vmnet/host" || exit 1
# shellcheck disable=SC2086
if ansible-test sanity --local --python "$py" $skip >"$T/out" 2>&1; then
        echo "PASS: ansible-test sanity ($(grep -c '^Running sanity test' "$T/out") tests; 7 skipped, see above)"
        exit 0
fi
cat "$T/out"
echo "FAIL: ansible-test sanity"
exit 1
