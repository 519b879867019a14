#!/usr/bin/python3
# A TCP listener and client for tests/netns/t-matrix.sh, where a denied cell
# must be proven at the receiving side: the listener logs every connection
# (the token it received and the peer's address) before it answers, so a
# client that got the answer knows the log line is written, and a token that
# is not in the log never reached the service.
#
#   probe.py serve LOG READY ADDR:PORT...   ([::]:2222 is IPv6 only; 0.0.0.0:2222 IPv4)
#   probe.py tcp ADDR PORT TOKEN [SRC]      prints open, refused (a TCP reset),
#                                           unreachable (ICMP), timeout or error:...
#   probe.py dns ADDR                       one DNS query over UDP: prints answer or none
# The listener runs until it is killed, and stops by itself after an hour.
import errno
import os
import select
import socket
import sys
import time


def serve(log, ready, specs):
    socks = []
    for spec in specs:
        addr, port = spec.rsplit(":", 1)
        addr = addr.strip("[]")
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, int(port)))
        s.listen(64)
        socks.append(s)
    with open(ready, "w") as f:
        f.write("ready\n")
    end = time.monotonic() + 3600
    with open(log, "a") as out:
        while time.monotonic() < end:
            r, _, _ = select.select(socks, [], [], 5)
            for s in r:
                c, peer = s.accept()
                c.settimeout(5)
                try:
                    data = c.recv(256).decode(errors="replace").strip()
                    out.write("%s %s %s\n" % (data, peer[0], s.getsockname()[1]))
                    out.flush()
                    c.sendall(b"ok\n")
                except OSError:
                    pass
                c.close()


def client(addr, port, token, src=None):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        if src:
            s.bind((src, 0))
        s.connect((addr, int(port)))
        s.sendall(token.encode() + b"\n")
        got = s.recv(16)
        print("open" if got.startswith(b"ok") else "error:answer")
    except ConnectionRefusedError:
        print("refused")
    except socket.timeout:
        print("timeout")
    except OSError as e:
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM):
            print("unreachable")
        else:
            print("error:%s" % errno.errorcode.get(e.errno, e.errno))
    finally:
        s.close()


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
    elif sys.argv[1] == "dns":
        dns(sys.argv[2])
    else:
        client(*sys.argv[2:])
