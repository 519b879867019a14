# Stand-in guests and peers for the traffic tests (t-matrix.sh, t-spoof.sh):
# namespaces named $P-NAME, veths between them, listeners that log what
# arrives (tests/netns/probe.py), and checks read at the receiving side.
# Sourced after lib.sh.
PROBE=$top_srcdir/tests/netns/probe.py
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
slaac() { # NS PREFIX: waits (bounded) for an address a router advertisement gave
        for _ in $(seq 150); do
                jtrue --arg p "$2" '[.[].addr_info[] | select(.dynamic == true and (.local | startswith($p)))] | length > 0' \
                        ip -n "$P-$1" -j addr show dev eth0 2>/dev/null && return 0
                sleep 0.1
        done
        return 1
}
apply_or_stop() { # WHAT: vmnet apply of $T/plan.xml in $P-host; the test stops when it fails
        if ! vm "$P-host" apply "$T/plan.xml"; then
                ko "apply of $1"; cat "$T/err"; finish; exit 1
        fi
        ok "apply of $1"
}

# listen NS ADDR:PORT...: a TCP listener logging to $T/log-NS (ready: $T/ready-NS)
listen() { # NS ADDR:PORT...
        local ns=$1; shift
        x "$ns" timeout 3600 "$PY" "$PROBE" serve "$T/log-$ns" "$T/ready-$ns" "$@" \
                >/dev/null 2>"$T/listen-$ns.err" &
}
# ulisten NS ADDR:PORT...: the same for UDP, logging to $T/ulog-NS
ulisten() {
        local ns=$1; shift
        x "$ns" timeout 3600 "$PY" "$PROBE" userve "$T/ulog-$ns" "$T/uready-$ns" "$@" \
                >/dev/null 2>"$T/ulisten-$ns.err" &
}
# ready FILE...: waits (bounded) until every listener wrote its ready file
ready() {
        local f
        for f in "$@"; do
                for _ in $(seq 100); do [ -s "$f" ] && break; sleep 0.05; done
                [ -s "$f" ] || { ko "listener ${f##*/} did not start"; return 1; }
        done
}

n=0
tcp() { # allow|deny DESCRIPTION FROM RECEIVER ADDR PORT [SRC]: one TCP connection
        local want=$1 desc=$2 from=$3 rcv=$4 addr=$5 port=$6 src=${7:-} got token
        n=$((n + 1)); token=c$n
        got=$(x "$from" "$PY" "$PROBE" tcp "$addr" "$port" "$token" $src)
        if grep -q "^$token " "$T/log-$rcv" 2>/dev/null; then arrived=yes; else arrived=no; fi
        if [ "$want" = allow ]; then
                check "$desc: tcp $from -> $addr:$port passes ($got)" test "$got/$arrived" = open/yes
        else
                check "$desc: tcp $from -> $addr:$port never reaches $rcv ($got, arrived: $arrived)" \
                        test "$got/$arrived" != open/yes -a "$arrived" = no
        fi
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
