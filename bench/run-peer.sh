#!/bin/bash
# The peer benchmark (bench/README, "Peer: libvirt's own networks"): N NAT
# networks with DHCP made by libvirt itself, as libvirt users script it,
# against one vmnet apply of the same networks, in the test VM (a real
# libvirtd; it touches the VM's own network namespace, so it refuses to run
# anywhere else):
#
#   tests/vm/vm-run --timeout 3600 bench/run-peer.sh [N...]   # default: 10 50
#
# For each N, one after the other on the same libvirtd:
#   libvirt  per network `virsh net-define` + `virsh net-start` + `virsh
#            net-autostart` (libvirt's own dnsmasq and iptables rules), then
#            per network `virsh net-destroy` + `virsh net-undefine`;
#   vmnet    one `vmnet apply` of bench/gen-plan.sh's nat-nets plan with
#            DHCP=1 (the same names, bridges, subnets and DHCP ranges; vmnet
#            defines its own libvirt networks on the bridges, runs a dnsmasq
#            per network and loads its nftables table), then `vmnet destroy`.
# First one network each way, untimed in the table (a warm-up: what a host
# pays once, such as binaries read through the VM's 9p root the first time).
# Each run is timed once, wall clock, from bash ($EPOCHREALTIME); both end
# states are read back (bridges up with the gateway address, one dnsmasq per
# network on its bridge with its DHCP range, a masquerade for each subnet in
# iptables or in table inet vmnet, IP forwarding on) and so is the host after each teardown (none of it
# left). It prints libvirt/vmnet for create and teardown, then where the
# time goes: per virsh command for libvirt; for vmnet a second apply and
# destroy whose progress lines (printed before each step) are stamped as
# they arrive, summed by kind of step, with `vmnet plan` (start, read the
# plan, observe the host and libvirt, diff) on the empty and on the applied
# host, and what starting a process costs here.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$here/../tests/vm/lib.sh" # refuses outside the VM; vm_libvirt_start, vm_virsh
export LC_ALL=C
sizes=${*:-10 50}
W=$(mktemp -d /tmp/peer.XXXXXX)
vm_on_exit rm -rf "$W"
URI=$VM_LIBVIRT_URI
die() { echo "run-peer.sh: $*" >&2; exit 1; }
ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
s() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) b = 1; printf "%.1f", a / b }'; }
virsh_() { virsh -q -c "$URI" "$@" </dev/null >/dev/null; }
# stamp: each line of stdin prefixed with the microsecond it arrived
stamp() {
        local l
        while IFS= read -r l; do printf '%s %s\n' "${EPOCHREALTIME/./}" "$l"; done
}

# --- what the host holds -----------------------------------------------------
# The networks of a plan, one line each: name bridge cidr gateway start end.
nets_of() {
        sed -n 's|.*<network name="\([^"]*\)" mode="nat" bridge="\([^"]*\)"><subnet cidr="\([^"]*\)" gateway="\([^"]*\)"><dhcp start="\([^"]*\)" end="\([^"]*\)"/>.*|\1 \2 \3 \4 \5 \6|p' "$1"
}
# libvirt's XML of one network, as `virsh net-dumpxml default` has it
libvirt_xml() { # name bridge cidr gateway start end
        cat <<EOF
<network>
  <name>$1</name>
  <forward mode='nat'/>
  <bridge name='$2' stp='on' delay='0'/>
  <ip address='$4' prefix='${3#*/}'>
    <dhcp>
      <range start='$5' end='$6'/>
    </dhcp>
  </ip>
</network>
EOF
}
# The plan's bridges, up, with their gateway address: "fb1 up 10.100.0.1/24".
bridges_seen() {
        ip -j addr show type bridge | jq -r '.[] | select(.ifname // "" | test("^fb[0-9]+$")) |
                "\(.ifname) \(if (.flags | index("UP")) then "up" else "down" end) \([.addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)"] | join(","))"' | sort
}
dnsmasqs() { ps -C dnsmasq -o args= | sort -u | grep -c . || true; }
# What each dnsmasq serves (libvirt's and vmnet's both take --conf-file; a
# forked helper has its parent's command line): "fb1 10.100.0.156 10.100.0.254".
dhcp_seen() {
        local f
        ps -C dnsmasq -o args= | sort -u | sed -n 's/.*--conf-file=\([^ ]*\).*/\1/p' | while read -r f; do
                awk -F= '$1 == "interface" { i = $2 } $1 == "dhcp-range" { split($2, r, ","); d = r[1] " " r[2] }
                        END { print i " " d }' "$f"
        done | sort
}
# The subnets masqueraded: the sources of libvirt's iptables MASQUERADE
# rules, and the prefixes in the sets that a masquerade rule of vmnet's
# table looks up.
masq_seen() {
        {
                iptables-save -t nat 2>/dev/null | sed -n 's/^-A .* -s \([0-9./]*\) ! -d [0-9./]* -j MASQUERADE$/\1/p'
                if nft list table inet vmnet >/dev/null 2>&1; then
                        nft -j list table inet vmnet | jq -r '.nftables as $o |
                                [$o[] | .rule? // empty | select(any(.expr[]; has("masquerade"))) |
                                        .expr[] | .match?.right? // empty | strings | select(startswith("@")) | ltrimstr("@")] as $sets |
                                $o[] | .set? // empty | select(.name as $n | any($sets[]; . == $n)) |
                                .elem[]? | (.elem?.val // .) | objects | select(has("prefix")) | "\(.prefix.addr)/\(.prefix.len)"'
                fi
        } | sort -u
}
# check_up WHO NETS: the networks of NETS are there, as WHO made them
check_up() {
        local who=$1 nets=$2 n
        n=$(grep -c . "$nets")
        awk '{ print $2 " up " $4 "/" substr($3, index($3, "/") + 1) }' "$nets" | sort >"$W/want-bridges"
        bridges_seen >"$W/bridges"
        diff -u "$W/want-bridges" "$W/bridges" >&2 || die "$who: the bridges (+) are not the plan's (-)"
        awk '{ print $2 " " $5 " " $6 }' "$nets" | sort >"$W/want-dhcp"
        dhcp_seen >"$W/dhcp"
        diff -u "$W/want-dhcp" "$W/dhcp" >&2 || die "$who: the dnsmasq instances running (+: bridge, DHCP range) are not the plan's (-)"
        awk '{ print $3 }' "$nets" | sort >"$W/want-masq"
        masq_seen >"$W/masq"
        diff -u "$W/want-masq" "$W/masq" >&2 || die "$who: the subnets masqueraded (+) are not the plan's (-)"
        [ "$(sysctl -n net.ipv4.ip_forward)" = 1 ] || die "$who: IP forwarding is off"
        echo "  $who: $n bridges up with their gateway, $n dnsmasq with their range, $n subnets masqueraded, forwarding on"
}
# check_gone WHO: nothing of the networks is left
check_gone() {
        local who=$1 left
        left=$(
                bridges_seen
                vm_virsh net-list --all --name | grep '^f[0-9]' || true
                [ "$(dnsmasqs)" = 0 ] || echo "$(dnsmasqs) dnsmasq"
                masq_seen
        )
        [ -z "$left" ] || die "$who: left after the teardown:"$'\n'"$left"
}

# --- the runs --------------------------------------------------------------------
lv_create() { # NETS: per network define, start, autostart; sets lv_c lv_def lv_start lv_auto (us)
        local name br cidr gw s e a b c d t0
        lv_def=0 lv_start=0 lv_auto=0
        while read -r name br cidr gw s e; do
                libvirt_xml "$name" "$br" "$cidr" "$gw" "$s" "$e" >"$W/lv-$name.xml"
        done <"$1"
        t0=${EPOCHREALTIME/./}
        while read -r name br cidr gw s e; do
                a=${EPOCHREALTIME/./}
                virsh_ net-define "$W/lv-$name.xml"
                b=${EPOCHREALTIME/./}
                virsh_ net-start "$name"
                c=${EPOCHREALTIME/./}
                virsh_ net-autostart "$name"
                d=${EPOCHREALTIME/./}
                lv_def=$((lv_def + b - a)) lv_start=$((lv_start + c - b)) lv_auto=$((lv_auto + d - c))
        done <"$1"
        lv_c=$((${EPOCHREALTIME/./} - t0))
}
lv_teardown() { # NETS: per network destroy, undefine; sets lv_t lv_destroy lv_undef (us)
        local name rest a b c t0
        lv_destroy=0 lv_undef=0
        t0=${EPOCHREALTIME/./}
        while read -r name rest; do
                a=${EPOCHREALTIME/./}
                virsh_ net-destroy "$name"
                b=${EPOCHREALTIME/./}
                virsh_ net-undefine "$name"
                c=${EPOCHREALTIME/./}
                lv_destroy=$((lv_destroy + b - a)) lv_undef=$((lv_undef + c - b))
        done <"$1"
        lv_t=$((${EPOCHREALTIME/./} - t0))
}
timed() { # VAR CMD...: runs CMD (stdout to $W/out), its wall time in us in VAR
        local t0 t1
        t0=${EPOCHREALTIME/./}
        "${@:2}" >"$W/out" || { cat "$W/out"; die "failed: ${*:2}"; }
        t1=${EPOCHREALTIME/./}
        printf -v "$1" %s $((t1 - t0))
}
# stamped VAR CMD...: runs CMD with its progress lines stamped into $W/steps,
# its wall time in us in VAR, and prints where the time went, by kind of step
stamped() {
        local t0 t1 rc
        t0=${EPOCHREALTIME/./}
        "${@:2}" | stamp >"$W/steps"
        rc=${PIPESTATUS[0]} t1=${EPOCHREALTIME/./}
        [ "$rc" = 0 ] || { cat "$W/steps"; die "failed: ${*:2}"; }
        printf -v "$1" %s $((t1 - t0))
        # one kind per step: names, bridges and addresses taken out
        sed -E 's/ \[disruptive\]$//; s/ \([^()]*\)$//; s/\bfb[0-9]+\b/fbN/g; s/\bf[0-9]+\b/fN/g;
                s/[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+(\/[0-9]+)?/ADDR/g' "$W/steps" |
                awk -v t0="$t0" -v t1="$t1" '
                function add(kind, us) { if (!(kind in sum)) order[++nk] = kind; sum[kind] += us; cnt[kind]++ }
                {
                        t = $1; sub(/^[0-9]+ /, "")
                        if (match($0, /^  \[[0-9]+\/[0-9]+\] /)) {
                                if (prev != "") add(prev, t - pt)
                                else first = t
                                prev = substr($0, RLENGTH + 1); pt = t; steps++
                        } else if ($0 ~ /actions done/) done = t
                }
                END {
                        if (!done) done = t1
                        printf "    %8.1f ms  before the first step (start, read the plan, observe, diff, record ahead)\n", ((steps ? first : done) - t0) / 1000
                        if (prev != "") { last = prev; lastus = done - pt }
                        for (i = 1; i <= nk; i++)
                                printf "    %8.1f ms  %3d x %s (%.1f ms each)\n", sum[order[i]] / 1000, cnt[order[i]], order[i], sum[order[i]] / cnt[order[i]] / 1000
                        if (steps) printf "    %8.1f ms  the last step (%s), then verify and save the record\n", lastus / 1000, last
                        printf "    %8.1f ms  after its summary line (exit)\n", (t1 - done) / 1000
                        printf "    %8.1f ms  in all, %d steps\n", (t1 - t0) / 1000, steps
                }'
}
best3() { # CMD...: best of 3 wall times, in us
        local b='' t0 d
        for _ in 1 2 3; do
                t0=${EPOCHREALTIME/./}
                "$@" >/dev/null 2>&1
                d=$((${EPOCHREALTIME/./} - t0))
                if [ -z "$b" ] || [ "$d" -lt "$b" ]; then b=$d; fi
        done
        echo "$b"
}

echo "peer benchmark: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), VM kernel $(uname -r), $(nproc) vCPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  $(libvirtd --version), $(dnsmasq --version | head -n 1), $(iptables -V), $("$VMNET" --version | head -n 1)"
t0=${EPOCHREALTIME/./}
vm_libvirt_start
echo "  libvirtd started in $(s $((${EPOCHREALTIME/./} - t0))) s"
declare -A res
vm_a=0 vm_d=0 vm_noop=0 vm_p=0 vm_a2=0 vm_d2=0 # set by timed and stamped

# Warm-up, untimed in the table: one network each way, so that neither side
# pays in the first size what a host pays once (libraries and binaries read
# through the VM's 9p root for the first time, libvirt's first NAT network
# making its iptables chains).
DHCP=1 sh "$here/gen-plan.sh" nat-nets 1 >"$W/p-warm.xml"
nets_of "$W/p-warm.xml" >"$W/nets-warm"
check_gone "before"
lv_create "$W/nets-warm"
check_up libvirt "$W/nets-warm"
lv_teardown "$W/nets-warm"
check_gone libvirt
timed vm_a "$VMNET" apply "$W/p-warm.xml"
check_up vmnet "$W/nets-warm"
timed vm_d "$VMNET" destroy "$W/p-warm.xml"
check_gone vmnet
echo "  warm-up, 1 network: libvirt create $(s "$lv_c") s, teardown $(s "$lv_t") s; vmnet apply $(s "$vm_a") s, destroy $(s "$vm_d") s"
for n in $sizes; do
        DHCP=1 sh "$here/gen-plan.sh" nat-nets "$n" >"$W/p$n.xml"
        nets_of "$W/p$n.xml" >"$W/nets$n"
        [ "$(grep -c . "$W/nets$n")" = "$n" ] || die "gen-plan.sh nat-nets $n: not $n NAT networks with DHCP"
        "$VMNET" validate "$W/p$n.xml" >/dev/null
        echo "== $n NAT networks with DHCP"
        check_gone "before"

        sysctl -qw net.ipv4.ip_forward=0
        lv_create "$W/nets$n"
        check_up libvirt "$W/nets$n"
        lv_teardown "$W/nets$n"
        check_gone libvirt
        echo "  libvirt: create $(s "$lv_c") s (per network: define $(ms $((lv_def / n))) ms, start $(ms $((lv_start / n))) ms, autostart $(ms $((lv_auto / n))) ms)"
        echo "           teardown $(s "$lv_t") s (per network: destroy $(ms $((lv_destroy / n))) ms, undefine $(ms $((lv_undef / n))) ms)"

        sysctl -qw net.ipv4.ip_forward=0
        timed vm_a "$VMNET" apply "$W/p$n.xml"
        check_up vmnet "$W/nets$n"
        timed vm_noop "$VMNET" plan "$W/p$n.xml"
        grep -q '^no changes' "$W/out" || { cat "$W/out"; die "vmnet plan after apply: not 'no changes'"; }
        timed vm_d "$VMNET" destroy "$W/p$n.xml"
        check_gone vmnet
        echo "  vmnet:   apply $(s "$vm_a") s, destroy $(s "$vm_d") s; plan of the applied host (no changes) $(ms "$vm_noop") ms"
        res[$n]="$lv_c $vm_a $lv_t $vm_d"

        # Where vmnet's time goes: the same again, stamped.
        sysctl -qw net.ipv4.ip_forward=0
        timed vm_p "$VMNET" plan "$W/p$n.xml"
        echo "  vmnet plan of the empty host: $(ms "$vm_p") ms"
        echo "  vmnet apply again, by kind of step:"
        stamped vm_a2 "$VMNET" apply "$W/p$n.xml"
        check_up vmnet "$W/nets$n"
        echo "  vmnet destroy again, by kind of step:"
        stamped vm_d2 "$VMNET" destroy "$W/p$n.xml"
        check_gone vmnet
        res[$n]+=" $vm_a2 $vm_d2"
done

echo "process start here (best of 3): vmnet --version $(ms "$(best3 "$VMNET" --version)") ms," \
        "virsh --version $(ms "$(best3 virsh --version)") ms, /bin/true $(ms "$(best3 /bin/true)") ms"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-9s %13s %8s %6s %15s %8s %6s %10s\n' networks "libvirt up s" "vmnet s" up_x "libvirt down s" "vmnet s" down_x "vmnet again s"
for n in $sizes; do
        read -r a b c d a2 d2 <<<"${res[$n]}"
        printf '%-9s %13s %8s %6s %15s %8s %6s %10s\n' "$n" "$(s "$a")" "$(s "$b")" "$(ratio "$a" "$b")" "$(s "$c")" "$(s "$d")" "$(ratio "$c" "$d")" "$(s "$a2") / $(s "$d2")"
done
# lib.sh's cleanup (libvirtd stopped) now, not from an EXIT trap at the end
# of the file; without errexit, as lib.sh runs it (a kill of a daemon that
# already exited fails there, and made the run exit 1)
set +e
_vm_cleanup
trap - EXIT
exit 0
