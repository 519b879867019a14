#!/bin/bash
# The test of the tests' JSON check (tests/lib/jcheck.sh): jtrue must FAIL
# when the command prints nothing, prints only white space, fails, prints
# something that is not JSON, or when the filter is false, null, several
# values or an error; and on a link that does not exist (the case that
# `ip -j link show X | jq --exit-status` let through). jread must fail the
# same way.
# Reads only: `ip link show` of a missing link changes nothing.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib/jcheck.sh"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS: $*"; }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# passes NAME CMD...: CMD must succeed. fails NAME CMD...: CMD must fail, saying why.
passes() {
        local name=$1; shift
        if "$@" 2>"$T/why"; then ok "$name"; else ko "$name"; sed 's/^/  | /' "$T/why"; fi
}
fails() {
        local name=$1; shift
        if "$@" 2>"$T/why"; then
                ko "$name: it passed"
        elif ! grep -q '[^[:space:]]' "$T/why"; then
                ko "$name: it failed without saying why"
        else
                ok "$name"; sed 's/^/  | /' "$T/why"
        fi
}

# The jq of this machine is the one that lets empty input through: say so,
# so that a later jq that fixed it does not make this test look pointless.
if jq --exit-status . </dev/null >/dev/null 2>&1; then
        echo "note: this jq exits 0 for --exit-status on empty input ($(jq --version)), the reason for jtrue"
fi

printf '[{"ifname": "x", "mtu": 1500}]\n' >"$T/doc"
printf '{"a": 1}\n{"a": 1}\n' >"$T/two"
: >"$T/empty"

passes "jtrue: a true filter on a command's output" jtrue '.[0].mtu == 1500' cat "$T/doc"
passes "jtrue: --arg and --argjson reach the filter" \
        jtrue --arg n x --argjson m 1500 '.[0].ifname == $n and .[0].mtu == $m' cat "$T/doc"
fails "jtrue: a command that prints nothing" jtrue 'true' true
fails "jtrue: an empty file" jtrue 'true' cat "$T/empty"
fails "jtrue: a command that prints only white space" jtrue 'true' printf ' \n\t\n'
fails "jtrue: a failing command whose output would pass" \
        jtrue '.[0].mtu == 1500' sh -c 'cat "$0"; exit 3' "$T/doc"
fails "jtrue: a command that is not there" jtrue 'true' /nonexistent/command
fails "jtrue: a false filter" jtrue '.[0].mtu == 9000' cat "$T/doc"
fails "jtrue: a null result" jtrue '.[0].nosuchkey' cat "$T/doc"
fails "jtrue: a filter that is not true but truthy" jtrue '.[0].mtu' cat "$T/doc"
fails "jtrue: several values, even all true" jtrue '.a == 1' cat "$T/two"
fails "jtrue: output that is not JSON" jtrue 'true' echo 'Device "x" does not exist.'
fails "jtrue: a filter jq rejects" jtrue '.[0' cat "$T/doc"
fails "jtrue: no command" jtrue '.'
fails "jtrue: a link that does not exist (ip -j link show nosuchlink)" \
        jtrue '.[0].ifname == "jcheck-nosuchlink"' ip -j link show jcheck-nosuchlink
# What the old pattern did with the same link, for the record: jq --exit-status on the
# empty pipe. Not a check of jtrue, only shown.
if ip -j link show jcheck-nosuchlink 2>/dev/null | jq --exit-status '.[0].ifname == "jcheck-nosuchlink"' >/dev/null 2>&1; then
        echo "note: the old 'ip -j link show nosuchlink | jq --exit-status ...' passes here"
fi
passes "jtrue: a link that exists (lo)" jtrue '.[0].ifname == "lo"' ip -j link show lo

passes "jread: prints the filtered JSON" jread '.[0].mtu' cat "$T/doc"
[ "$(jread '.[0].mtu' cat "$T/doc")" = 1500 ] && ok "jread: the value is 1500" || ko "jread: the value is 1500"
fails "jread: a command that prints nothing" jread '.' true
fails "jread: a failing command" jread '.' sh -c 'cat "$0"; exit 1' "$T/doc"
fails "jread: a link that does not exist" jread '.' ip -j link show jcheck-nosuchlink
fails "jread: output that is not JSON" jread '.' echo nope

# And no test goes back to the pattern: jq's exit-status option (-e, -er,
# --exit-status) appears nowhere under tests/ but in tests/lib/.
uses=$(grep -rnE "(^|[^a-z_])jq([^|;)a-z_][^|;)]*)? (-[a-zA-Z]*e[a-zA-Z]*|--exit-status)( |$)" "$top_srcdir/tests" \
        --exclude-dir=data --exclude-dir=lib --exclude-dir=corpus 2>/dev/null)
if [ -z "$uses" ]; then ok "no jq exit-status check outside tests/lib"; else
        ko "jq exit-status checks outside tests/lib (use jtrue):"; printf '%s\n' "$uses" | sed 's/^/  | /'; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
