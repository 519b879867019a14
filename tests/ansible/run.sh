#!/bin/bash
# vmnet as an Ansible module, run for real by ansible-playbook (Debian's
# ansible-core) against localhost (connection local), inside a throwaway
# network namespace given by the module's netns argument. Checks, reading
# the namespace with ip/nft rather than trusting vmnet's report: check mode
# reports changes and changes nothing; the first run changes, the second
# does not; diff mode shows a diff; the command: way of
# examples/ansible/command.yml honours check mode; state=absent puts the
# namespace back as it was; an invalid plan fails with the plan's message.
: "${VMNET:?}" "${top_srcdir:?}"
if ! command -v ansible-playbook >/dev/null 2>&1; then
        echo "SKIP: ansible-playbook not found (apt-get install ansible-core)"
        exit 77
fi
. "$top_srcdir/tests/netns/lib.sh"

EX=$top_srcdir/examples/ansible
ns=$(newns ansible) || { echo "FAIL: cannot create a network namespace"; exit 1; }
snapshot "$ns" "$T/initial"

# The module as a user installs it: the vmnet binary under a module name.
mkdir -p "$T/library"
ln -s "$VMNET" "$T/library/vmnet_network"
cat >"$T/ansible.cfg" <<CFG
[defaults]
inventory = $T/inventory.yml
library = $T/library
# the JSON stdout callback the checks read (ansible-core ships none)
callback_plugins = $top_srcdir/tests/ansible/callback_plugins
local_tmp = $T/ansible-local
remote_tmp = $T/ansible-remote
retry_files_enabled = False
interpreter_python = /usr/bin/python3
nocows = True
CFG
cat >"$T/inventory.yml" <<INV
hypervisors:
  hosts:
    localhost:
      ansible_connection: local
      vmnet_plan_name: t-ansible
      vmnet_netns: $ns
      vmnet_bin: $VMNET
      vmnet_bridge_prefix: ta-
      vmnet_uplink: vt-up0
      vmnet_nat_prefix: 10.88.1
      vmnet_mgmt_prefix: 10.88.2
      vmnet_dhcp: false
      vmnet_port_forwards:
        - { host_port: 8080, to: 10.88.1.10, to_port: 80 }
      vmnet_examples: $EX
      vmnet_bad_plan: $T/bad.xml
INV
cat >"$T/bad.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<plan xmlns="urn:vmnet:plan:1" name="t-ansible-bad">
  <network name="n" mode="nat" bridge="ta-bad">
    <subnet cidr="10.88.9.0/24" gateway="10.88.8.1"/>
  </network>
</plan>
XML

# play CALLBACK OUT ARGS...: runs ansible-playbook; stdout in OUT, stderr in OUT.err.
play() {
        local cb=$1 out=$2; shift 2
        (cd "$T" && ANSIBLE_CONFIG=$T/ansible.cfg ANSIBLE_STDOUT_CALLBACK=$cb ANSIBLE_NOCOLOR=1 \
                ansible-playbook "$@") >"$out" 2>"$out.err"
}
# task OUT N: the result of task N (0-based) of the first play, for localhost.
task() { jq ".plays[0].tasks[$2].hosts.localhost" "$1"; }
jqt() { # NAME FILE FILTER: passes when the jq filter is true
        if jtrue "$3" cat "$2"; then ok "$1"; else ko "$1"; jq . "$2" | head -60; fi
}

# --- 1. check mode + diff mode, default callback: what a person sees ----------------
play default "$T/1" "$EX/site.yml" --check --diff; rc=$?
check "check run succeeds" test "$rc" = 0
check "check run: recap says changed=1" grep -qE '^localhost +: ok=1 +changed=1 .*failed=0' "$T/1"
check "check run: the diff lists the actions vmnet would take" \
        grep -q "vmnet apply plan 't-ansible' in network namespace $ns: would take" "$T/1"
check "check run: the diff marks impacts" grep -qE '\[safe\] create bridge ta-nat' "$T/1"
check "check run: disruptive actions are marked" grep -qE '\[disruptive\] enslave vt-up0 to ta-lan' "$T/1"
snapshot "$ns" "$T/s1"
same "check mode changes nothing in the namespace" "$T/initial" "$T/s1"
check "check mode: no bridge ta-nat" sh -c "! ip -n $ns link show ta-nat 2>/dev/null"

# --- 2. first real run, diff mode ----------------------------------------------------
play vmnet_json "$T/2" "$EX/site.yml" --diff; rc=$?
check "first run succeeds" test "$rc" = 0
jqt "first run: stats changed=1, no failure" "$T/2" '.stats.localhost.changed == 1 and .stats.localhost.failures == 0'
task "$T/2" 0 >"$T/2.t"
jqt "first run: the task changed, with actions" "$T/2.t" '.changed == true and (.actions | length) > 5'
jqt "first run: diff before shows the bridge absent" "$T/2.t" '.diff[0].before | test("link ta-nat: absent")'
jqt "first run: diff after shows the bridge" "$T/2.t" '.diff[0].after | test("link ta-nat: bridge, mtu [0-9]+, up")'
jqt "first run: diff after shows the table" "$T/2.t" '.diff[0].after | test("nftables table inet vmnet: present")'
jqt "first run: prepared lists the actions taken" "$T/2.t" '.diff[1].prepared | test(": took [0-9]+ actions")'
for br in ta-nat ta-mgmt ta-lan; do
        check "bridge $br exists, up, owned by plan t-ansible" jtrue \
                '.[0].linkinfo.info_kind == "bridge" and .[0].ifalias == "vmnet:t-ansible" and (.[0].flags | index("UP") != null)' \
                ip -n "$ns" -d -j link show "$br"
done
check "gateway 10.88.1.1/24 on ta-nat" \
        jtrue '[.[0].addr_info[] | select(.local == "10.88.1.1" and .prefixlen == 24)] | length == 1' ip -n "$ns" -j addr show ta-nat
check "uplink vt-up0 enslaved to ta-lan" jtrue '.[0].master == "ta-lan"' ip -n "$ns" -j link show vt-up0
check "port forward 8080 in table inet vmnet" sh -c "ip netns exec $ns nft list table inet vmnet | grep -q '8080 : 10.88.1.10 . 80'"
check "the module kept its state under VMNET_STATE_DIR" sh -c "find '$VMNET_STATE_DIR' -name 't-ansible.state' | grep -q ."
snapshot "$ns" "$T/applied"

# --- 3. second run: nothing to do ------------------------------------------------------
play vmnet_json "$T/3" "$EX/site.yml"; rc=$?
check "second run succeeds" test "$rc" = 0
jqt "second run: stats ok, changed=0" "$T/3" '.stats.localhost.changed == 0 and .stats.localhost.ok >= 1 and .stats.localhost.failures == 0'
task "$T/3" 0 >"$T/3.t"
jqt "second run: no actions, 'no changes'" "$T/3.t" '.changed == false and (.actions | length) == 0 and (.msg | test("no changes"))'
snapshot "$ns" "$T/s3"
same "second run changes nothing" "$T/applied" "$T/s3"

# --- 4. the command: way, in check mode ------------------------------------------------
play vmnet_json "$T/4" "$EX/command.yml" --check -e vmnet_state=absent; rc=$?
check "command.yml --check succeeds" test "$rc" = 0
task "$T/4" 0 >"$T/4.t"
jqt "command.yml --check: vmnet exited 2 (would change), task changed" "$T/4.t" '.rc == 2 and .changed == true'
jqt "command.yml --check: vmnet's JSON lists the destroy actions" "$T/4.t" '(.stdout | fromjson | .check == true and (.actions | length) > 0)'
snapshot "$ns" "$T/s4"
same "command.yml --check changes nothing" "$T/applied" "$T/s4"

# --- 5. absent, absent again, an invalid plan --------------------------------------------
play vmnet_json "$T/5" "$top_srcdir/tests/ansible/finish.yml"; rc=$?
check "last run succeeds (the invalid plan's failure is ignored)" test "$rc" = 0
task "$T/5" 0 >"$T/5.0"; task "$T/5" 1 >"$T/5.1"; task "$T/5" 2 >"$T/5.2"
jqt "state=absent reports changed" "$T/5.0" '.changed == true and (.failed // false) == false'
jqt "state=absent again: changed=false" "$T/5.1" '.changed == false and (.msg | test("no changes"))'
jqt "invalid plan: failed, changed=false" "$T/5.2" '.failed == true and .changed == false'
jqt "invalid plan: msg is the plan's error (file:line: message)" "$T/5.2" \
        ".msg | test(\"^$T/bad.xml:4: network 'n': gateway 10.88.8.1 is outside subnet 10.88.9.0/24\")"
jqt "last run: stats changed=1, ignored=1" "$T/5" '.stats.localhost.changed == 1 and .stats.localhost.ignored == 1'
snapshot "$ns" "$T/s5"
same "state=absent puts the namespace back as it was" "$T/initial" "$T/s5"
check "no ta- link left" jtrue '[.[] | select(.ifname | startswith("ta-"))] | length == 0' ip -n "$ns" -j link

# --- the module outside Ansible ---------------------------------------------------------
printf '{"plan": "x", "bogus": 1}' >"$T/args"
"$VMNET" ansible "$T/args" >"$T/6"; rc=$?
check "vmnet ansible: bad arguments exit 1" test "$rc" = 1
jqt "vmnet ansible: unsupported parameter named in msg" "$T/6" '.failed == true and .changed == false and (.msg | test("Unsupported parameters.*bogus"))'

finish
