"""A TCP relay that logs every byte it forwards, for test-security-wire.R.

Usage: python3 byte-relay.py TARGET_PORT LOG_PREFIX DEADLINE_SECONDS

Listens on a free port of 127.0.0.1 and prints that port on stdout. Each
connection made to it is joined to a new connection to 127.0.0.1:TARGET_PORT
and the bytes are passed on unchanged both ways, and kept: what the
connecting side sent goes to LOG_PREFIX.up, what came back to
LOG_PREFIX.down (the connections one after the other, in the order they
were accepted). A line "stop" on stdin, or stdin closing, writes the logs,
prints "connections=N up=BYTES down=BYTES" and exits 0. After
DEADLINE_SECONDS without a stop it exits 2, so that it never outlives the
test that started it. Needs only the Python standard library.
"""
import os
import select
import socket
import sys
import threading
import time

lock = threading.Lock()
conns = []  # [(downstream, upstream, up bytearray, down bytearray)]


def pump(src, dst, log):
    """Copy src to dst until src ends, keeping a copy in `log`."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            with lock:
                log.extend(data)
            dst.sendall(data)
    except OSError:
        pass  # a side went away, or stop closed the sockets
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def accept(listener, target_port):
    down, _ = listener.accept()
    up = socket.create_connection(("127.0.0.1", target_port), timeout=10)
    up.settimeout(None)
    entry = (down, up, bytearray(), bytearray())
    with lock:
        conns.append(entry)
    for src, dst, log in ((down, up, entry[2]), (up, down, entry[3])):
        threading.Thread(target=pump, args=(src, dst, log), daemon=True).start()


def stop(prefix):
    with lock:
        for down, up, _, _ in conns:
            for s in (down, up):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        up_log = b"".join(bytes(c[2]) for c in conns)
        down_log = b"".join(bytes(c[3]) for c in conns)
        n = len(conns)
    with open(prefix + ".up", "wb") as f:
        f.write(up_log)
    with open(prefix + ".down", "wb") as f:
        f.write(down_log)
    print("connections=%d up=%d down=%d" % (n, len(up_log), len(down_log)),
          flush=True)


def main():
    target_port, prefix = int(sys.argv[1]), sys.argv[2]
    deadline = time.monotonic() + float(sys.argv[3])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(listener.getsockname()[1], flush=True)
    stdin = sys.stdin.fileno()
    pending = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            sys.stderr.write("byte-relay: no stop within %s s\n" % sys.argv[3])
            sys.exit(2)
        readable, _, _ = select.select([listener, stdin], [], [], left)
        if listener in readable:
            accept(listener, target_port)
        if stdin in readable:
            data = os.read(stdin, 1024)
            pending += data
            if not data or b"stop" in pending:
                listener.close()
                stop(prefix)
                return


if __name__ == "__main__":
    main()
