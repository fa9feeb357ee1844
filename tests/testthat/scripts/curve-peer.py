"""pyzmq CURVE peer for the CURVE tests in test-interop.R.

Usage:
  python3 curve-peer.py client SERVER_ENDPOINT SERVER_CERT CLIENT_CERT
  python3 curve-peer.py server CONTROL_ENDPOINT CERT_DIR SERVER_DIR
  python3 curve-peer.py create DIR NAME

client: a REQ socket with the keys in the certificates R wrote (CLIENT_CERT
  and CLIENT_CERT + "_secret"; the server's public key from SERVER_CERT),
  read with zmq.auth.load_certificate(), talks to the R REP server; then a
  second REQ socket with a fresh key pair, which R's authenticator must
  refuse, tries too. Prints the refused key on stdout.
server: a REP socket, CURVE server with keys from create_certificates() in
  SERVER_DIR, behind a ThreadAuthenticator that allows the keys of the
  certificates in CERT_DIR. Talks to R over a PAIR socket connected to
  CONTROL_ENDPOINT: sends ["ready", endpoint, server public key], echoes
  every request, sends "refused" at the first handshake refused for its
  key, and on "bye" replies with the number of requests it echoed.
create: create_certificates(DIR, NAME, metadata, with a metadata entry
  public-key-previous); prints the public key, the secret key and the two
  file names, one per line.

Every wait has a deadline; any failure exits non-zero with the reason on
stderr.
"""
import sys
import time

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils.monitor import recv_monitor_message

TEXT = "h\u00e9llo \u2713"  # "héllo ✓", as in test-interop.R
ALL_BYTES = bytes(range(256))
TIMEOUT_MS = 10000


def fail(why):
    raise RuntimeError(why)


def expect(what, got, want):
    if got != want:
        fail("%s: got %r, want %r" % (what, got, want))


def timeouts(sock):
    sock.setsockopt(zmq.RCVTIMEO, TIMEOUT_MS)
    sock.setsockopt(zmq.SNDTIMEO, TIMEOUT_MS)
    sock.setsockopt(zmq.LINGER, 1000)


def wait_event(monitor, event, what):
    """Wait for `event` on a monitor socket, failing after TIMEOUT_MS."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not monitor.poll(int(left * 1000)):
            fail("no %s within %d ms" % (what, TIMEOUT_MS))
        if recv_monitor_message(monitor)["event"] == event:
            return


def client(ctx, endpoint, server_cert, client_cert):
    server_public, server_secret = zmq.auth.load_certificate(server_cert)
    expect("secret key in the server's public certificate", server_secret, None)
    public, secret = zmq.auth.load_certificate(client_cert + "_secret")
    public_only, none = zmq.auth.load_certificate(client_cert)
    expect("public certificate's key", public_only, public)
    expect("secret key in the public certificate", none, None)
    expect("public key of the secret key", zmq.curve_public(secret), public)

    sock = ctx.socket(zmq.REQ)
    timeouts(sock)
    sock.curve_serverkey = server_public
    sock.curve_publickey = public
    sock.curve_secretkey = secret
    sock.connect(endpoint)

    # the keys as Python read them, for R to compare with its own
    sock.send_multipart([b"keys", public, server_public])
    expect("reply to keys", sock.recv(), b"welcome")
    sock.send(ALL_BYTES)
    expect("reply to 0x00..0xff", sock.recv(), ALL_BYTES[::-1])
    sock.send_string(TEXT)
    expect("reply to text", sock.recv_string(), TEXT + " back")
    # R replies with a serialized R object; send its bytes back unchanged
    sock.send(b"object please")
    obj = sock.recv()
    expect("serialization header", obj[:2] in (b"B\n", b"X\n"), True)
    sock.send(obj)
    expect("reply to object", sock.recv(), b"same object")

    # a client whose key R does not know: its handshake is refused, and
    # no request of it reaches R, so no reply ever comes
    stranger_public, stranger_secret = zmq.curve_keypair()
    stranger = ctx.socket(zmq.REQ)
    timeouts(stranger)
    stranger.setsockopt(zmq.LINGER, 0)
    stranger.curve_serverkey = server_public
    stranger.curve_publickey = stranger_public
    stranger.curve_secretkey = stranger_secret
    monitor = stranger.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    stranger.connect(endpoint)
    try:
        # a REQ socket queues this until the handshake fails; if it failed
        # already, libzmq has dropped the connection and there is nowhere
        # to queue it
        stranger.send(b"let me in", zmq.NOBLOCK)
    except zmq.Again:
        pass
    wait_event(monitor, zmq.EVENT_HANDSHAKE_FAILED_AUTH,
               "refused handshake for the unknown key")
    if stranger.poll(1000):
        fail("the unknown key got a reply: %r" % stranger.recv())
    stranger.disable_monitor()
    monitor.close()
    stranger.close()

    sock.send(b"bye")
    expect("reply to bye", sock.recv(), b"bye")
    sock.close()
    print(stranger_public.decode("ascii"), flush=True)


def server(ctx, control_endpoint, cert_dir, server_dir):
    public_file, secret_file = zmq.auth.create_certificates(server_dir, "server")
    server_public, server_secret = zmq.auth.load_certificate(secret_file)

    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain="*", location=cert_dir)

    control = ctx.socket(zmq.PAIR)
    timeouts(control)
    control.connect(control_endpoint)

    rep = ctx.socket(zmq.REP)
    timeouts(rep)
    rep.curve_server = True
    rep.curve_publickey = server_public
    rep.curve_secretkey = server_secret
    monitor = rep.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    rep.bind("tcp://127.0.0.1:*")
    endpoint = rep.getsockopt(zmq.LAST_ENDPOINT)

    served = 0
    refused = False
    try:
        control.send_multipart([b"ready", endpoint, server_public])
        poller = zmq.Poller()
        for s in (rep, control, monitor):
            poller.register(s, zmq.POLLIN)
        deadline = time.monotonic() + 60
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                fail("no bye from R within 60 s")
            ready = dict(poller.poll(int(left * 1000)))
            if rep in ready:
                rep.send(b"echo:" + rep.recv())
                served += 1
            if monitor in ready:
                event = recv_monitor_message(monitor)["event"]
                if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH and not refused:
                    refused = True
                    control.send(b"refused")
            if control in ready:
                expect("control message", control.recv(), b"bye")
                control.send_string(str(served))
                break
    finally:
        rep.disable_monitor()
        monitor.close()
        rep.close()
        control.close()
        auth.stop()


def create(key_dir, name):
    # a rotated key's metadata: an entry whose name starts with public-key,
    # before the curve section, is not the key
    previous = zmq.curve_keypair()[0].decode("ascii")
    public_file, secret_file = zmq.auth.create_certificates(
        key_dir, name, metadata={"name": name, "made-by": "pyzmq",
                                 "public-key-previous": previous})
    public, secret = zmq.auth.load_certificate(secret_file)
    expect("public key of the secret key", zmq.curve_public(secret), public)
    for line in (public.decode("ascii"), secret.decode("ascii"),
                 public_file, secret_file):
        print(line)


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    ctx = zmq.Context()
    try:
        if mode == "client":
            client(ctx, *args)
        elif mode == "server":
            server(ctx, *args)
        elif mode == "create":
            create(*args)
        else:
            fail("unknown mode %r" % mode)
    finally:
        ctx.destroy(linger=1000)


if __name__ == "__main__":
    main()
