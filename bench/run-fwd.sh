#!/bin/bash
# The forwarding benchmark (bench/README): what vmnet's ruleset costs the
# traffic it forwards, against the smallest ruleset the mode needs, with 1,
# 100 and 1000 networks applied.
#
# For each mode (MODES: nat routed) and size (SIZES: 1 100 1000) it builds,
# in namespaces of its own:
#
#   [guest] .10 of fbN's subnet --veth-- fbN [host: vmnet, N networks fb1..fbN] wan0 198.18.0.1 --veth-- [upstream] 198.18.0.2
#
# and measures a stand-in guest on the last network of the plan (where a
# ruleset with rules per network, in plan order, costs most) sending through
# the host to a stand-in peer on the uplink: bulk TCP (Gbit/s) and 64-byte UDP frames
# (kpps), both counted by the receiver (bench/fwgen.c). Each is measured
# with vmnet's table (applied by vmnet) and with the floor in its place:
#   routed: table inet floor { forward: ct state established,related accept }
#   nat:    table inet floor { postrouting: oifname "wan0" masquerade }
# RUNS rounds (default 10); each round visits every mode, size and table in
# turn (the order alternates), so slow phases of this shared machine fall on
# all of them alike. It prints the medians, vmnet/floor per mode, size and
# traffic, and the growth from the smallest to the largest size.
#
# One-way UDP is the costly case for a ruleset: conntrack never sees a reply,
# so every datagram is "new" and walks the forward chain to the rule that
# accepts it (TCP data is "established" by the first rule).
#
# PORTS=P adds P guest ports (domains with a MAC and an address each) to
# every plan, for a renderer that loads per-port entries (anti-spoofing):
# bench/gen-plan.sh. SECS is the length of one measurement window (2 s).
# BASE=path/to/another/vmnet measures that build's ruleset as a third table
# ("base") in the same rounds, for a before/after in one invocation.
# TRAFFIC=udp (or tcp) measures only that traffic.
# Never touches the machine's own namespace.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
VMNET=${VMNET:-$here/../build/vmnet}
FWGEN=${FWGEN:-$here/../build/bench/fwgen}
SIZES=${SIZES:-1 100 1000}
MODES=${MODES:-nat routed}
RUNS=${RUNS:-10}
SECS=${SECS:-2}
BASE=${BASE:-}
TRAFFIC=${TRAFFIC:-tcp udp}
export PORTS=${PORTS:-0}
T=$(mktemp -d)
export VMNET_STATE_DIR=$T/state VMNET_RUN_DIR=$T/run
P=vmnet-fwd-$$
declare -a NSES=() KIDS=()
declare -A GUEST=()
cleanup() {
        local k ns f
        for k in "${KIDS[@]}"; do kill "$k" 2>/dev/null || true; done
        # the dnsmasq vmnet started for guest ports' reservations (PORTS)
        for f in $(find "$T/run" -name '*.pid' 2>/dev/null); do kill "$(cat "$f")" 2>/dev/null || true; done
        for ns in "${NSES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
        rm -rf "$T"
}
trap cleanup EXIT
die() { echo "run-fwd.sh: $*" >&2; exit 1; }
[ -x "$FWGEN" ] || die "no $FWGEN (make -C build bench/fwgen)"
[ -x "$VMNET" ] || die "no $VMNET"
[ -z "$BASE" ] || [ -x "$BASE" ] || die "no $BASE"

newns() { ip netns add "$1"; NSES+=("$1"); ip -n "$1" link set lo up; }

# The names of the tables in a namespace, read from the kernel.
tables() { ip netns exec "$1" nft -j list tables | jq -r '[.nftables[].table? // empty | "\(.family) \(.name)"] | join(",")'; }

setup() { # MODE N
        local mode=$1 n=$2 h=$P-$1-$2-h g=$P-$1-$2-g u=$P-$1-$2-u cidr gw
        sh "$here/gen-plan.sh" "$mode-nets" "$n" >"$T/$mode-$n.xml"
        newns "$h"; newns "$g"; newns "$u"
        ip -n "$h" link add wan0 type veth peer name eth0 netns "$u"
        ip -n "$h" addr add 198.18.0.1/24 dev wan0
        ip -n "$h" link set wan0 up
        ip -n "$u" addr add 198.18.0.2/24 dev eth0
        ip -n "$u" link set eth0 up
        # routed: the upstream reaches the guests' subnets through the host
        if [ "$mode" = routed ]; then ip -n "$u" route add 10.96.0.0/11 via 198.18.0.1; fi
        "$VMNET" --netns "$h" --quiet apply "$T/$mode-$n.xml" || die "vmnet apply of $mode-$n failed"
        # the guest: .10 of the last network's subnet, routed through its gateway
        cidr=$(sed -n "s|.*name=\"f$n\" .*cidr=\"\([0-9./]*\)\" gateway=\"\([0-9.]*\)\".*|\1 \2|p" "$T/$mode-$n.xml")
        gw=${cidr#* }; cidr=${cidr% *}
        GUEST[$mode-$n]=$(echo "$cidr" | awk -F'[./]' '{ printf "%d.%d.%d.%d", $1, $2, $3, $4 + 10 }')
        # with PORTS the guest is the plan's port "bench": its MAC, and its
        # host side named as vmnet names a guest's tap ("vmn" + the MAC)
        if [ "$PORTS" -gt 0 ]; then
                ip -n "$h" link add vmn525400ffffff type veth peer name eth0 netns "$g" address 52:54:00:ff:ff:ff
                ip -n "$h" link set vmn525400ffffff master "fb$n" up
        else
                ip -n "$h" link add gv0 type veth peer name eth0 netns "$g"
                ip -n "$h" link set gv0 master "fb$n" up
        fi
        ip -n "$g" addr add "${GUEST[$mode-$n]}/${cidr#*/}" dev eth0
        ip -n "$g" link set eth0 up
        ip -n "$g" route add default via "$gw"
        case $mode in
        routed) printf '%s\n' 'table inet floor {' \
                '	chain forward {' \
                '		type filter hook forward priority filter; policy accept;' \
                '		ct state established,related accept' \
                '	}' '}' >"$T/floor-$mode.nft" ;;
        nat) printf '%s\n' 'table inet floor {' \
                '	chain postrouting {' \
                '		type nat hook postrouting priority srcnat; policy accept;' \
                '		oifname "wan0" masquerade' \
                '	}' '}' >"$T/floor-$mode.nft" ;;
        esac
}

declare -A SUM=()
use() { # MODE N vmnet|base|floor: puts that table alone in the host namespace
        local h=$P-$1-$2-h got bin=$VMNET other=base sum
        if [ "$3" != floor ]; then
                [ "$3" = base ] && bin=$BASE other=vmnet
                ip netns exec "$h" nft delete table inet floor 2>/dev/null || true
                "$bin" --netns "$h" --quiet apply "$T/$1-$2.xml" || die "$3 apply of $1-$2 failed"
                got=$(tables "$h")
                # with anti-spoofing, vmnet also has a table in the bridge family
                case $got in
                "inet vmnet" | "inet vmnet,bridge vmnet" | "bridge vmnet,inet vmnet") ;;
                *) die "$1-$2: tables '$got', expected only vmnet's" ;;
                esac
                # vmnet and base must have loaded different rulesets (rules, not elements)
                sum=$( (ip netns exec "$h" nft list chain inet vmnet forward
                        ip netns exec "$h" nft list chain bridge vmnet prerouting 2>/dev/null || true) | md5sum)
                [ -z "${SUM[$1-$2-$other]:-}" ] || [ "${SUM[$1-$2-$other]}" != "$sum" ] ||
                        die "$1-$2: vmnet and base loaded the same rules"
                SUM[$1-$2-$3]=$sum
        else
                ip netns exec "$h" nft delete table inet vmnet 2>/dev/null || true
                ip netns exec "$h" nft delete table bridge vmnet 2>/dev/null || true
                ip netns exec "$h" nft -f "$T/floor-$1.nft"
                got=$(tables "$h")
                [ "$got" = "inet floor" ] || die "$1-$2: tables '$got', expected only inet floor"
        fi
}

# One measurement: prints Gbit/s (tcp) or kpps (udp) as the receiver counted them.
measure() { # MODE N tcp|udp
        local g=$P-$1-$2-g u=$P-$1-$2-u port=5001 want=198.18.0.1 rpid spid i out count secs peer
        [ "$3" = udp ] && port=5002
        [ "$1" = routed ] && want=${GUEST[$1-$2]}
        rm -f "$T/ready"
        ip netns exec "$u" "$FWGEN" "$3-recv" "$port" "$SECS" "$T/ready" >"$T/out" &
        rpid=$!; KIDS+=("$rpid")
        for i in $(seq 200); do [ -e "$T/ready" ] && break; sleep 0.05; done
        [ -e "$T/ready" ] || die "$1-$2 $3: the receiver did not start"
        ip netns exec "$g" "$FWGEN" "$3-send" 198.18.0.2 "$port" "$((SECS + 3))" &
        spid=$!; KIDS+=("$spid")
        wait "$rpid" || die "$1-$2 $3: the receiver failed"
        kill "$spid" 2>/dev/null || true
        wait "$spid" 2>/dev/null || true
        read -r count secs peer <"$T/out"
        # the receiver saw the host's address (nat) or the guest's (routed)
        [ "$peer" = "$want" ] || die "$1-$2 $3: the receiver saw $peer, expected $want"
        if [ "$3" = tcp ]; then
                awk -v c="$count" -v s="$secs" 'BEGIN { printf "%.3f", c * 8 / s / 1e9 }'
        else
                awk -v c="$count" -v s="$secs" 'BEGIN { printf "%.1f", c / s / 1e3 }'
        fi
}

echo "forwarding benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS rounds of ${SECS}s windows; ports per plan: $PORTS; traffic: $TRAFFIC${BASE:+; base: $BASE}"
combos=()
for mode in $MODES; do
        for n in $SIZES; do
                setup "$mode" "$n"
                combos+=("$mode $n")
                use "$mode" "$n" vmnet
                for fam in inet bridge; do
                        ip netns exec "$P-$mode-$n-h" nft -j list table "$fam" vmnet >"$T/table.json" 2>/dev/null || continue
                        if [ "$fam" = bridge ] && [ "$PORTS" -gt 0 ]; then
                                jq -e '[.nftables[].set? // empty | select(.name == "guest_ports") | .elem[] | select(. == "vmn525400ffffff")] | length == 1' "$T/table.json" >/dev/null ||
                                        die "$mode-$n: the guest's port vmn525400ffffff is not in @guest_ports"
                        fi
                        echo "  $mode, $n networks: table $fam vmnet holds $(jq -r '"\([.nftables[].rule? // empty] | length) rules, \([.nftables[].set? // empty] | length) sets and maps with \([.nftables[].set? // empty | .elem // [] | length] | add // 0) elements"' "$T/table.json") (nft -j)"
                done
        done
done

: >"$T/results"
for r in $(seq "$RUNS"); do
        k=0
        for c in "${combos[@]}"; do
                # shellcheck disable=SC2086
                set -- $c
                if [ -n "$BASE" ]; then
                        case $(((r + k) % 3)) in
                        0) order="vmnet base floor" ;;
                        1) order="base floor vmnet" ;;
                        *) order="floor vmnet base" ;;
                        esac
                elif [ $(((r + k) % 2)) = 0 ]; then order="vmnet floor"; else order="floor vmnet"; fi
                for v in $order; do
                        use "$1" "$2" "$v"
                        for t in $TRAFFIC; do
                                x=$(measure "$1" "$2" "$t") || exit 1
                                echo "$1 $2 $t $v $r $x" >>"$T/results"
                        done
                done
                k=$((k + 1))
        done
        echo "  round $r of $RUNS done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "${FWD_RESULTS:-}" ] && cp "$T/results" "$FWD_RESULTS"

# Medians, ratios and growth, from the lines "MODE N TEST TABLE ROUND VALUE".
awk -v sizes="$SIZES" -v rulesets="vmnet${BASE:+ base}" '
function median(key,   n, i, j, t, a) {
        n = cnt[key]
        for (i = 1; i <= n; i++) a[i] = val[key, i]
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
        key = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4
        val[key, ++cnt[key]] = $6
        seen[$1 SUBSEP $3] = 1
        # the same round: vmnet / floor, paired
        pair[$1, $2, $3, $5, $4] = $6
        rounds[$5] = 1
}
END {
        ns = split(sizes, sz, " ")
        nrs = split(rulesets, rsl, " ")
        for (q = 1; q <= nrs; q++) {
        rs = rsl[q]
        printf "\n%-7s %-5s %6s %-10s %10s %10s %12s %14s\n", "mode", "test", "nets", "unit", rs, "floor", rs "/floor", "paired median"
        for (m = 1; m <= 2; m++) {
                mode = m == 1 ? "nat" : "routed"
                for (t = 1; t <= 2; t++) {
                        test = t == 1 ? "tcp" : "udp"
                        if (!((mode SUBSEP test) in seen)) continue
                        for (s = 1; s <= ns; s++) {
                                n = sz[s]
                                v = median(mode SUBSEP n SUBSEP test SUBSEP rs)
                                f = median(mode SUBSEP n SUBSEP test SUBSEP "floor")
                                k = 0; cnt["p"] = 0
                                for (r in rounds) if ((mode, n, test, r, rs) in pair) {
                                        cnt["p"] = ++k; val["p", k] = pair[mode, n, test, r, rs] / pair[mode, n, test, r, "floor"]
                                }
                                pm = median("p")
                                printf "%-7s %-5s %6s %-10s %10.2f %10.2f %12.3f %14.3f\n", mode, test, n, test == "tcp" ? "Gbit/s" : "kpps", v, f, v / f, pm
                                vm[s] = v; fl[s] = f
                        }
                        printf "%-7s %-5s growth %s -> %s networks: %s x%.3f, floor x%.3f\n", mode, test, sz[1], sz[ns], rs, vm[ns] / vm[1], fl[ns] / fl[1]
                }
        }
        }
}' "$T/results"
