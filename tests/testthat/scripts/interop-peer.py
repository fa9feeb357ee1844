"""pyzmq peer for test-interop.R.

Usage: python3 interop_peer.py MODE ENDPOINT

Connects a PAIR socket to ENDPOINT (bound by the R test), sends b"ready",
then runs MODE. Modes that receive from R check what arrived and reply with
one string frame: "ok", or a description of the mismatch. Every receive has
a timeout so that the peer never hangs; any failure exits non-zero with the
reason on stderr.
"""
import struct
import sys

import zmq

TEXT = "h\u00e9llo \u2713"  # "héllo ✓"
ALL_BYTES = bytes(range(256))
ZEROS = b"\x00" * 16


def mismatch(what, got, want):
    return "%s: got %r, want %r" % (what, got, want)


def check(sock, what, got, want):
    """Reply "ok" or the mismatch for one received value."""
    sock.send_string("ok" if got == want else mismatch(what, got, want))


def bytes_to_r(sock):
    sock.send(ALL_BYTES)
    sock.send(ZEROS)
    sock.send(b"")
    sock.send(b"a\x00b")


def bytes_from_r(sock):
    check(sock, "0x00..0xff", sock.recv(), ALL_BYTES)
    check(sock, "zero bytes", sock.recv(), ZEROS)
    check(sock, "empty frame", sock.recv(), b"")
    check(sock, "embedded NUL", sock.recv(), b"a\x00b")


def strings_to_r(sock):
    sock.send_string(TEXT)
    sock.send_string("plain ascii")
    sock.send_string("")
    sock.send(b"\xff\xfe")  # not UTF-8


def strings_from_r(sock):
    raw = sock.recv()
    check(sock, "UTF-8 bytes", raw, TEXT.encode("utf-8"))
    # R sends a latin1-marked "héllo": it must arrive as UTF-8
    check(sock, "recv_string", sock.recv_string(), "h\u00e9llo")
    # code points, so R can compare them with utf8ToInt()
    s = sock.recv_string()
    sock.send_string(",".join(str(ord(c)) for c in s))


MULTIPART = [b"", b"head", b"", b"\x00\x01", b""]


def multipart_to_r(sock):
    sock.send_multipart(MULTIPART)
    sock.send_multipart([b"", b""])
    sock.send(b"single")


def multipart_from_r(sock):
    check(sock, "multipart", sock.recv_multipart(), MULTIPART)
    check(sock, "two empty frames", sock.recv_multipart(), [b"", b""])
    # an R serialized object and the bytes of serialize(): the same frames
    parts = sock.recv_multipart()
    if len(parts) != 2 or parts[0] != parts[1]:
        sock.send_string(mismatch("serialized", parts, "two equal frames"))
    elif parts[0][:2] not in (b"B\n", b"X\n"):
        sock.send_string(mismatch("serialization header", parts[0][:2], b"B\n"))
    else:
        sock.send_string("ok")
    # echo it back for R to unserialize
    sock.send(parts[0])


INTS = [0, 1, -1, -123456789, 2147483647, -2147483647]
DOUBLES = [3.141592653589793, -0.0, 1e308, 5e-324, float("inf"), float("-inf")]


def numbers_to_r(sock):
    for i in INTS:
        sock.send(struct.pack("<i", i))
    for d in DOUBLES:
        sock.send(struct.pack("<d", d))
    sock.send(struct.pack("<d", float("nan")))


def numbers_from_r(sock):
    ints = [struct.unpack("<i", sock.recv())[0] for _ in INTS]
    check(sock, "ints", ints, INTS)
    raw = sock.recv()
    if len(raw) != 8 * len(DOUBLES):
        sock.send_string(mismatch("doubles length", len(raw), 8 * len(DOUBLES)))
    else:
        doubles = list(struct.unpack("<%dd" % len(DOUBLES), raw))
        # compare bit patterns: -0.0 == 0.0 in Python
        got = [struct.pack("<d", d) for d in doubles]
        want = [struct.pack("<d", d) for d in DOUBLES]
        check(sock, "doubles", got, want)


MODES = {
    "bytes-to-r": bytes_to_r,
    "bytes-from-r": bytes_from_r,
    "strings-to-r": strings_to_r,
    "strings-from-r": strings_from_r,
    "multipart-to-r": multipart_to_r,
    "multipart-from-r": multipart_from_r,
    "numbers-to-r": numbers_to_r,
    "numbers-from-r": numbers_from_r,
}


def main():
    mode, endpoint = sys.argv[1], sys.argv[2]
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PAIR)
    sock.setsockopt(zmq.RCVTIMEO, 10000)
    sock.setsockopt(zmq.SNDTIMEO, 10000)
    sock.setsockopt(zmq.LINGER, 10000)
    sock.connect(endpoint)
    try:
        sock.send(b"ready")
        MODES[mode](sock)
        # wait for R to say it has everything, so nothing is lost at exit
        bye = sock.recv()
        if bye != b"bye":
            raise RuntimeError(mismatch("last frame", bye, b"bye"))
    finally:
        sock.close()
        ctx.term()


if __name__ == "__main__":
    main()
