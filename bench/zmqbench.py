# zmqbench.py: the pyzmq column of bench/run.R (run with /usr/bin/python3,
# Debian's python3-zmq). Same modes and output ("RESULT key=value ...") as
# zmqbench.c; see the comment at the top of that file.
#
#   python3 zmqbench.py pair TRANSPORT BUDGET_S MIN_N SIZE [SIZE ...]
#   python3 zmqbench.py pyobj BUDGET_S          (send_pyobj/recv_pyobj of a float)
#   python3 zmqbench.py reqrep N WARM [TRANSPORT]  (starts a REP server: reqrep-server)
#   python3 zmqbench.py pushpull N SIZE HWM     (starts a PUSH sender: push-client)
#   python3 zmqbench.py poll BUDGET_S NSOCK
#   python3 zmqbench.py remote NW N_SMALL N_MB WARM  (starts NW workers: remote-worker)
# TRANSPORT "tcp+curve": tcp with CURVE, as in zmqbench.c.
import array
import os
import pickle
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


# ---- workload 8: remote execution ------------------------------------------
# A task is {"fun": f, "args": (x,)}, pickled (send_pyobj); pickle sends the
# two module-level functions by name, the worker returns f(*args).
def task_small_fun(x):
    return x + 1


def task_mb_fun(x):
    return len(x)


MB_DOUBLES = 131072  # 1 MB argument: array('d') pickles as its bytes


def mode_remote_worker(ep, kind):
    """kind "rep": answers a REQ master; "req": asks a ROUTER master for work."""
    ctx = zmq.Context()
    s = ctx.socket(zmq.REP if kind == "rep" else zmq.REQ)
    s.connect(ep)
    if kind == "req":
        s.send_pyobj(None)  # ready
    while True:
        task = s.recv_pyobj()
        if task is None:
            break
        s.send_pyobj(task["fun"](*task["args"]))
    s.close(linger=-1)
    ctx.term()


def remote_run(s, nw, idle, n, make_task, check):
    """n tasks: REQ one at a time (nw == 1) or ROUTER keeping every worker busy."""
    if nw == 1:
        lat = [0.0] * n
        t_all = now()
        for i in range(n):
            t0 = now()
            s.send_pyobj(make_task(i + 1))
            r = s.recv_pyobj()
            lat[i] = now() - t0
            check(i + 1, r)
        return now() - t_all, lat
    t_all = now()
    sent = done = 0
    while sent < n and idle:
        sent += 1
        s.send_multipart([idle.pop(0), b"", pickle.dumps(make_task(sent), -1)])
    while done < n:
        wid, _, body = s.recv_multipart()
        done += 1
        r = pickle.loads(body)
        if sent < n:
            sent += 1
            s.send_multipart([wid, b"", pickle.dumps(make_task(sent), -1)])
        else:
            idle.append(wid)
        check(None, r)
    return now() - t_all, None


def mode_remote(nw, n_small, n_mb, warm):
    nw, warm = int(nw), int(warm)
    counts = {"small": int(n_small), "mb": int(n_mb)}
    x = array.array("d", (random.random() for _ in range(MB_DOUBLES)))

    def check_small(i, r):
        assert isinstance(r, float) and (i is None or r == i + 1), r

    def check_mb(i, r):
        assert r == MB_DOUBLES, r
    kinds = {"small": (lambda i: {"fun": task_small_fun, "args": (float(i),)}, check_small),
             "mb": (lambda i: {"fun": task_mb_fun, "args": (x,)}, check_mb)}
    ctx = zmq.Context()
    s = ctx.socket(zmq.REQ if nw == 1 else zmq.ROUTER)
    ep = bind_any(s, "tcp", "")
    procs = [child(["remote-worker", ep, "rep" if nw == 1 else "req"]) for _ in range(nw)]
    idle = []
    if nw > 1:
        for _ in range(nw):
            wid, _, body = s.recv_multipart()
            assert pickle.loads(body) is None
            idle.append(wid)
    for kind in ("small", "mb"):
        make_task, check = kinds[kind]
        remote_run(s, nw, idle, max(1, warm // 4 if kind == "mb" else warm), make_task, check)
        n = counts[kind]
        t, lat = remote_run(s, nw, idle, n, make_task, check)
        lat_us = "NA" if lat is None else f"{sorted(lat)[n // 2] * 1e6:.3f}"
        print(f"RESULT kind={kind} workers={nw} n={n} tasks_per_s={n / t:.2f} lat_us={lat_us}",
              flush=True)
    if nw == 1:
        s.send_pyobj(None)
    else:
        for wid in idle:
            s.send_multipart([wid, b"", pickle.dumps(None, -1)])
    s.close(linger=-1)
    ctx.term()
    sys.exit(max(p.wait(timeout=CHILD_TIMEOUT_S) for p in procs))


MODES = {"pair": mode_pair, "pyobj": mode_pyobj, "reqrep": mode_reqrep,
         "reqrep-server": mode_reqrep_server, "pushpull": mode_pushpull,
         "push-client": mode_push_client, "poll": mode_poll,
         "remote": mode_remote, "remote-worker": mode_remote_worker}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit("usage: see the comment at the top of zmqbench.py")
    MODES[sys.argv[1]](*sys.argv[2:])
