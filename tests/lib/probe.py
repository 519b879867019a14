#!/usr/bin/python3
# Listeners and senders for the traffic tests (tests/lib/standin.sh:
# tests/netns/t-matrix.sh, tests/netns/t-spoof.sh, tests/vm/t-matrix-vlan.sh),
# where a denied cell must be proven at the receiving side: the listener logs
# every connection (the token it received and the peer's address) before it
# answers, so a client that got the answer knows the log line is written, and
# a token that is not in the log never reached the service.
#
#   probe.py serve LOG READY ADDR:PORT...   ([::]:2222 is IPv6 only; 0.0.0.0:2222 IPv4)
#   probe.py tcp ADDR PORT TOKEN [SRC]      prints open, refused (a TCP reset),
#                                           unreachable (ICMP), timeout or error:...
#   probe.py tcp-many ADDR,PORT,TOKEN[,SRC]...
#                                           the same connections at once (one
#                                           interpreter: it is slow to start in
#                                           the VM), a line "TOKEN RESULT" each
#   probe.py dns ADDR                       one DNS query over UDP: prints answer or none
#   probe.py userve LOG READY ADDR:PORT...  a UDP listener: logs "TOKEN PEER PORT" per datagram
#   probe.py udp DST PORT TOKEN [SRC [SPORT [IFACE]]]
#                                           one datagram (to a broadcast address too, out of IFACE)
#   probe.py arp IFACE SENDER_MAC SENDER_IP TARGET_IP [ETH_SRC]
#                                           one ARP request, broadcast, with that sender (a raw frame;
#                                           its Ethernet source is SENDER_MAC unless ETH_SRC is given)
#   probe.py ra IFACE PREFIX                one router advertisement to ff02::1: default router,
#                                           PREFIX/64 for address autoconfiguration
#   probe.py frame IFACE SRC_MAC DST_MAC TOKEN [VLAN]
#                                           one raw frame of type 0x88b5 (local experimental) carrying
#                                           TOKEN, 802.1Q-tagged with VLAN when given
#   probe.py dfping ADDR SIZE               one ICMP echo request of SIZE payload bytes, IPv4 with
#                                           DF set (the path MTU, as ping -M do): prints answered,
#                                           too-big (the sender's own MTU refused it) or timeout
#                                           (tests/netns/t-vxlan.sh: busybox ping has no DF)
#   probe.py fserve LOG READY IFACE         logs "TOKEN frame PROTO" for each frame on IFACE carrying
#                                           a token (probe.py frame), tagged or not
# (tests/netns/t-spoof.sh: what a hostile guest sends, whatever its own addresses)
# The listener runs until it is killed, and stops by itself after an hour.
import errno
import os
import select
import socket
import sys
import threading
import time


def bound(specs, kind):
    """One socket of kind per ADDR:PORT ([::]:P is IPv6 only), bound (and listening for TCP)."""
    socks = []
    for spec in specs:
        addr, port = spec.rsplit(":", 1)
        addr = addr.strip("[]")
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        elif kind == socket.SOCK_DGRAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.bind((addr, int(port)))
        if kind == socket.SOCK_STREAM:
            s.listen(64)
        socks.append(s)
    return socks


def listen_loop(log, ready, socks, take):
    """
    Says it is ready, then for an hour logs what take(sock) returns,
    (data, peer, after) or None, and only then calls after() (if any).
    """
    with open(ready, "w") as f:
        f.write("ready\n")
    end = time.monotonic() + 3600
    with open(log, "a") as out:
        while time.monotonic() < end:
            r, _, _ = select.select(socks, [], [], 5)
            for s in r:
                got = take(s)
                if got:
                    out.write("%s %s %s\n" % (got[0], got[1], s.getsockname()[1]))
                    out.flush()
                    if got[2]:
                        got[2]()


def serve(log, ready, specs):
    def answer(c):
        try:
            c.sendall(b"ok\n")
        except OSError:
            pass
        c.close()

    def take(s):
        # the answer follows the log line: a client that got it knows it is written
        c, peer = s.accept()
        c.settimeout(5)
        try:
            data = c.recv(256).decode(errors="replace").strip()
        except OSError:
            c.close()
            return None
        return (data, peer[0], lambda: answer(c))

    listen_loop(log, ready, bound(specs, socket.SOCK_STREAM), take)


def client(addr, port, token, src=None):
    print(connect(addr, port, token, src))


def connect(addr, port, token, src=None):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        if src:
            s.bind((src, 0))
        # through getaddrinfo: a (host, port) pair would lose the scope of
        # "fe80::1%eth0" (scope id 0), and the kernel refuses that (EINVAL)
        s.connect(socket.getaddrinfo(addr, int(port), fam, socket.SOCK_STREAM)[0][4])
        s.sendall(token.encode() + b"\n")
        got = s.recv(16)
        return "open" if got.startswith(b"ok") else "error:answer"
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM):
            return "unreachable"
        return "error:%s" % errno.errorcode.get(e.errno, e.errno)
    finally:
        s.close()


def connect_many(specs):
    out = {}

    def one(spec):
        a = spec.split(",")
        out[a[2]] = connect(*a)

    threads = [threading.Thread(target=one, args=(spec,)) for spec in specs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for token, got in out.items():
        print(token, got)


def userve(log, ready, specs):
    def take(s):
        data, peer = s.recvfrom(512)
        return (data.decode(errors="replace").strip(), peer[0], None)

    listen_loop(log, ready, bound(specs, socket.SOCK_DGRAM), take)


def udp(dst, port, token, src=None, sport=None, iface=None):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    if iface:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    if src or sport:
        s.bind((src or ("::" if fam == socket.AF_INET6 else "0.0.0.0"), int(sport or 0)))
    try:
        s.sendto(token.encode() + b"\n", (dst, int(port)))
        print("sent")
    except OSError as e:
        print("error:%s" % errno.errorcode.get(e.errno, e.errno))
    finally:
        s.close()


def mac_bytes(mac):
    return bytes(int(b, 16) for b in mac.split(":"))


def arp(iface, sender_mac, sender_ip, target_ip, eth_src=None):
    """An ARP request; the Ethernet source is sender_mac unless eth_src is given."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    sha = mac_bytes(sender_mac)
    src = mac_bytes(eth_src) if eth_src else sha
    frame = (b"\xff" * 6 + src + b"\x08\x06"              # Ethernet: broadcast, ARP
             + bytes.fromhex("0001080006040001")          # Ethernet/IPv4, request
             + sha + socket.inet_aton(sender_ip)
             + b"\x00" * 6 + socket.inet_aton(target_ip))
    s.send(frame + b"\x00" * (60 - len(frame)))
    s.close()
    print("sent")


FRAME_MAGIC = b"VMNT:"


def frame(iface, src_mac, dst_mac, token, vlan=None):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    tag = b"\x81\x00" + int(vlan).to_bytes(2, "big") if vlan else b""
    f = mac_bytes(dst_mac) + mac_bytes(src_mac) + tag + b"\x88\xb5" + FRAME_MAGIC + token.encode() + b"\n"
    s.send(f + b"\x00" * max(0, 60 - len(f)))
    s.close()
    print("sent")


def fserve(log, ready, iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))  # ETH_P_ALL
    s.bind((iface, 0))

    def take(sock):
        data = sock.recv(2048)
        i = data.find(FRAME_MAGIC)
        if i < 0:
            return None
        return (data[i + len(FRAME_MAGIC):].split(b"\n")[0].decode(errors="replace"), "frame", None)
    listen_loop(log, ready, [s], take)


def ra(iface, prefix):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    # type 134, code 0, checksum (the kernel's), hop limit 64, flags 0,
    # router lifetime 1800 s, reachable 0, retransmit 0; then a prefix
    # information option: /64, on-link and autonomous, valid 86400 s,
    # preferred 14400 s
    msg = (bytes.fromhex("8600000040000708") + b"\x00" * 8
           + bytes.fromhex("030440c0000151800000384000000000")
           + socket.inet_pton(socket.AF_INET6, prefix))
    s.sendto(msg, ("ff02::1", 0, 0, socket.if_nametoindex(iface)))
    s.close()
    print("sent")


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff


def dfping(addr, size):
    IP_MTU_DISCOVER, IP_PMTUDISC_DO = 10, 2
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    ident = os.getpid() & 0xffff
    payload = bytes(i & 0xff for i in range(int(size)))
    hdr = bytes([8, 0, 0, 0]) + ident.to_bytes(2, "big") + (1).to_bytes(2, "big")
    msg = hdr[:2] + checksum(hdr + payload).to_bytes(2, "big") + hdr[4:] + payload
    try:
        s.sendto(msg, (addr, 0))
    except OSError as e:
        print("too-big" if e.errno == errno.EMSGSIZE else "error:%s" % errno.errorcode.get(e.errno, e.errno))
        return
    deadline = time.monotonic() + 2
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            print("timeout")
            return
        data, peer = s.recvfrom(65535)
        icmp = data[(data[0] & 0x0f) * 4:]
        if peer[0] == addr and icmp[0] == 0 and icmp[4:6] == ident.to_bytes(2, "big"):
            print("answered")
            return


def dns(addr):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(2)
    # id 0x1234, recursion desired, one question: "vmnet-probe." type A class IN
    q = bytes.fromhex("123401000001000000000000") + b"\x0bvmnet-probe\x00" + bytes.fromhex("00010001")
    try:
        s.sendto(q, (addr, 53))
        data = s.recv(512)
        print("answer" if data[:2] == q[:2] else "none")
    except OSError:
        print("none")
    finally:
        s.close()


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "tcp-many":
        connect_many(sys.argv[2:])
    elif sys.argv[1] == "dns":
        dns(sys.argv[2])
    elif sys.argv[1] == "userve":
        userve(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "udp":
        udp(*sys.argv[2:])
    elif sys.argv[1] == "arp":
        arp(*sys.argv[2:])
    elif sys.argv[1] == "frame":
        frame(*sys.argv[2:])
    elif sys.argv[1] == "fserve":
        fserve(*sys.argv[2:])
    elif sys.argv[1] == "ra":
        ra(*sys.argv[2:])
    elif sys.argv[1] == "dfping":
        dfping(*sys.argv[2:])
    else:
        client(*sys.argv[2:])
