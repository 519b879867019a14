#!/usr/bin/python3
"""dgram-sink.py SOCKET OUT [journal|raw]: receives datagrams on the Unix
socket SOCKET (created here) and appends each to OUT as one JSON line.

journal: the journal's native protocol (systemd's "Native Journal Protocol":
KEY=VALUE lines, or KEY, a 64-bit little-endian length and the bytes), as
/run/systemd/journal/socket receives it; each line is an object of the fields.
raw: sd_notify(3) messages; each line is {"text": ...}.

A stand-in for journald and for systemd's notify socket, so a test reads what
vmnet sent through the real protocol without touching the machine's journal.
Stops on SIGTERM. Prints "ready" on stdout once the socket is bound."""
import json
import os
import signal
import socket
import struct
import sys


def parse_journal(data):
    fields, i = {}, 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            break
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + n]
            i = nl + 9 + n + 1
        fields[k.decode()] = v.decode(errors="replace")
    return fields


def main():
    path, out, mode = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "journal"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    print("ready", flush=True)
    with open(out, "a") as f:
        while True:
            data = s.recv(1 << 20)
            rec = parse_journal(data) if mode == "journal" else {"text": data.decode(errors="replace")}
            f.write(json.dumps(rec) + "\n")
            f.flush()


if __name__ == "__main__":
    main()
