# zmqbench.py: the pyzmq column of bench/run.R (run with /usr/bin/python3,
# Debian's python3-zmq). Same modes and output ("RESULT key=value ...") as
# zmqbench.c; see the comment at the top of that file.
#
#   python3 zmqbench.py pair TRANSPORT BUDGET_S MIN_N SIZE [SIZE ...]
#   python3 zmqbench.py pyobj BUDGET_S          (send_pyobj/recv_pyobj of a float)
#   python3 zmqbench.py reqrep N WARM [TRANSPORT]  (starts a REP server: reqrep-server)
#   python3 zmqbench.py pushpull N SIZE HWM     (starts a PUSH sender: push-client)
#   python3 zmqbench.py poll BUDGET_S NSOCK
# TRANSPORT "tcp+curve": tcp with CURVE, as in zmqbench.c.
import os
import random
import subprocess
import sys
import time

import zmq

CHILD_TIMEOUT_S = int(float(os.environ.get("BENCH_CHILD_TIMEOUT", "120")))
now = time.perf_counter


def next_batch(batch, n, t, budget, min_n):
    """Doubling batches, but no more than the rest of the budget needs."""
    left = budget - t
    if left <= 0:
        return max(min_n - n, 1)
    per = t / n
    want = left / per if per > 0 else 2 * batch
    want = max(1, min(want, 2 * batch), min_n - n)
    return int(want)


def timed(fn, budget, min_n=1):
    """Run fn(k) (k messages) in batches for about budget seconds."""
    n, t, batch = 0, 0.0, 1
    while t < budget or n < min_n:
        t0 = now()
        fn(batch)
        t += now() - t0
        n += batch
        batch = next_batch(batch, n, t, budget, min_n)
    return n, t


def bind_any(s, transport, name):
    s.bind("tcp://127.0.0.1:*" if transport.startswith("tcp") else "inproc://" + name)
    return s.getsockopt_string(zmq.LAST_ENDPOINT)


def no_curve():
    """True (and says so) when libzmq lacks CURVE."""
    if zmq.has("curve"):
        return False
    print("RESULT unavailable=curve", flush=True)
    return True


def curve_server(s):
    """Before bind: s becomes a CURVE server; returns its public key (Z85)."""
    public, secret = zmq.curve_keypair()
    s.curve_secretkey = secret
    s.curve_server = True
    return public.decode("ascii")


def curve_client(s, server_public):
    """Before connect: s becomes a CURVE client of that server."""
    public, secret = zmq.curve_keypair()
    s.curve_serverkey = server_public.encode("ascii")
    s.curve_publickey = public
    s.curve_secretkey = secret


def child(args):
    return subprocess.Popen(["timeout", "-k", "5", str(CHILD_TIMEOUT_S),
                             sys.executable, os.path.abspath(__file__)] + args)


def mode_pair(transport, budget, min_n, *sizes):
    if transport == "tcp+curve" and no_curve():
        return
    ctx = zmq.Context()
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    if transport == "tcp+curve":
        curve_client(a, curve_server(b))
    a.connect(bind_any(b, transport, "bench-pair"))
    for sz in map(int, sizes):
        buf = b"\x07" * sz
        a.send(buf); b.recv()  # warm-up
        last = [None]

        def run(k):
            r = None
            for _ in range(k):
                a.send(buf)
                r = b.recv()
            last[0] = r
        n, t = timed(run, float(budget), int(min_n))
        assert last[0] == buf, "received frame differs"
        print(f"RESULT size={sz} n={n} us={t / n * 1e6:.6f}", flush=True)
        last[0] = None
    a.close(); b.close(); ctx.term()


def mode_pyobj(budget):
    ctx = zmq.Context()
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    a.connect(bind_any(b, "inproc", "bench-pyobj"))
    x = random.random()
    a.send_pyobj(x); b.recv_pyobj()
    last = [None]

    def run(k):
        r = None
        for _ in range(k):
            a.send_pyobj(x)
            r = b.recv_pyobj()
        last[0] = r
    n, t = timed(run, float(budget))
    assert last[0] == x
    print(f"RESULT n={n} us={t / n * 1e6:.6f}")


def mode_reqrep_server(ep, count, server_public=None):
    ctx = zmq.Context()
    s = ctx.socket(zmq.REP)
    if server_public is not None:
        curve_client(s, server_public)  # the parent's public key
    s.connect(ep)
    for _ in range(int(count)):
        s.send(s.recv())
    s.close(linger=-1)
    ctx.term()  # the last reply leaves before we exit


def mode_reqrep(n, warm, transport="tcp"):
    n, warm = int(n), int(warm)
    curve = transport == "tcp+curve"
    if curve and no_curve():
        return
    ctx = zmq.Context()
    s = ctx.socket(zmq.REQ)
    server_public = curve_server(s) if curve else None  # the binding side is the server
    ep = bind_any(s, "tcp", "")
    p = child(["reqrep-server", ep, str(1 + warm + n)] + ([server_public] if curve else []))
    payload = b"\x07"
    for _ in range(1 + warm):  # the first round trip waits for the server
        s.send(payload); s.recv()
    t0 = now()
    for _ in range(n):
        s.send(payload)
        r = s.recv()
    t = now() - t0
    assert r == payload
    print(f"RESULT n={n} us={t / n * 1e6:.4f}")
    s.close(); ctx.term()
    sys.exit(p.wait(timeout=CHILD_TIMEOUT_S))


def mode_push_client(ep, n, sz, hwm):
    ctx = zmq.Context()
    s = ctx.socket(zmq.PUSH)
    s.setsockopt(zmq.SNDHWM, int(hwm))
    s.connect(ep)
    buf = b"\x07" * int(sz)
    for _ in range(int(n)):
        s.send(buf)
    s.close(linger=-1)
    ctx.term()  # every message delivered before exit


def mode_pushpull(n, sz, hwm):
    n, szi = int(n), int(sz)
    ctx = zmq.Context()
    s = ctx.socket(zmq.PULL)
    s.setsockopt(zmq.RCVHWM, int(hwm))
    ep = bind_any(s, "tcp", "")
    p = child(["push-client", ep, str(n), sz, hwm])
    assert len(s.recv()) == szi
    t0 = now()
    for _ in range(n - 1):
        r = s.recv()
    t = now() - t0
    assert len(r) == szi
    print(f"RESULT n={n} msgs_per_s={(n - 1) / t:.1f}")
    s.close(); ctx.term()
    sys.exit(p.wait(timeout=CHILD_TIMEOUT_S))


def mode_poll(budget, nsock):
    ctx = zmq.Context()
    poller = zmq.Poller()
    socks = []
    for i in range(int(nsock)):
        s = ctx.socket(zmq.PULL)
        s.bind(f"inproc://bench-poll-{i}")
        poller.register(s, zmq.POLLIN)
        socks.append(s)
    assert poller.poll(0) == []

    def run(k):
        for _ in range(k):
            poller.poll(0)
    n, t = timed(run, float(budget))
    print(f"RESULT n={n} us={t / n * 1e6:.6f}")
    for s in socks:
        s.close()
    ctx.term()


MODES = {"pair": mode_pair, "pyobj": mode_pyobj, "reqrep": mode_reqrep,
         "reqrep-server": mode_reqrep_server, "pushpull": mode_pushpull,
         "push-client": mode_push_client, "poll": mode_poll}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit("usage: see the comment at the top of zmqbench.py")
    MODES[sys.argv[1]](*sys.argv[2:])
