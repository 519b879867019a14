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
# With --json, an option error is a JSON document too (wherever --json stands)
for args in "--json apply --bogus" "apply --bogus --json"; do
        expect "vmnet $args PLAN exits 1" 1 "$VMNET" $args "$ex/nat.xml"
        json "vmnet $args PLAN: a JSON failure naming the option" "$tmp/out" \
                '.failed == true and .command == "apply" and (.msg | test("--bogus")) and (.errors | length) == 1'
done
expect "--netns without a value" 1 "$VMNET" --netns
has "--netns without a value: says it needs one" "$tmp/err" "^vmnet: --netns needs a value"
expect "--json --host without a value" 1 "$VMNET" --json --host
json "--json --host without a value: a JSON failure" "$tmp/out" '.failed == true and (.msg | test("--host needs a value"))'
expect "apply --help" 0 "$VMNET" apply --help
has "apply --help: the usage line names vmnet, then the command" "$tmp/out" '^  vmnet \[OPTION.*\] apply PLAN'
expect "validate needs a plan" 1 "$VMNET" validate
expect "missing file" 1 "$VMNET" validate "$tmp/nope.xml"
has "missing file names it" "$tmp/err" 'nope.xml: No such file'

for f in "$ex"/*.xml; do
        n=$(basename "$f")
        # a fleet plan renders the part of one of its hosts (this machine is none of them)
        host=$(sed -n 's/^ *<host name="\([^"]*\)".*/\1/p' "$f" | head -1)
        expect "validate $n" 0 "$VMNET" validate "$f"
        has "validate $n says valid" "$tmp/out" 'is valid'
        expect "render $n" 0 "$VMNET" ${host:+--host "$host"} render "$f"
        expect "render --json $n" 0 "$VMNET" ${host:+--host "$host"} --json render "$f"
        json "render --json $n is JSON with networks" "$tmp/out" '.networks | length > 0'
        expect "render --nft $n" 0 "$VMNET" render ${host:+--host "$host"} --nft "$f"
        has "render --nft $n is one table" "$tmp/out" '^table inet vmnet'
done

# fleet plans: --host picks a host's part; a host not in the plan is refused
expect "render --host hv03 of a fleet plan" 0 "$VMNET" --json render --host hv03 "$ex/fleet.xml"
json "hv03's part has app, mgmt and web, not db (hosts=)" "$tmp/out" '.networks | keys == ["app", "mgmt", "web"]'
# web's segment is served by hv01 (gateway-host): hv03 only carries it, as an isolated network
json "hv03 carries web as an isolated network, no NAT of it" "$tmp/out" \
        '(.networks.web | test("mode=.isolated.")) and (.nft | test("10\\.80\\.0\\.") | not)'
expect "render --host hv01 of a fleet plan" 0 "$VMNET" --json render --host hv01 "$ex/fleet.xml"
json "hv01 serves web: the nat network, masquerading 10.80.0.0/24" "$tmp/out" \
        '(.networks.web | test("mode=.nat.")) and (.nft | test("masq4[^}]*10\\.80\\.0\\.0/24"))'
expect "render --host hv09 is refused" 1 "$VMNET" render --host hv09 "$ex/fleet.xml"
has "the refusal names the plan's hosts" "$tmp/err" "host 'hv09' is not in the fleet plan .its hosts: hv01, hv02, hv03"
expect "plan --host hv09 is refused" 1 "$VMNET" --host hv09 plan "$ex/fleet.xml"

expect "validate from stdin" 0 sh -c "\"$VMNET\" validate - < \"$ex/nat.xml\""
has "stdin is named <stdin>" "$tmp/out" '^<stdin>: plan'
expect "--quiet prints nothing" 0 "$VMNET" --quiet validate "$ex/nat.xml"
empty "--quiet stdout" "$tmp/out"
expect "-q render prints nothing" 0 "$VMNET" -q render "$ex/nat.xml"
empty "-q render stdout" "$tmp/out"
expect "render --json" 0 "$VMNET" --json render "$ex/nat.xml"
json "render --json has a warnings array (objects as in apply, status, ipam)" "$tmp/out" '.warnings == []'
expect "status --detailed-exitcode needs the PLAN" 1 "$VMNET" status --detailed-exitcode
has "status --detailed-exitcode without PLAN says so" "$tmp/err" 'detailed-exitcode needs the PLAN'
# field notes are the developers' (source comments), not the user's
if grep -qa 'field note' "$VMNET"; then ko "no message cites a field note"; else ok "no message cites a field note"; fi
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

# --netns names become file names (lock.netns-NAME, netns-NAME/): only an
# allow-list passes, before anything is read or changed (vmnet(8), --netns).
long=$(printf 'n%.0s' $(seq 65))
while IFS='|' read -r name why; do
        expect "--netns '$name' is refused" 1 "$VMNET" --netns "$name" plan "$ex/nat.xml"
        has "--netns '$name': the error says why" "$tmp/err" \
                "^vmnet plan: --netns: network namespace name '.*' $why \(allowed: 1 to 64 of A-Z a-z 0-9 _ \. -"
        empty "--netns '$name': nothing on stdout" "$tmp/out"
done <<EOF
..|starts with '\.'
.hidden|starts with '\.'
../etc|starts with '\.'
a/b|contains '/'
a b|contains a space
a,b|contains ','
a*|contains '\*'
-x|starts with '-'
$long|is longer than 64 characters
|is empty
EOF
expect "--netns of a command is checked too" 1 "$VMNET" confirm --netns "x/../../y"
has "confirm --netns: the error" "$tmp/err" "^vmnet confirm: --netns: network namespace name 'x/\.\./\.\./y' contains '/'"
for c in apply destroy status ipam doctor; do
        expect "$c --netns 'a;b' is refused" 1 "$VMNET" "$c" --netns 'a;b' "$ex/nat.xml"
        has "$c --netns 'a;b': the error" "$tmp/err" "^vmnet $c: --netns: network namespace name 'a;b' contains ';'"
done
expect "--json: a refused --netns is a JSON failure" 1 "$VMNET" --json --netns 'a b' apply "$ex/nat.xml"
json "--json --netns error document" "$tmp/out" '.failed == true and .changed == false and (.msg | test("network namespace name .a b. contains a space"))'
expect "--netns 'ok_name-1.2' passes the check (plan then fails: no such namespace)" 1 "$VMNET" --netns ok_name-1.2 plan "$ex/nat.xml"
has "--netns 'ok_name-1.2': no name error" "$tmp/err" "network namespace 'ok_name-1.2': No such file"
for v in 0 3601 -5; do
        expect "apply --unplug-timeout $v is refused" 1 "$VMNET" apply --unplug-timeout "$v" "$ex/nat.xml"
        has "apply --unplug-timeout $v: the error" "$tmp/err" "^vmnet apply: --unplug-timeout takes 1 to 3600 seconds"
done

# libvirt's network hook (vmnet(8), command hook): it never fails a guest for
# a network that is not vmnet's, nor for data it cannot read, returns at once
# (its placer is a detached child), and is silent on stdout.
hook_data() { # NETWORK_XML: what libvirt writes to the hook at port-created
        printf '<hookData>%s<networkport><uuid>f325592d-45d7-4c4c-bf94-76a5aa5726d4</uuid>' "$1"
        printf "<mac address='52:54:00:11:22:33'/><plug type='bridge' bridge='vmnet-nosuch-br'/></networkport></hookData>\n"
}
expect "hook without arguments exits 1" 1 "$VMNET" hook
has "hook usage" "$tmp/err" 'usage: vmnet hook network NETWORK OPERATION'
hook_data "<network><name>default</name><bridge name='virbr0'/></network>" >"$tmp/hook-foreign.xml"
expect "hook: another's network is left alone" 0 timeout 10 sh -c "\"$VMNET\" hook network default port-created begin - <\"$tmp/hook-foreign.xml\""
empty "hook: nothing on stdout" "$tmp/out"
expect "hook: data it cannot read fails no guest" 0 timeout 10 sh -c "echo '<garbage' | \"$VMNET\" hook network default port-created begin -"
expect "hook: other operations pass" 0 timeout 10 sh -c "\"$VMNET\" hook network default started begin - <\"$tmp/hook-foreign.xml\""
"$VMNET" render --network dmz "$ex/vlan-aware.xml" >"$tmp/dmz.xml"
hook_data "$(cat "$tmp/dmz.xml")" >"$tmp/hook-vmnet.xml"
if [ "$(id -u)" = 0 ]; then
        # In a private network namespace whose bridge the port never joins, the
        # placer waits (120 s); the hook must return and close its output at once,
        # as libvirt reads the hook's output until every writer has closed it.
        expect "hook: a port of vmnet's VLAN-aware network: the hook returns at once, the placer is detached" 0 \
                timeout 20 unshare -n sh -c "ip link add vmnet-nosuch-br type bridge &&
                        \"$VMNET\" hook network dmz port-created begin - <\"$tmp/hook-vmnet.xml\" | cat"
        pkill -f 'hook network dmz port-created begin' || true
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
