#!/bin/bash
# IPAM and vmnet's dnsmasq against a real kernel and dnsmasq, in a private
# network namespace (vmnet-plan(5) ADDRESSES): an allocation never moves
# and never depends on the order of the plan; a domain added ahead of one
# that has an address applies and verifies in one run, and the next apply
# is a no-op; an address released is not handed to a new MAC while a lease
# for it is live or during its quarantine; dnsmasq's configuration is
# written in a canonical order and compared canonically (no restart).
. "$top_srcdir/tests/netns/lib.sh"

# write_plan FILE DOMAIN=MACSUFFIX...: network lab with those domains, in that order.
write_plan() {
        local file=$1 d
        shift
        {
                echo '<plan xmlns="urn:vmnet:plan:1" name="t-ipam">'
                echo '  <network name="lab" mode="nat" bridge="vi-lab">'
                echo '    <subnet cidr="10.84.1.0/24" gateway="10.84.1.1">'
                echo '      <dhcp start="10.84.1.100" end="10.84.1.150"/>'
                echo '    </subnet>'
                echo '  </network>'
                for d in "$@"; do
                        echo "  <domain name=\"${d%=*}\"><interface network=\"lab\" mac=\"52:54:00:84:00:${d#*=}\"/></domain>"
                done
                echo '</plan>'
        } >"$file"
}

ns=$(newns ipam)
conf=$VMNET_STATE_DIR/netns-$ns/dnsmasq/t-ipam/lab.conf
leases=$VMNET_STATE_DIR/netns-$ns/dnsmasq/t-ipam/lab.leases
pidfile=$VMNET_RUN_DIR/netns-$ns/dnsmasq/t-ipam/lab.pid

# addr_of MACSUFFIX: the address dnsmasq's configuration gives that MAC.
addr_of() { sed -n "s/^dhcp-host=52:54:00:84:00:$1,\([0-9.]*\).*/\1/p" "$conf"; }
hosts() { grep '^dhcp-host=' "$conf" | cut -d, -f2 | tr '\n' ' '; }

write_plan "$T/1.xml" d1=01
check "apply with d1" vm "$ns" apply "$T/1.xml"
check "d1 gets the first address outside the range" test "$(addr_of 01)" = 10.84.1.2
check "dnsmasq runs" test -s "$pidfile"

# --- a domain added ahead of one that has an address -----------------------------------
write_plan "$T/2.xml" d0=09 d1=01
vm "$ns" apply "$T/2.xml"; rc=$?
check "apply with d0 ahead of d1 succeeds (its own verification included)" test "$rc" = 0
[ "$rc" = 0 ] || sed 's/^/    | /' "$T/err"
check "d1 keeps its address" test "$(addr_of 01)" = 10.84.1.2
check "d0 gets the next" test "$(addr_of 09)" = 10.84.1.3
check "dhcp-host lines in address order" test "$(hosts)" = "10.84.1.2 10.84.1.3 "
pid=$(cat "$pidfile")
vm "$ns" --json apply --detailed-exitcode "$T/2.xml"; rc=$?
check "re-apply: no changes (exit 0), no dnsmasq restart" test "$rc" = 0
check "re-apply: the same dnsmasq" test "$(cat "$pidfile")" = "$pid"

# --- new allocations do not depend on the order of the plan ------------------------------
write_plan "$T/3.xml" d0=09 d1=01 d2=22 d3=21
check "apply with d2, d3" vm "$ns" apply "$T/3.xml"
check "d3 (the lower MAC) gets the lower new address, whatever the plan order" \
        test "$(addr_of 21) $(addr_of 22)" = "10.84.1.4 10.84.1.5"

# --- canonical comparison: the same lines in another order are the same configuration ----
pid=$(cat "$pidfile")
{ grep -v '^dhcp-host=' "$conf"; grep '^dhcp-host=' "$conf" | tac; } >"$T/reordered"
cat "$T/reordered" >"$conf"
vm "$ns" --json plan --detailed-exitcode "$T/3.xml"; rc=$?
check "a configuration in another order needs no restart" test "$rc" = 0
check "dnsmasq not restarted" test "$(cat "$pidfile")" = "$pid"

# --- a released address waits out its quarantine ------------------------------------------
write_plan "$T/4.xml" d0=09 d2=22 d3=21
check "apply without d1 (its address released)" vm "$ns" apply "$T/4.xml"
check "d1's entry is gone" test -z "$(addr_of 01)"
write_plan "$T/5.xml" d0=09 d2=22 d3=21 d4=44
check "apply with d4, a new MAC" vm "$ns" apply "$T/5.xml"
check "d4 does not get d1's address while it is in quarantine" test "$(addr_of 44)" = 10.84.1.6
write_plan "$T/6.xml" d0=09 d1=01 d2=22 d3=21 d4=44
check "apply with d1 back" vm "$ns" apply "$T/6.xml"
check "d1 gets its own address back" test "$(addr_of 01)" = 10.84.1.2

# --- a live lease keeps its address from a new MAC ---------------------------------------
# A guest that still holds 10.84.1.7 (a lease that runs another hour), unknown to vmnet's record.
echo "$(($(date +%s) + 3600)) 52:54:00:84:00:77 10.84.1.7 old-guest *" >>"$leases"
write_plan "$T/7.xml" d0=09 d1=01 d2=22 d3=21 d4=44 d5=55
check "apply with d5" vm "$ns" apply "$T/7.xml"
check "d5 does not get the leased 10.84.1.7" test "$(addr_of 55)" = 10.84.1.8
vm "$ns" --json apply --detailed-exitcode "$T/7.xml"; rc=$?
check "then nothing to do" test "$rc" = 0

check "destroy" vm "$ns" destroy "$T/7.xml"
finish
