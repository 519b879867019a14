#!/bin/bash
# CLI contract tests: exit codes, stdin, --json documents, stderr/stdout
# separation, and that every example validates and renders.
# Reads: $VMNET (the built binary), $top_srcdir. Prints "N passed, N failed".
set -u
: "${VMNET:?}" "${top_srcdir:?}"
. "$top_srcdir/tests/lib/jcheck.sh"
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); echo "PASS: $1"; }
ko() { fail=$((fail + 1)); echo "FAIL: $1"; }
# expect NAME STATUS CMD...: runs CMD, stdout to $tmp/out, stderr to $tmp/err
expect() {
        local name=$1 want=$2
        shift 2
        "$@" >"$tmp/out" 2>"$tmp/err"
        local got=$?
        if [ "$got" = "$want" ]; then ok "$name"; else
                ko "$name (exit $got, wanted $want)"; sed 's/^/  | /' "$tmp/err" | head -5; fi
}
has() { # NAME FILE PATTERN
        if grep -qE -- "$3" "$2"; then ok "$1"; else ko "$1 ('$3' not in $2)"; sed 's/^/  | /' "$2" | head -5; fi
}
empty() { if [ ! -s "$2" ]; then ok "$1"; else ko "$1 ($2 not empty)"; head -3 "$2"; fi; }
json() { if jtrue "$3" cat "$2"; then ok "$1"; else ko "$1 (jq '$3' failed)"; head -c 300 "$2"; echo; fi; }

ex=$top_srcdir/examples
bad=$top_srcdir/tests/data/invalid

expect "--version" 0 "$VMNET" --version
has "--version prints the version" "$tmp/out" '^vmnet [0-9]+\.[0-9]+'
expect "--help" 0 "$VMNET" --help
has "--help lists validate" "$tmp/out" 'validate'
has "--help lists render" "$tmp/out" 'render'
expect "no command is an error" 1 "$VMNET"
expect "unknown command" 1 "$VMNET" frobnicate
has "unknown command says so" "$tmp/err" "unknown command 'frobnicate'"
expect "unknown option" 1 "$VMNET" validate --frob "$ex/nat.xml"
expect "validate needs a plan" 1 "$VMNET" validate
expect "missing file" 1 "$VMNET" validate "$tmp/nope.xml"
has "missing file names it" "$tmp/err" 'nope.xml: No such file'

for f in "$ex"/*.xml; do
        n=$(basename "$f")
        expect "validate $n" 0 "$VMNET" validate "$f"
        has "validate $n says valid" "$tmp/out" 'is valid'
        expect "render $n" 0 "$VMNET" render "$f"
        expect "render --json $n" 0 "$VMNET" --json render "$f"
        json "render --json $n is JSON with networks" "$tmp/out" '.networks | length > 0'
        expect "render --nft $n" 0 "$VMNET" render --nft "$f"
        has "render --nft $n is one table" "$tmp/out" '^table inet vmnet'
done

expect "validate from stdin" 0 sh -c "\"$VMNET\" validate - < \"$ex/nat.xml\""
has "stdin is named <stdin>" "$tmp/out" '^<stdin>: plan'
expect "--quiet prints nothing" 0 "$VMNET" --quiet validate "$ex/nat.xml"
empty "--quiet stdout" "$tmp/out"
expect "--json validate" 0 "$VMNET" validate --json "$ex/mixed.xml"
json "--json validate document" "$tmp/out" '.failed == false and .changed == false and .networks == 5'

expect "invalid plan exits 1" 1 "$VMNET" validate "$bad/dhcp-outside.xml"
has "error names file, line and field" "$tmp/err" 'dhcp-outside.xml:6: network .lab.: dhcp range 192.168.60.10-192.168.60.50 is outside subnet 192.168.50.0/24'
empty "errors do not go to stdout" "$tmp/out"
expect "all errors are reported" 1 "$VMNET" validate "$bad/mode-rules.xml"
has "error count" "$tmp/err" 'vmnet validate: 6 errors'
expect "--json invalid plan" 1 "$VMNET" --json validate "$bad/mode-rules.xml"
json "--json errors carry file and line" "$tmp/out" '.failed == true and (.errors | length) == 6 and .errors[0].line > 0'
expect "render refuses an invalid plan" 1 "$VMNET" render "$bad/duplicate-bridge.xml"
empty "nothing rendered from an invalid plan" "$tmp/out"

expect "render one network" 0 "$VMNET" render --network lab "$ex/nat.xml"
has "one network is bare XML" "$tmp/out" '^<network>'
expect "render unknown network" 1 "$VMNET" render --network nope "$ex/nat.xml"
has "unknown network named" "$tmp/err" "no network 'nope'"
dom=$(jq -r '.domains | keys[0]' < <("$VMNET" --json render "$ex/mixed.xml"))
expect "render --domain" 0 "$VMNET" render --domain "$dom" "$ex/mixed.xml"
has "--domain prints interface XML" "$tmp/out" "<interface type='network'>"
expect "render unknown domain" 1 "$VMNET" render --domain nope "$ex/mixed.xml"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
