#!/bin/bash
# One JSON contract (vmnet(8), JSON OUTPUT; issue 13 point 3): every
# command's --json document, in success and in failure, is valid against its
# JSON Schema in schemas/json/ (tests/lib/jschema.py, python3-jsonschema),
# driven in a throwaway network namespace: validate, render, plan, apply
# (--check, --diff, --confirm-within), status (with and without a plan,
# --stats --interval, drift), ipam, doctor (--probe), confirm (confirmed,
# and too late), reapply, destroy (--check), and the failure document of
# command-line errors, of an invalid plan and of a failed run. The optional
# members (diff, changes, traffic, per_second, probe, confirmation, last,
# drift) are checked to be there, so that their part of a schema is used.
. "$top_srcdir/tests/netns/lib.sh"

# Debian's interpreter and its python3-jsonschema, not whatever PATH finds first.
PY=/usr/bin/python3
"$PY" -c 'import jsonschema' 2>/dev/null ||
        { echo "SKIP: needs python3-jsonschema (sh build-aux/deps.sh installs it)"; exit 77; }
JSCHEMA=$top_srcdir/tests/lib/jschema.py

cat >"$T/plan.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-json">
  <network name="lab" mode="nat" bridge="vj-lab">
    <subnet cidr="10.86.1.0/24" gateway="10.86.1.1">
      <dhcp start="10.86.1.100" end="10.86.1.150"/>
    </subnet>
    <nat>
      <port-forward proto="tcp" host-port="8080" to="10.86.1.10" to-port="80"/>
    </nat>
  </network>
  <domain name="d1"><interface network="lab" mac="52:54:00:86:00:01"/></domain>
</plan>
XML
sed 's/8080/8081/' "$T/plan.xml" >"$T/changed.xml"
printf '<plan xmlns="urn:vmnet:plan:1" name="bad">\n  <network name="x" mode="nat" bridge="vj-x">\n    <subnet cidr="10.86.300.0/24"/>\n  </network>\n</plan>\n' >"$T/bad.xml"
ns=$(newns json) || { echo "FAIL: cannot create a network namespace"; exit 1; }

# doc NAME KIND STATUS ARGS...: `vmnet --json ARGS` exits STATUS and prints one
# document (stdout in $T/out), valid against schemas/json/KIND.schema.json.
doc() {
        local name=$1 kind=$2 want=$3 rc
        shift 3
        "$VMNET" --json "$@" >"$T/out" 2>"$T/err"; rc=$?
        check "$name: exit status $want" test "$rc" = "$want"
        [ "$rc" = "$want" ] || sed 's/^/    | /' "$T/err"
        check "$name: one document" test "$(grep -c . "$T/out")" = 1
        check "$name: valid against $kind.schema.json" "$PY" "$JSCHEMA" "$kind" "$T/out"
}
# has NAME FILTER: the last document has what FILTER asks (jq), so that the
# schema's optional parts were exercised.
has() { check "$1" jtrue "$2" cat "$T/out"; }

# --- documents without the host ---------------------------------------------------------
doc "validate" validate 0 validate "$T/plan.xml"
doc "validate of an invalid plan" error 1 validate "$T/bad.xml"
has "validate of an invalid plan: the error names the line" '.errors | any(.line == 3)'
doc "validate of a missing file" error 1 validate "$T/nothing.xml"
doc "render" render 0 render "$T/plan.xml"
has "render: networks, nft and domains" '(.networks.lab | length) > 0 and (.nft | length) > 0 and (.domains.d1 | length) == 1'
doc "render --nft" render 0 render --nft "$T/plan.xml"
doc "render --domain" render 0 render --domain d1 "$T/plan.xml"

# --- command-line errors: the failure document -------------------------------------------
doc "an unknown option of a command" error 1 apply --bogus x "$T/plan.xml"
doc "an unknown global option" error 1 --bogus apply "$T/plan.xml"
has "an unknown global option: command is null" '.command == null'
doc "--netns without its value" error 1 --netns
doc "no command" error 1
doc "an unknown command" error 1 frobnicate
doc "apply without a PLAN" error 1 apply
doc "status --interval out of range" error 1 status --interval -1
doc "doctor --probe without a PLAN" error 1 doctor --probe lab
doc "reapply of a name that is no plan name" error 1 reapply 'a/b'
doc "metrics without a PLAN" error 1 metrics
doc "a refused --netns name" error 1 apply --netns 'a,b' "$T/plan.xml"
doc "doctor that cannot run (no such namespace)" error 1 --netns vmnet-no-such-ns doctor
doc "status that cannot run (no such namespace)" error 1 --netns vmnet-no-such-ns status

# --- the host: plan, apply, status, ipam, doctor ------------------------------------------
doc "status of an empty namespace" status 0 --netns "$ns" status
doc "plan" apply 0 --netns "$ns" plan "$T/plan.xml"
has "plan: the table's action lists its changes" '.check and (.actions | any(.type == "nft-replace" and (.changes | length) > 0))'
doc "plan --detailed-exitcode" apply 2 --netns "$ns" plan --detailed-exitcode "$T/plan.xml"
doc "apply --check --diff" apply 0 --netns "$ns" apply --check --diff "$T/plan.xml"
doc "apply --diff" apply 0 --netns "$ns" apply --diff "$T/plan.xml"
has "apply --diff: before and after" '.changed and (.diff.after | length) > 0'
doc "apply again" apply 0 --netns "$ns" apply "$T/plan.xml"
has "apply again: nothing changed" '.changed == false and (.actions | length) == 0'
doc "status with the plan" status 0 --netns "$ns" status "$T/plan.xml"
has "status: in sync, the plan's bridge listed" '.in_sync and (.links | any(.name == "vj-lab"))'
doc "status --stats --interval 1" status 0 --netns "$ns" status --stats --interval 1 "$T/plan.xml"
has "status --stats: traffic with rates" '(.traffic | length) > 0 and (.traffic | any(has("per_second")))'
doc "ipam" ipam 0 --netns "$ns" ipam "$T/plan.xml"
has "ipam: d1's address" '.ipam.addresses | any(.domain == "d1")'
"$VMNET" --json --netns "$ns" doctor --detailed-exitcode "$T/plan.xml" >"$T/out" 2>"$T/err"; rc=$?
check "doctor: exit status 0 or 2 (ran)" test "$rc" = 0 -o "$rc" = 2
check "doctor: valid against doctor.schema.json" "$PY" "$JSCHEMA" doctor "$T/out"
"$VMNET" --json --netns "$ns" doctor --probe lab "$T/plan.xml" >"$T/out" 2>"$T/err"; rc=$?
check "doctor --probe: exit status 0 or 1 (ran)" test "$rc" = 0 -o "$rc" = 1
check "doctor --probe: valid against doctor.schema.json" "$PY" "$JSCHEMA" doctor "$T/out"
has "doctor --probe: the probe's steps" '(.probe.steps | length) > 0'

# --- drift, a failed run, confirm ---------------------------------------------------------
ip -n "$ns" link set vj-lab down
doc "status --detailed-exitcode of a drifted host" status 2 --netns "$ns" status --detailed-exitcode "$T/plan.xml"
has "status: the drift" '.in_sync == false and (.drift | length) > 0'
VMNET_TEST_FAIL_AT=1 doc "a failed apply" error 1 --netns "$ns" apply "$T/plan.xml"
doc "apply --confirm-within" apply 0 --netns "$ns" apply --confirm-within 120 "$T/changed.xml"
doc "status while a safe apply waits" status 0 --netns "$ns" status
has "status: the pending safe apply" '.confirm.pending.state != null'
doc "confirm" confirm 0 --netns "$ns" confirm
has "confirm: the confirmation" '.confirmed and .confirmation.plan == "t-json"'
doc "confirm with nothing waiting" confirm 1 --netns "$ns" confirm
has "confirm too late: how the last one ended" '.failed and .last.state == "confirmed"'

# --- reapply, destroy ---------------------------------------------------------------------
doc "reapply" apply 0 --netns "$ns" reapply
doc "destroy --check" apply 0 --netns "$ns" destroy --check "$T/changed.xml"
doc "destroy" apply 0 --netns "$ns" destroy "$T/changed.xml"
has "destroy: changed" '.changed and .command == "destroy"'

finish
