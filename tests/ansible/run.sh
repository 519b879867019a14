#!/bin/bash
# The collection vmnet.host (ansible/), built with ansible-galaxy and
# installed into a throwaway collections path, run for real by
# ansible-playbook (Debian's ansible-core only) against localhost
# (connection local), inside a throwaway network namespace given by the
# module's netns argument. Checks, reading the namespace with ip/nft rather
# than trusting vmnet's report: ansible-doc shows the module by its FQCN;
# check mode reports changes and changes nothing; the first run changes,
# the second does not; diff mode shows a diff; a changed port forward shows
# the old and the new forward (check mode and a real run); the command: way
# of examples/ansible/command.yml honours check mode; state=absent puts the
# namespace back as it was; an invalid plan fails with the plan's message;
# AnsibleModule refuses bad arguments; the fleet example (site.yml, the role
# vmnet.host.hypervisor) configures two stand-in hosts (two namespaces);
# examples/ansible/fleet.yml applies one fleet plan to two hosts
# (namespaces), each its own part (host=), check and diff mode per host.
: "${VMNET:?}" "${top_srcdir:?}"
for c in ansible-playbook ansible-galaxy ansible-doc; do
        if ! command -v $c >/dev/null 2>&1; then
                echo "SKIP: $c not found (apt-get install ansible-core)"
                exit 77
        fi
done
. "$top_srcdir/tests/netns/lib.sh"

EX=$top_srcdir/examples/ansible
ns=$(newns ansible) || { echo "FAIL: cannot create a network namespace"; exit 1; }
snapshot "$ns" "$T/initial"

# The collection as a user installs it: built, then installed from the tarball.
ansible-galaxy collection build --output-path "$T/dist" "$top_srcdir/ansible" >"$T/build.out" 2>&1
check "ansible-galaxy collection build makes the tarball" test -f "$T/dist/vmnet-host-0.1.0.tar.gz"
ansible-galaxy collection install -p "$T/collections" "$T/dist/vmnet-host-0.1.0.tar.gz" >"$T/install.out" 2>&1
check "the collection installs" test -f "$T/collections/ansible_collections/vmnet/host/plugins/modules/network.py"
cat >"$T/ansible.cfg" <<CFG
[defaults]
inventory = $T/inventory.yml
collections_path = $T/collections
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
      vmnet_wait: 30
      vmnet_template: $top_srcdir/ansible/roles/hypervisor/templates/vmnet-plan.xml.j2
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
# task OUT N: the result of task N (0-based) of the first play, for localhost,
# not counting the role's argument validation.
task() { jq "[.plays[0].tasks[] | select(.task.action | test(\"validate_argument_spec\") | not)][$2].hosts.localhost" "$1"; }
jqt() { # NAME FILE FILTER: passes when the jq filter is true
        if jtrue "$3" cat "$2"; then ok "$1"; else ko "$1"; jq . "$2" | head -60; fi
}

# --- 0. ansible-doc by the FQCN, from the installed collection ------------------------
(cd "$T" && ANSIBLE_CONFIG=$T/ansible.cfg ansible-doc vmnet.host.network) >"$T/doc" 2>&1
check "ansible-doc vmnet.host.network shows the module" grep -q "VMNET.HOST.NETWORK" "$T/doc"
check "ansible-doc: options, examples and return values" sh -c "grep -q 'unplug_timeout' '$T/doc' && grep -q '^EXAMPLES' '$T/doc' && grep -q '^RETURN VALUES' '$T/doc'"
(cd "$T" && ANSIBLE_CONFIG=$T/ansible.cfg ansible-doc -t role vmnet.host.hypervisor) >"$T/doc-role" 2>&1
check "ansible-doc -t role vmnet.host.hypervisor" grep -q "vmnet.host.network" "$T/doc-role"

# --- 1. check mode + diff mode, default callback: what a person sees ----------------
play default "$T/1" "$EX/site.yml" --check --diff; rc=$?
check "check run succeeds" test "$rc" = 0
check "check run: recap says changed=1" grep -qE '^localhost +: ok=2 +changed=1 .*failed=0' "$T/1"
check "check run: the diff lists the actions vmnet would take" \
        grep -q "vmnet apply plan 't-ansible' in network namespace $ns: would take" "$T/1"
check "check run: the diff marks impacts" grep -qE '\[safe\] create bridge ta-nat' "$T/1"
check "check run: the diff lists the port forward to add" grep -qF '+ forward @fwd4: tcp . 8080 : 10.88.1.10 . 80' "$T/1"
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
jqt "first run: diff after shows the table" "$T/2.t" '.diff[0].after | test("nftables table inet vmnet: comment")'
jqt "first run: diff after shows the forward, before does not" "$T/2.t" \
        '(.diff[0].after | contains("nftables forward @fwd4: tcp . 8080 : 10.88.1.10 . 80")) and (.diff[0].before | contains("8080") | not)'
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

# --- 3b. a changed port forward: the old and the new forward, in check mode and for real ---
fwd='{"vmnet_port_forwards": [{"host_port": 8081, "to": "10.88.1.11", "to_port": 22}]}'
play vmnet_json "$T/3b" "$EX/site.yml" --check --diff -e "$fwd"; rc=$?
check "changed forward, check mode: succeeds" test "$rc" = 0
task "$T/3b" 0 >"$T/3b.t"
jqt "changed forward, check mode: one action, the table" "$T/3b.t" '.changed == true and (.actions | length) == 1 and .actions[0].type == "nft-replace"'
jqt "changed forward, check mode: the diff removes the old forward" "$T/3b.t" \
        '.diff[0].prepared | contains("- forward @fwd4: tcp . 8080 : 10.88.1.10 . 80")'
jqt "changed forward, check mode: the diff adds the new forward" "$T/3b.t" \
        '.diff[0].prepared | contains("+ forward @fwd4: tcp . 8081 : 10.88.1.11 . 22")'
jqt "changed forward, check mode: nothing else in the firewall changes" "$T/3b.t" '(.actions[0].changes | length) == 2'
play vmnet_json "$T/3c" "$EX/site.yml" --diff -e "$fwd"; rc=$?
check "changed forward: succeeds" test "$rc" = 0
task "$T/3c" 0 >"$T/3c.t"
jqt "changed forward: before has the old forward, not the new" "$T/3c.t" \
        '(.diff[0].before | contains("nftables forward @fwd4: tcp . 8080 : 10.88.1.10 . 80")) and (.diff[0].before | contains("8081") | not)'
jqt "changed forward: after has the new forward, not the old" "$T/3c.t" \
        '(.diff[0].after | contains("nftables forward @fwd4: tcp . 8081 : 10.88.1.11 . 22")) and (.diff[0].after | contains("8080") | not)'
check "changed forward: the kernel's map holds 8081, not 8080" sh -c \
        "ip netns exec $ns nft list map inet vmnet fwd4 | grep -q '8081 : 10.88.1.11 . 22' && ! ip netns exec $ns nft list map inet vmnet fwd4 | grep -q 8080"
play vmnet_json "$T/3d" "$EX/site.yml"; rc=$?
check "the first forward again succeeds" test "$rc" = 0
snapshot "$ns" "$T/s3d"
same "the first forward again: the namespace as after the first run" "$T/applied" "$T/s3d"

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
jqt "last run: stats changed=1, ignored=5" "$T/5" '.stats.localhost.changed == 1 and .stats.localhost.ignored == 5'
snapshot "$ns" "$T/s5"
same "state=absent puts the namespace back as it was" "$T/initial" "$T/s5"
check "no ta- link left" jtrue '[.[] | select(.ifname | startswith("ta-"))] | length == 0' ip -n "$ns" -j link

task "$T/5" 3 >"$T/5.3"; task "$T/5" 4 >"$T/5.4"; task "$T/5" 5 >"$T/5.5"; task "$T/5" 6 >"$T/5.6"
jqt "bad arguments: an unsupported parameter, in AnsibleModule's words" "$T/5.3" \
        '.failed == true and (.msg | test("^Unsupported parameters for \\(vmnet.host.network\\) module: bogus"))'
jqt "bad arguments: plan and content together" "$T/5.4" '.failed == true and (.msg | test("mutually exclusive: plan\\|content"))'
jqt "bad arguments: unplug_timeout 0" "$T/5.5" '.failed == true and (.msg | test("unplug_timeout must be 1 to 3600 seconds"))'
jqt "bad arguments: netns ../x, refused by vmnet" "$T/5.6" '.failed == true and (.msg | test("network namespace name .[.][.]/x. starts with"))'

# --- 6. the fleet example: site.yml with two stand-in hosts, one namespace each ----------
ns1=$(newns fleet1) && ns2=$(newns fleet2) || { echo "FAIL: cannot create a network namespace"; exit 1; }
cat >"$T/fleet.yml" <<INV
hypervisors:
  vars:
    ansible_connection: local
    vmnet_bin: $VMNET
    vmnet_dhcp: false
    vmnet_wait: 30
  hosts:
    hv1:
      vmnet_netns: $ns1
      vmnet_bridge_prefix: f1-
      vmnet_uplink: vt-up0
      vmnet_nat_prefix: 10.61.1
      vmnet_mgmt_prefix: 10.61.2
      vmnet_port_forwards:
        - { host_port: 8443, to: 10.61.1.10, to_port: 443 }
    hv2:
      vmnet_netns: $ns2
      vmnet_bridge_prefix: f2-
      vmnet_nat_prefix: 10.62.1
      vmnet_mgmt_prefix: 10.62.2
INV
play vmnet_json "$T/7" "$EX/site.yml" -i "$T/fleet.yml"; rc=$?
check "fleet: site.yml succeeds" test "$rc" = 0
jqt "fleet: both hosts changed" "$T/7" '.stats.hv1.changed == 1 and .stats.hv2.changed == 1 and .stats.hv1.failures == 0 and .stats.hv2.failures == 0'
check "fleet: hv1's uplink enslaved to f1-lan" jtrue '.[0].master == "f1-lan"' ip -n "$ns1" -j link show vt-up0
check "fleet: hv1's gateway 10.61.1.1 on f1-nat" \
        jtrue '[.[0].addr_info[] | select(.local == "10.61.1.1")] | length == 1' ip -n "$ns1" -j addr show f1-nat
check "fleet: hv1's forward 8443 in its kernel" sh -c "ip netns exec $ns1 nft list map inet vmnet fwd4 | grep -q '8443 : 10.61.1.10 . 443'"
check "fleet: hv2's gateway 10.62.1.1 on f2-nat" \
        jtrue '[.[0].addr_info[] | select(.local == "10.62.1.1")] | length == 1' ip -n "$ns2" -j addr show f2-nat
check "fleet: hv2 has no LAN bridge (no uplink in its inventory)" sh -c "! ip -n $ns2 link show f2-lan 2>/dev/null"
check "fleet: each namespace has only its own host's bridges" sh -c \
        "! ip -n $ns1 link show f2-nat 2>/dev/null && ! ip -n $ns2 link show f1-nat 2>/dev/null"
play vmnet_json "$T/8" "$EX/site.yml" -i "$T/fleet.yml" -e vmnet_state=absent; rc=$?
check "fleet: absent succeeds" test "$rc" = 0
check "fleet: absent removed both hosts' bridges" sh -c "! ip -n $ns1 link show f1-nat 2>/dev/null && ! ip -n $ns2 link show f2-nat 2>/dev/null"

# --- 7. one fleet plan: examples/ansible/fleet.yml, two hosts, each its own part ------------
# fl-a and fl-b stand for two hypervisors (a namespace each, joined by a veth
# as the underlay); both apply the same fleet plan, --check --diff first
nsa=$(newns fleet-a) && nsb=$(newns fleet-b) || { ko "cannot create the fleet's namespaces"; finish; exit 1; }
ip -n "$nsa" link add ul0 type veth peer name ul0 netns "$nsb"
ip -n "$nsa" addr add 10.202.0.1/24 dev ul0; ip -n "$nsa" link set ul0 up
ip -n "$nsb" addr add 10.202.0.2/24 dev ul0; ip -n "$nsb" link set ul0 up
cat >"$T/fleet.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<plan xmlns="urn:vmnet:plan:1" name="t-fleet">
  <host name="hv01" underlay="10.202.0.1" underlay-dev="ul0"/>
  <host name="hv02" underlay="10.202.0.2" underlay-dev="ul0"/>
  <network name="app" mode="isolated" bridge="tf-app" mtu="1450">
    <vxlan vni="4242"/>
  </network>
</plan>
XML
cat >"$T/fleet-inv.yml" <<INV
hypervisors:
  vars:
    ansible_connection: local
    vmnet_bin: $VMNET
    vmnet_fleet_plan: $T/fleet.xml
  hosts:
    fl-a: { vmnet_host: hv01, vmnet_netns: $nsa }
    fl-b: { vmnet_host: hv02, vmnet_netns: $nsb }
INV
play vmnet_json "$T/9" "$EX/fleet.yml" -i "$T/fleet-inv.yml" --check --diff; rc=$?
check "fleet plan --check succeeds" test "$rc" = 0
jqt "fleet plan --check: each host would change, its own flood entry in its actions" "$T/9" \
        '(.plays[0].tasks[0].hosts["fl-a"] | .changed and (.actions | tostring | test("flood to 10.202.0.2")))
         and (.plays[0].tasks[0].hosts["fl-b"] | .changed and (.actions | tostring | test("flood to 10.202.0.1")))'
check "fleet plan --check changed nothing" test -z "$(ip -n "$nsa" link show vx4242 2>/dev/null)"
play vmnet_json "$T/10" "$EX/fleet.yml" -i "$T/fleet-inv.yml"; rc=$?
check "fleet plan run succeeds" test "$rc" = 0
for pair in "$nsa 10.202.0.2" "$nsb 10.202.0.1"; do
        read -r n dst <<<"$pair"
        check "fleet plan: $n's vx4242 floods to $dst only" \
                jtrue --arg d "$dst" '[.[] | select(.mac == "00:00:00:00:00:00") | .dst] == [$d]' \
                bridge -n "$n" -j fdb show dev vx4242
done
play vmnet_json "$T/11" "$EX/fleet.yml" -i "$T/fleet-inv.yml"; rc=$?
jqt "fleet plan: the second run changes nothing on either host" "$T/11" '.stats["fl-a"].changed == 0 and .stats["fl-b"].changed == 0'

finish
