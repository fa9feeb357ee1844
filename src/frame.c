/* frame.c: one frame. The two primitives, rzmq_frame_send and
 * rzmq_frame_recv (interruptible slices; every receive drops what comes
 * from a connection the authenticator revoked); a frame made from R's bytes
 * (large raw vectors lent, lend.c) and read back into R so that it is closed
 * whatever happens (large frames read in place, zerocopy.c). */
#include "rzmq.h"
#include <errno.h>
#include <string.h>

static void msg_cleanup(void *msg) { zmq_msg_close((zmq_msg_t *)msg); }

/* ---- the two primitives ---------------------------------------------------
 * A blocking call is libzmq's own blocking send or receive, with libzmq's
 * timeout set to one slice (at most 200 ms): it wakes as soon as the frame
 * can move, and between slices we look for a user interrupt. EINTR from any
 * other signal just starts the next slice. The user's timeouts live in
 * s->rcvtimeo / s->sndtimeo; libzmq holds whatever slice we applied last. */

static int apply_timeout(rzmq_sock *s, int opt, int *applied, int ms) {
  if (*applied == ms) return 0;
  if (zmq_setsockopt(s->handle, opt, &ms, sizeof ms) != 0) return zmq_errno();
  *applied = ms;
  return 0;
}

/* zmq_msg_recv, except that a message from a connection the authenticator
 * revoked (configure.authenticator(drop = TRUE)) is dropped whole, and the
 * next one that is already queued taken in its place. Only a message's
 * first frame is checked: the rest come from the same connection. Every
 * receive of a frame for R goes through here. */
static int recv_admitted(rzmq_sock *s, zmq_msg_t *msg, int flags) {
  for (;;) {
    if (zmq_msg_recv(msg, s->handle, flags) < 0) return -1;
    if (s->rcv_mid || s->ctx->auth == NULL || rzmq_auth_admits(s, msg)) {
      s->rcv_mid = zmq_msg_more(msg);
      return 0;
    }
    /* a message's frames arrive together: the rest is here already */
    while (zmq_msg_more(msg) && zmq_msg_recv(msg, s->handle, 0) >= 0) {}
    s->rcv_mid = 0;
    flags |= ZMQ_DONTWAIT; /* its wait is over: EAGAIN starts a new slice */
  }
}

static int msg_move(rzmq_sock *s, zmq_msg_t *msg, int flags, int sending) {
  return sending ? zmq_msg_send(msg, s->handle, flags)
                 : recv_admitted(s, msg, flags);
}

/* Move one frame (send or receive), honouring dont.wait (ZMQ_DONTWAIT in
 * flags) and the socket's timeout. `interruptible` is 0 for the later frames
 * of a multipart message, which no interrupt may split. A later frame sent
 * (in one call or, with send.more, in several) never waits. Returns 0 or an
 * errno value; the caller still owns msg. */
static int frame_op(rzmq_sock *s, zmq_msg_t *msg, int flags, int sending,
                    int interruptible) {
  int timeout = sending ? s->sndtimeo : s->rcvtimeo, err;
  int *applied = sending ? &s->applied_sndtimeo : &s->applied_rcvtimeo;
  double deadline;
  if (msg_move(s, msg, flags | ZMQ_DONTWAIT, sending) >= 0) return 0;
  err = zmq_errno();
  /* libzmq checks the high-water mark on a message's first frame only: a
   * later frame it refuses means the peer went away mid-message, and no
   * wait would ever end */
  if (sending && s->snd_mid) return err;
  if (timeout == 0 || (flags & ZMQ_DONTWAIT) || err != EAGAIN) return err;
  /* about to block: an interrupt that came while we were busy is raised
   * now, not after the first slice */
  if (interruptible) {
    rzmq_check_interrupt(sending ? msg_cleanup : NULL, msg);
    if (s->handle == NULL) return ENOTSOCK;
  }
  deadline = rzmq_deadline(timeout);
  for (;;) {
    long slice = rzmq_next_slice(deadline);
    if (slice < 0) return EAGAIN;
    err = apply_timeout(s, sending ? ZMQ_SNDTIMEO : ZMQ_RCVTIMEO, applied,
                        (int)slice);
    if (err != 0) return err;
    if (msg_move(s, msg, flags, sending) >= 0) return 0;
    err = zmq_errno();
    if (err != EAGAIN && err != EINTR) return err;
    /* a frame being sent is held: closed first if the interrupt unwinds; an
     * empty receive buffer holds nothing */
    if (interruptible)
      rzmq_check_interrupt(sending ? msg_cleanup : NULL, msg);
    /* an interrupt handler may have closed the socket and resumed */
    if (s->handle == NULL) return ENOTSOCK;
  }
}

int rzmq_frame_send(rzmq_sock *s, zmq_msg_t *msg, int more,
                    int interruptible) {
  int err = frame_op(s, msg, more ? ZMQ_SNDMORE : 0, 1, interruptible);
  /* a frame refused ends its message: libzmq dropped what it took of it */
  if (s->handle != NULL) s->snd_mid = err == 0 && more;
  if (err != 0) zmq_msg_close(msg);
  return err;
}

int rzmq_frame_recv(rzmq_sock *s, zmq_msg_t *msg, int dontwait) {
  int err;
  zmq_msg_init(msg);
  err = frame_op(s, msg, dontwait ? ZMQ_DONTWAIT : 0, 0, 1);
  if (err != 0) zmq_msg_close(msg);
  return err;
}

/* ---- a frame from R's bytes ---------------------------------------------- */

void rzmq_frame_from_bytes(zmq_msg_t *msg, const void *p, size_t n) {
  if (zmq_msg_init_size(msg, n) != 0)
    rzmq_fail_stop(zmq_errno(), "cannot allocate a message of %.0f bytes",
                   (double)n);
  if (n > 0) memcpy(zmq_msg_data(msg), p, n);
}

void rzmq_frame_from_raw(zmq_msg_t *msg, SEXP data) {
  size_t n = (size_t)XLENGTH(data);
  if (n < RZMQ_LEND_MIN) {
    rzmq_frame_from_bytes(msg, RAW(data), n);
    return;
  }
  /* a frame received without a copy goes out again sharing its message */
  if (rzmq_frame_share(data, msg)) return;
  rzmq_lend(msg, data);
}

/* ---- a received frame into R ------------------------------------------------
 * Build an R value from a frame's bytes with `fn`, closing the frame whatever
 * happens: small frames are copied out and closed first, large ones are read
 * in place under unwind protection. */
#define STACK_COPY 2048

typedef struct {
  zmq_msg_t *msg;
  rzmq_frame_reader fn;
  void *data;
} read_job;

static SEXP read_body(void *d) {
  read_job *job = d;
  return job->fn(zmq_msg_data(job->msg), zmq_msg_size(job->msg), job->data);
}

static void read_cleanup(void *d, Rboolean jump) {
  (void)jump;
  zmq_msg_close(((read_job *)d)->msg);
}

SEXP rzmq_frame_read(zmq_msg_t *msg, rzmq_frame_reader fn, void *data) {
  size_t n = zmq_msg_size(msg);
  read_job job;
  if (n <= STACK_COPY) {
    /* small: release the frame first, then nothing can leak */
    unsigned char tmp[STACK_COPY];
    memcpy(tmp, zmq_msg_data(msg), n);
    zmq_msg_close(msg);
    return fn(tmp, n, data);
  }
  job.msg = msg;
  job.fn = fn;
  job.data = data;
  return rzmq_protect(read_body, &job, read_cleanup, &job, 1);
}

static SEXP bytes_to_raw(const unsigned char *p, size_t n, void *unused) {
  SEXP out;
  (void)unused;
  out = Rf_allocVector(RAWSXP, (R_xlen_t)n);
  if (n > 0) memcpy(RAW(out), p, n);
  return out;
}

/* Not copied where that pays: a vector this process lent is handed over
 * itself; bytes that exist anyway (a message shared with other receivers or
 * a message object) and very large frames are read in place (zerocopy.c). A
 * fresh buffer of moderate size is copied, so that libzmq reuses it at once:
 * R would free it only at its next garbage collection, and memory given back
 * late comes back as page faults. */
SEXP rzmq_frame_to_raw(zmq_msg_t *msg) {
  size_t n = zmq_msg_size(msg);
  if (n >= RZMQ_ZEROCOPY_MIN) {
    int lent;
    SEXP v = rzmq_lent_vector(zmq_msg_data(msg), n, &lent);
    if (v != NULL) {
      /* its slot lets go of it at the next rzmq_reclaim, by when the caller
       * holds it */
      zmq_msg_close(msg);
      return v;
    }
    if (lent || zmq_msg_get(msg, ZMQ_SHARED) == 1)
      return rzmq_frame_raw(msg, 0);
    if (n >= RZMQ_ZEROCOPY_FRESH_MIN) return rzmq_frame_raw(msg, 1);
  }
  return rzmq_frame_read(msg, bytes_to_raw, NULL);
}

SEXP rzmq_frame_to_value(zmq_msg_t *msg) {
  return rzmq_frame_read(msg, rzmq_unserialize_bytes, NULL);
}
