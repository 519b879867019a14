# tests/lib/standin.sh: stand-in guests and peers for the traffic tests, and
# checks read at the receiving side. Sourced after tests/netns/lib.sh (check,
# ok, ko, finish, track_ns, track_pid, $T) by tests/netns/t-matrix.sh (the
# reachability matrix of vmnet-plan(5), every mode, natively),
# tests/netns/t-spoof.sh (anti-spoofing, with raw frames) and
# tests/vm/t-matrix-vlan.sh (the matrix of the VLAN networks, in the VM).
#
# Namespaces are "$P-NAME"; the host, where vmnet runs, is "$P-host". A
# stand-in guest is a namespace whose eth0 is a veth whose other end,
# v-NAME, is a port of a bridge in the host namespace. Listeners
# (tests/lib/probe.py) log what arrives. A cell is proven at the receiving
# side: the listener's log holds the connection's token (tcp), or the
# receiver's ICMP echo counter grew (icmp); a denied cell must show neither.

PROBE=$top_srcdir/tests/lib/probe.py
# Debian's interpreter (python3-minimal), not whatever wrapper PATH finds first
PY=/usr/bin/python3
P=vmnet-t$$
ns_new() { # NAME: an empty namespace with lo up
        ip netns add "$P-$1" || return 1
        track_ns "$P-$1"
        ip -n "$P-$1" link set lo up
        # guests and peers take no router advertisement unless they ask
        ip netns exec "$P-$1" sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0
}
wire() { # NS_A IF_A NS_B IF_B: a veth between two namespaces, both ends up
        ip -n "$P-$1" link add "$2" type veth peer name "$4" netns "$P-$3"
        ip -n "$P-$1" link set "$2" up
        ip -n "$P-$3" link set "$4" up
}
x() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }
host_absent() { # BRIDGE: a check that the host takes no part on BRIDGE (no IPv6, answers no ARP)
        check "$1: disable_ipv6=1, arp_ignore=8" \
                test "$(x host sysctl -n net.ipv6.conf.$1.disable_ipv6 net.ipv4.conf.$1.arp_ignore | tr '\n' ' ')" = "1 8 "
}
apply_or_stop() { # WHAT: vmnet apply of $T/plan.xml in $P-host; the test stops when it fails
        if ! vm "$P-host" apply "$T/plan.xml"; then
                ko "apply of $1"; cat "$T/err"; finish; exit 1
        fi
        ok "apply of $1"
}

# host_and_outside: the namespaces host and up (the outside), wired
# wan0 203.0.113.1 2001:db8:ff::1 (host) -- eth0 203.0.113.2 2001:db8:ff::2 (up)
host_and_outside() {
        ns_new host; ns_new up
        wire host wan0 up eth0
        # nodad: addresses usable at once, no wait on duplicate address detection
        ip -n "$P-host" addr add 203.0.113.1/24 dev wan0
        ip -n "$P-host" addr add 2001:db8:ff::1/64 dev wan0 nodad
        ip -n "$P-up" addr add 203.0.113.2/24 dev eth0
        ip -n "$P-up" addr add 2001:db8:ff::2/64 dev eth0 nodad
}
# nat_network: the plan's nat network, vm-nat 10.99.1.1 fd99:1::1, out of
# wan0, forwarding the host's 8080 to 10.99.1.10:80 and 8086 to [fd99:1::10]:80
nat_network() {
        cat <<'XML'
  <network name="nat" mode="nat" bridge="vm-nat">
    <subnet cidr="10.99.1.0/24" gateway="10.99.1.1">
      <dhcp start="10.99.1.100" end="10.99.1.150"/>
    </subnet>
    <subnet cidr="fd99:1::/64" gateway="fd99:1::1"/>
    <nat out="wan0">
      <port-forward proto="tcp" host-port="8080" to="10.99.1.10" to-port="80"/>
      <port-forward proto="tcp" host-port="8086" to="fd99:1::10" to-port="80"/>
    </nat>
  </network>
XML
}

# guest [--mac MAC] [--plug CMD] NAME BRIDGE [ADDR4/LEN GW4 ADDR6/LEN GW6 [MAC-OF-GATEWAY]]
# A stand-in guest on BRIDGE, its default routes through GW4 and GW6 (onlink).
# --mac: the guest's MAC; the host's end gets it with fe as its first byte,
# as libvirt gives a guest's tap. --plug: CMD NAME BRIDGE MAC runs before
# the port joins the bridge (libvirt's network hook, port-created).
# MAC-OF-GATEWAY: a permanent neighbour for both gateways, without ARP or
# ND, as a hostile guest would set where the host does not answer.
guest() {
        local mac= plug= g br
        while :; do
                case $1 in
                --mac) mac=$2; shift 2 ;;
                --plug) plug=$2; shift 2 ;;
                *) break ;;
                esac
        done
        g=$1 br=$2
        ns_new "$g"
        ip -n "$P-host" link add "v-$g" ${mac:+address "fe:${mac#*:}"} type veth \
                peer name eth0 ${mac:+address "$mac"} netns "$P-$g"
        [ -z "$plug" ] || "$plug" "$g" "$br" "$mac"
        ip -n "$P-host" link set "v-$g" master "$br" up
        ip -n "$P-$g" link set eth0 up
        [ $# -gt 2 ] || return 0
        ip -n "$P-$g" addr add "$3" dev eth0
        ip -n "$P-$g" addr add "$5" dev eth0 nodad
        if [ -n "${7:-}" ]; then
                ip -n "$P-$g" neigh replace "$4" lladdr "$7" dev eth0 nud permanent
                ip -n "$P-$g" -6 neigh replace "$6" lladdr "$7" dev eth0 nud permanent
        fi
        ip -n "$P-$g" route add default via "$4" dev eth0 onlink
        ip -n "$P-$g" -6 route add default via "$6" dev eth0 onlink
}

# listen NS ADDR:PORT...: a logging TCP listener (tests/lib/probe.py serve)
listen() {
        local ns=$1; shift
        # not through x(): $! must be the process that becomes timeout, which
        # passes the cleanup's SIGTERM on to the listener
        ip netns exec "$P-$ns" timeout 3600 "$PY" "$PROBE" serve "$T/log-$ns" "$T/ready-$ns" "$@" \
                >/dev/null 2>"$T/listen-$ns.err" &
        track_pid $!
}
# ulisten NS ADDR:PORT...: the same for UDP (probe.py userve), logging to $T/ulog-NS
ulisten() {
        local ns=$1; shift
        ip netns exec "$P-$ns" timeout 3600 "$PY" "$PROBE" userve "$T/ulog-$ns" "$T/uready-$ns" "$@" \
                >/dev/null 2>"$T/ulisten-$ns.err" &
        track_pid $!
}
ready() { # FILE...: waits (bounded) until every listener wrote its ready file; a failed check for one that did not
        local f
        for f in "$@"; do
                for _ in $(seq 100); do [ -s "$f" ] && break; sleep 0.05; done
                [ -s "$f" ] || { ko "listener ${f##*/} did not start"; return 1; }
        done
}
listening() { # NS...: ready for each TCP listener (listen), with its errors for one that did not start
        local ns
        for ns in "$@"; do
                ready "$T/ready-$ns" || cat "$T/listen-$ns.err"
        done
}

n=0
tcp() { # allow|deny DESCRIPTION FROM RECEIVER ADDR PORT [SRC]: one TCP connection
        local want=$1 desc=$2 from=$3 rcv=$4 addr=$5 port=$6 src=${7:-} got token
        n=$((n + 1)); token=c$n
        if [ -n "${batching:-}" ]; then
                batched+=("tcp|$want|$desc|$from|$rcv|$addr|$port|$src|$token"); return
        fi
        got=$(x "$from" "$PY" "$PROBE" tcp "$addr" "$port" "$token" $src)
        tcp_check "$want" "$desc" "$from" "$rcv" "$addr" "$port" "$token" "$got"
}
tcp_check() { # allow|deny DESCRIPTION FROM RECEIVER ADDR PORT TOKEN GOT [SEGMENTS]: the cell's verdict
        # SEGMENTS: TCP segments the receiver's stack took in meanwhile (a SYN
        # that got there counts, even when no answer can get back)
        local want=$1 desc=$2 from=$3 rcv=$4 addr=$5 port=$6 token=$7 got=$8 segs=${9:-0} arrived=no
        grep -q "^$token " "$T/log-$rcv" 2>/dev/null && arrived=yes
        [ "$segs" = 0 ] || arrived="yes ($segs segments)"
        if [ "$want" = allow ]; then
                check "$desc: tcp $from -> $addr:$port passes ($got)" test "$got/$arrived" = open/yes
        else
                check "$desc: tcp $from -> $addr:$port never reaches $rcv ($got, arrived: $arrived)" \
                        test "$got" != open -a "$arrived" = no
        fi
}
tcpsegs() { # NS: the TCP segments the namespace's stack received so far (Tcp: InSegs)
        x "$1" awk '$1 == "Tcp:" && $2 !~ /^[0-9]/ { for (i = 2; i <= NF; i++) if ($i == "InSegs") f = i }
            $1 == "Tcp:" && $2 ~ /^[0-9]/ { print $f }' /proc/net/snmp
}
echoes() { # NS 4|6: the namespace's ICMP echo requests received so far
        if [ "$2" = 6 ]; then
                x "$1" awk '$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6
        else
                x "$1" awk '$1 == "Icmp:" && $2 !~ /^[0-9]/ { for (i = 2; i <= NF; i++) if ($i == "InEchos") f = i }
                    $1 == "Icmp:" && $2 ~ /^[0-9]/ { print $f }' /proc/net/snmp
        fi
}
icmp() { # allow|deny DESCRIPTION FROM RECEIVER ADDR [SRC]: one echo request
        local want=$1 desc=$2 from=$3 rcv=$4 addr=$5 src=${6:-} fam=4 before after rc=0
        case $addr in *:*) fam=6 ;; esac
        if [ "$want" = deny ] && [ -n "${batching:-}" ]; then
                batched+=("icmp|$want|$desc|$from|$rcv|$addr||$src|"); return
        fi
        before=$(echoes "$rcv" $fam)
        x "$from" busybox ping -c 1 -W 1 ${src:+-I $src} "$addr" >/dev/null 2>&1 || rc=$?
        after=$(echoes "$rcv" $fam)
        if [ "$want" = allow ]; then
                check "$desc: ping $from -> $addr answered ($rcv received $((after - before)))" \
                        test "$rc" = 0 -a "$after" -gt "$before"
        else
                check "$desc: ping $from -> $addr never reaches $rcv ($rcv received $((after - before)))" \
                        test "$rc" != 0 -a "$after" = "$before"
        fi
}
both() { # allow|deny DESCRIPTION FROM RECEIVER ADDR [PORT]: TCP and ICMP
        tcp "$1" "$2" "$3" "$4" "$5" "${6:-80}"
        icmp "$1" "$2" "$3" "$4" "$5"
}

# batch; CELLS...; run_batch: the TCP cells and the denied pings among CELLS
# (tcp, icmp, both) run together, their timeouts overlapping, with one
# interpreter per sending namespace (probe.py tcp-many: Python is slow to
# start in the VM); allowed pings run at once as usual. The allowed TCP
# cells run first; then the denied ones, during which a receiver's ICMP
# echo and TCP segment counters must not move at all (a SYN that reached
# it counts, even when no answer could get back): gathering never hides a
# packet, it can only blame a cell for another's.
batch() { batching=1; batched=(); }
run_batch() {
        local phase i kind want desc from rcv addr port src token got rc fam k pids
        local -A before after specs
        batching=
        for phase in allow deny; do
                pids=() specs=() before=() after=()
                for i in "${!batched[@]}"; do
                        IFS='|' read -r kind want desc from rcv addr port src token <<<"${batched[i]}"
                        [ "$want" = $phase ] || continue
                        if [ "$kind" = tcp ]; then
                                specs[$from]+=" $addr,$port,$token${src:+,$src}"
                                k=$rcv/tcp
                                [ $phase = allow ] || [ -n "${before[$k]:-}" ] || before[$k]=$(tcpsegs "$rcv")
                        else
                                fam=4; case $addr in *:*) fam=6 ;; esac
                                [ -n "${before[$rcv/$fam]:-}" ] || before[$rcv/$fam]=$(echoes "$rcv" $fam)
                        fi
                done
                for from in "${!specs[@]}"; do
                        x "$from" "$PY" "$PROBE" tcp-many ${specs[$from]} >"$T/batch-$from" &
                        pids+=($!)
                done
                for i in "${!batched[@]}"; do
                        IFS='|' read -r kind want desc from rcv addr port src token <<<"${batched[i]}"
                        [ "$kind/$want" = icmp/$phase ] || continue
                        { rc=0; x "$from" busybox ping -c 1 -W 1 ${src:+-I $src} "$addr" >/dev/null 2>&1 || rc=$?
                          echo "$rc" >"$T/batch.$i"; } &
                        pids+=($!)
                done
                [ ${#pids[@]} = 0 ] || wait "${pids[@]}"
                for k in "${!before[@]}"; do
                        case $k in
                        */tcp) after[$k]=$(tcpsegs "${k%/*}") ;;
                        *) after[$k]=$(echoes "${k%/*}" "${k#*/}") ;;
                        esac
                done
                for i in "${!batched[@]}"; do
                        IFS='|' read -r kind want desc from rcv addr port src token <<<"${batched[i]}"
                        [ "$want" = $phase ] || continue
                        if [ "$kind" = tcp ]; then
                                got=$(awk -v t="$token" '$1 == t { print $2 }' "$T/batch-$from")
                                k=$rcv/tcp
                                tcp_check "$want" "$desc" "$from" "$rcv" "$addr" "$port" "$token" "${got:-none}" \
                                        $((${after[$k]:-0} - ${before[$k]:-0}))
                                continue
                        fi
                        got=$(cat "$T/batch.$i")
                        fam=4; case $addr in *:*) fam=6 ;; esac
                        k=$rcv/$fam
                        check "$desc: ping $from -> $addr never reaches $rcv ($rcv received $((after[$k] - before[$k])) during the batch)" \
                                test "$got" != 0 -a "${after[$k]}" = "${before[$k]}"
                done
        done
        batched=()
}

ra_guest() { # NAME BRIDGE [guest options]: a guest that configures itself from router advertisements
        guest "${@:3}" "$1" "$2"
        x "$1" sysctl -qw net.ipv6.conf.eth0.accept_ra=2
        # a router solicitation now, when the link comes up again
        ip -n "$P-$1" link set eth0 down; ip -n "$P-$1" link set eth0 up
}
slaac() { # NS PREFIX: waits (bounded) for an address a router advertisement gave
        for _ in $(seq 150); do
                jtrue --arg p "$2" '[.[].addr_info[] | select(.dynamic == true and (.local | startswith($p)))] | length > 0' \
                        ip -n "$P-$1" -j addr show dev eth0 2>/dev/null && return 0
                sleep 0.1
        done
        return 1
}
