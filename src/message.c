/* message.c: frames. Send and receive of single frames, strings, numbers,
 * multipart messages and reusable message objects; large raw vectors lent
 * to libzmq without a copy; reading a received frame into R so that the
 * frame is closed whatever happens. Blocking calls wait in slices (wait.c),
 * interruptibly. */
#include "rzmq.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
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
 * first frame is checked: the rest come from the same connection. */
int rzmq_msg_recv(rzmq_sock *s, zmq_msg_t *msg, int flags) {
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
                 : rzmq_msg_recv(s, msg, flags);
}

/* Move one frame (send or receive), honouring dont.wait (ZMQ_DONTWAIT in
 * flags) and the socket's timeout. `interruptible` is 0 for the later frames
 * of a multipart message, which no interrupt may split. Returns 0 or an
 * errno value; the caller still owns msg. */
static int frame_op(rzmq_sock *s, zmq_msg_t *msg, int flags, int sending,
                    int interruptible) {
  int timeout = sending ? s->sndtimeo : s->rcvtimeo, err;
  int *applied = sending ? &s->applied_sndtimeo : &s->applied_rcvtimeo;
  double deadline;
  if (msg_move(s, msg, flags | ZMQ_DONTWAIT, sending) >= 0) return 0;
  err = zmq_errno();
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

/* Send an initialised message; it is consumed either way. */
static int send_frame(rzmq_sock *s, zmq_msg_t *msg, int more,
                      int interruptible) {
  int err = frame_op(s, msg, more ? ZMQ_SNDMORE : 0, 1, interruptible);
  if (err != 0) zmq_msg_close(msg);
  return err;
}

/* Receive one frame into `msg` (initialised here; left initialised only on
 * success). */
static int recv_msg(rzmq_sock *s, zmq_msg_t *msg, int dontwait) {
  int err;
  zmq_msg_init(msg);
  err = frame_op(s, msg, dontwait ? ZMQ_DONTWAIT : 0, 0, 1);
  if (err != 0) zmq_msg_close(msg);
  return err;
}

int rzmq_recv_frame(rzmq_sock *s, zmq_msg_t *msg, int dontwait) {
  return recv_msg(s, msg, dontwait);
}

int rzmq_send_msg(rzmq_sock *s, zmq_msg_t *msg, int more, int interruptible) {
  return send_frame(s, msg, more, interruptible);
}

static void msg_from_bytes(zmq_msg_t *msg, const void *p, size_t n) {
  if (zmq_msg_init_size(msg, n) != 0)
    Rf_error("cannot allocate a message of %.0f bytes", (double)n);
  if (n > 0) memcpy(zmq_msg_data(msg), p, n);
}

/* ---- large raw vectors sent without copying --------------------------------
 * The message points into the R vector, which is kept alive in a slot of
 * `lent_vectors` until libzmq lets go. libzmq may let go on its I/O thread, so the free
 * callback only queues a note; the main thread releases the vector on its
 * next call (rzmq_reclaim). */
#define LEND_MIN 65536

typedef struct lent {
  int slot;
  struct lent *next;
} lent;

static SEXP lent_vectors = NULL; /* VECSXP, preserved: slot i, a lent vector */
/* slot i's bytes as lent (NULL: slot free), to find a lent vector by the
 * bytes a received message points at without asking R anything */
static const void **slot_bytes = NULL;
static size_t *slot_len = NULL;
static int *free_slots = NULL;
static int n_free = 0, n_slots = 0;
static int outstanding = 0;  /* lent and not yet reclaimed (main thread) */
static lent *returned = NULL; /* queued by libzmq's threads */

static void lent_done(void *data, void *hint) {
  lent *l = hint;
  (void)data;
  pthread_mutex_lock(&rzmq_io_mu);
  l->next = returned;
  returned = l;
  pthread_mutex_unlock(&rzmq_io_mu);
}

void rzmq_reclaim(void) {
  lent *l;
  if (outstanding == 0) return;
  pthread_mutex_lock(&rzmq_io_mu);
  l = returned;
  returned = NULL;
  pthread_mutex_unlock(&rzmq_io_mu);
  while (l != NULL) {
    lent *next = l->next;
    SET_VECTOR_ELT(lent_vectors, l->slot, R_NilValue);
    slot_bytes[l->slot] = NULL;
    free_slots[n_free++] = l->slot;
    outstanding--;
    free(l);
    l = next;
  }
}

/* Finding the vector this process lent whose bytes, all of them, a received
 * message is (an inproc message sent and received in this same process).
 * The slots of the last few lends are looked at first; then, unless very
 * many vectors are lent at once, every slot. It cannot find a wrong vector:
 * while the message is open its vector stays in its slot, and no other live
 * vector has those bytes. */
#define RECENT 16
#define SCAN_MAX 16384 /* slots (a few us); past this, only the last lends */
static int recent_slot[RECENT];
static int recent_next = 0;

static void lent_remember(int slot) {
  recent_slot[recent_next] = slot;
  recent_next = (recent_next + 1) % RECENT;
}

static int slot_is(int slot, const void *p, size_t n) {
  return slot >= 0 && slot < n_slots && slot_bytes[slot] == p && slot_len[slot] == n;
}

/* The slot, or -1. */
static int lent_find(const void *p, size_t n) {
  int i;
  if (outstanding == 0 || p == NULL) return -1;
  for (i = 0; i < RECENT; i++)
    if (slot_is(recent_slot[i], p, n)) return recent_slot[i];
  if (n_slots > SCAN_MAX) return -1;
  for (i = 0; i < n_slots; i++)
    if (slot_is(i, p, n)) return i;
  return -1;
}

/* The lent vector itself, if it can be the received frame (what `y <- x`
 * would give): a plain raw vector, no attributes, not ALTREP. *lent says
 * whether the bytes are a lent vector's at all. NULL if it cannot. */
static SEXP lent_vector(const void *p, size_t n, int *lent) {
  int slot = lent_find(p, n);
  SEXP v;
  *lent = slot >= 0;
  if (slot < 0) return NULL;
  v = VECTOR_ELT(lent_vectors, slot);
  if (TYPEOF(v) == RAWSXP && !ALTREP(v) && ATTRIB(v) == R_NilValue &&
      (size_t)XLENGTH(v) == n)
    return v;
  return NULL;
}

SEXP rzmq_lent_count(void) {
  rzmq_reclaim();
  return Rf_ScalarInteger(outstanding);
}

int rzmq_lent_unload(void) {
  rzmq_reclaim();
  if (outstanding > 0) return 0; /* libzmq still reads them */
  if (lent_vectors != NULL) R_ReleaseObject(lent_vectors);
  lent_vectors = NULL;
  free(free_slots);
  free(slot_bytes);
  free(slot_len);
  free_slots = NULL;
  slot_bytes = NULL;
  slot_len = NULL;
  n_free = n_slots = 0;
  return 1;
}


static void lent_grow(void) {
  int cap = n_slots == 0 ? 64 : n_slots * 2, i;
  int *slots = realloc(free_slots, (size_t)cap * sizeof *slots);
  const void **bytes;
  size_t *lens;
  SEXP bigger;
  if (slots == NULL) Rf_error("cannot allocate memory to send `data`");
  free_slots = slots;
  bytes = realloc(slot_bytes, (size_t)cap * sizeof *bytes);
  if (bytes == NULL) Rf_error("cannot allocate memory to send `data`");
  slot_bytes = bytes;
  lens = realloc(slot_len, (size_t)cap * sizeof *lens);
  if (lens == NULL) Rf_error("cannot allocate memory to send `data`");
  slot_len = lens;
  for (i = n_slots; i < cap; i++) slot_bytes[i] = NULL;
  bigger = PROTECT(Rf_allocVector(VECSXP, cap));
  for (i = 0; i < n_slots; i++)
    SET_VECTOR_ELT(bigger, i, VECTOR_ELT(lent_vectors, i));
  R_PreserveObject(bigger);
  if (lent_vectors != NULL) R_ReleaseObject(lent_vectors);
  lent_vectors = bigger;
  UNPROTECT(1);
  for (i = cap - 1; i >= n_slots; i--) free_slots[n_free++] = i;
  n_slots = cap;
}

/* A message for the bytes of a raw vector: large ones are lent, not copied. */
void rzmq_msg_from_raw(zmq_msg_t *msg, SEXP data) {
  size_t n = (size_t)XLENGTH(data);
  lent *l;
  /* a frame received without a copy goes out again sharing its message */
  if (n >= LEND_MIN && rzmq_frame_share(data, msg)) return;
  if (n < LEND_MIN) {
    msg_from_bytes(msg, RAW(data), n);
    return;
  }
  rzmq_reclaim();
  if (n_free == 0) lent_grow();
  l = malloc(sizeof *l);
  if (l == NULL) Rf_error("cannot allocate memory to send `data`");
  l->slot = free_slots[--n_free];
  if (zmq_msg_init_data(msg, RAW(data), n, lent_done, l) != 0) {
    free_slots[n_free++] = l->slot;
    free(l);
    Rf_error("cannot create a message of %.0f bytes", (double)n);
  }
  /* changing the vector in R now makes a copy, never the message */
  MARK_NOT_MUTABLE(data);
  slot_bytes[l->slot] = RAW(data);
  slot_len[l->slot] = n;
  lent_remember(l->slot);
  SET_VECTOR_ELT(lent_vectors, l->slot, data);
  outstanding++;
}

static SEXP sent(int err) {
  return err == 0 ? Rf_ScalarLogical(TRUE) : rzmq_fail_false(err);
}

/* The bytes of a string element: UTF-8, unless it is marked as bytes. */
static const char *string_bytes(SEXP ch) {
  return Rf_getCharCE(ch) == CE_BYTES ? CHAR(ch) : Rf_translateCharUTF8(ch);
}

/* ---- send ------------------------------------------------------------------- */

SEXP rzmq_send(SEXP sock, SEXP data, SEXP more, SEXP serialize, SEXP xdr) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  int m = rzmq_arg_flag(more, "send.more");
  zmq_msg_t msg;
  if (rzmq_arg_flag(serialize, "serialize")) {
    rzmq_serialize_to_msg(data, rzmq_arg_flag(xdr, "xdr"), &msg);
  } else {
    if (TYPEOF(data) != RAWSXP)
      Rf_error("`data` must be a raw vector when serialize = FALSE (got %s)",
               Rf_type2char(TYPEOF(data)));
    rzmq_msg_from_raw(&msg, data);
  }
  return sent(send_frame(s, &msg, m, 1));
}

SEXP rzmq_send_null(SEXP sock, SEXP more) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  int m = rzmq_arg_flag(more, "send.more");
  zmq_msg_t msg;
  zmq_msg_init(&msg);
  return sent(send_frame(s, &msg, m, 1));
}

SEXP rzmq_send_string(SEXP sock, SEXP data, SEXP more) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  int m = rzmq_arg_flag(more, "send.more");
  const char *p;
  zmq_msg_t msg;
  if (TYPEOF(data) != STRSXP || XLENGTH(data) < 1)
    Rf_error("`data` must be a character vector");
  if (STRING_ELT(data, 0) == NA_STRING) Rf_error("`data` must not be NA");
  p = string_bytes(STRING_ELT(data, 0));
  msg_from_bytes(&msg, p, strlen(p));
  return sent(send_frame(s, &msg, m, 1));
}

/* One part of send.multipart: a raw vector, or a string sent as its bytes. */
static void part_bytes(SEXP part, R_xlen_t i, const void **p, size_t *n) {
  if (TYPEOF(part) == RAWSXP) {
    *p = RAW(part);
    *n = (size_t)XLENGTH(part);
  } else if (TYPEOF(part) == STRSXP && XLENGTH(part) == 1 &&
             STRING_ELT(part, 0) != NA_STRING) {
    *p = string_bytes(STRING_ELT(part, 0));
    *n = strlen(*p);
  } else {
    Rf_error("`parts[[%d]]` must be a raw vector (or a single string)",
             (int)i + 1);
  }
}

SEXP rzmq_send_multipart(SEXP sock, SEXP parts) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  R_xlen_t n, i;
  const void *p;
  size_t len;
  zmq_msg_t msg;
  if (TYPEOF(parts) != VECSXP)
    Rf_error("`parts` must be a list of raw vectors");
  n = XLENGTH(parts);
  if (n == 0) Rf_error("`parts` must hold at least one part");
  /* check every part before sending any, so misuse never leaves half a
   * message on the socket */
  for (i = 0; i < n; i++)
    if (TYPEOF(VECTOR_ELT(parts, i)) != RAWSXP)
      part_bytes(VECTOR_ELT(parts, i), i, &p, &len);
  for (i = 0; i < n; i++) {
    int err, more = i < n - 1;
    SEXP part = VECTOR_ELT(parts, i);
    if (TYPEOF(part) == RAWSXP) {
      rzmq_msg_from_raw(&msg, part);
    } else {
      part_bytes(part, i, &p, &len);
      msg_from_bytes(&msg, p, len);
    }
    /* only the first part may be interrupted: once it is queued libzmq
     * takes the rest without waiting, and nothing may split the message */
    err = send_frame(s, &msg, more, i == 0);
    if (err != 0) return rzmq_fail_false(err);
  }
  return Rf_ScalarLogical(TRUE);
}

/* ---- reading a received frame ------------------------------------------------
 * Build an R value from a frame's bytes with `fn`, closing the frame whatever
 * happens: small frames are copied out and closed first, large ones are read
 * in place under unwind protection. */
#define STACK_COPY 2048

typedef SEXP (*frame_reader)(const unsigned char *p, size_t n, void *data);

typedef struct {
  zmq_msg_t *msg;
  frame_reader fn;
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

static SEXP read_and_close(zmq_msg_t *msg, frame_reader fn, void *data) {
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

/* ---- receive -------------------------------------------------------------- */

static SEXP msg_to_raw(const unsigned char *p, size_t n, void *unused) {
  SEXP out;
  (void)unused;
  out = Rf_allocVector(RAWSXP, (R_xlen_t)n);
  if (n > 0) memcpy(RAW(out), p, n);
  return out;
}

/* A received frame as a raw vector; the message is consumed either way.
 * Not copied where that pays: a vector this process lent is handed over
 * itself; bytes that exist anyway (a message shared with other receivers or
 * a message object) and very large frames are read in place (zerocopy.c). A
 * fresh buffer of moderate size is copied, so that libzmq reuses it at once:
 * R would free it only at its next garbage collection, and memory given back
 * late comes back as page faults. */
SEXP rzmq_frame_to_raw(zmq_msg_t *msg) {
  size_t n = zmq_msg_size(msg);
  if (n >= RZMQ_ZEROCOPY_MIN) {
    int lent;
    SEXP v = lent_vector(zmq_msg_data(msg), n, &lent);
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
  return read_and_close(msg, msg_to_raw, NULL);
}

SEXP rzmq_frame_to_value(zmq_msg_t *msg) {
  return read_and_close(msg, rzmq_unserialize_bytes, NULL);
}

SEXP rzmq_receive(SEXP sock, SEXP unserialize, SEXP dontwait) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  int u = rzmq_arg_flag(unserialize, "unserialize");
  int err;
  zmq_msg_t msg;
  rzmq_reclaim();
  err = recv_msg(s, &msg, rzmq_arg_flag(dontwait, "dont.wait"));
  if (err != 0) return rzmq_fail_null(err);
  return u ? rzmq_frame_to_value(&msg) : rzmq_frame_to_raw(&msg);
}

SEXP rzmq_receive_null(SEXP sock) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  zmq_msg_t msg;
  size_t n;
  int err = recv_msg(s, &msg, 0);
  if (err != 0) return rzmq_fail_null(err);
  n = zmq_msg_size(&msg);
  zmq_msg_close(&msg);
  return Rf_ScalarLogical(n == 0);
}

/* Is p[0..n) valid UTF-8? (Invalid text is returned marked as bytes.) */
int rzmq_valid_utf8(const unsigned char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    size_t k, need;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) need = 2;
    else if (c >= 0xF0 && c <= 0xF4) need = 3;
    else return 0;
    if (n - i - 1 < need) return 0;
    for (k = 1; k <= need; k++)
      if ((p[i + k] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[i + 1] < 0xA0) return 0;        /* overlong */
    if (c == 0xED && p[i + 1] > 0x9F) return 0;        /* surrogates */
    if (c == 0xF0 && p[i + 1] < 0x90) return 0;        /* overlong */
    if (c == 0xF4 && p[i + 1] > 0x8F) return 0;        /* > U+10FFFF */
    i += need + 1;
  }
  return 1;
}

static SEXP msg_to_string(const unsigned char *bytes, size_t n, void *unused) {
  const char *p = (const char *)bytes;
  (void)unused;
  if (n > 0 && memchr(p, '\0', n) != NULL)
    Rf_error("the received frame holds a NUL byte and is not a string; "
             "use receive.socket(unserialize = FALSE) for its bytes");
  if (n > 2147483647u) Rf_error("the received frame is too long for a string");
  return Rf_ScalarString(Rf_mkCharLenCE(
      p, (int)n,
      rzmq_valid_utf8((const unsigned char *)p, n) ? CE_UTF8 : CE_BYTES));
}

SEXP rzmq_receive_string(SEXP sock) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  zmq_msg_t msg;
  int err = recv_msg(s, &msg, 0);
  if (err != 0) return rzmq_fail_null(err);
  return read_and_close(&msg, msg_to_string, NULL);
}

/* receive.int / receive.double: exactly `size` native-endian bytes. */
static SEXP receive_number(SEXP sock, size_t size, SEXPTYPE type) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  zmq_msg_t msg;
  char text[128];
  size_t n;
  SEXP out;
  int err = recv_msg(s, &msg, 0);
  if (err != 0) return rzmq_fail_null(err);
  n = zmq_msg_size(&msg);
  if (n != size) {
    zmq_msg_close(&msg);
    snprintf(text, sizeof text,
             "expected a frame of %d bytes for %s, received %.0f bytes",
             (int)size, type == INTSXP ? "an integer" : "a double", (double)n);
    rzmq_report_text(EMSGSIZE, text);
    return R_NilValue;
  }
  if (type == INTSXP) {
    int v;
    memcpy(&v, zmq_msg_data(&msg), sizeof v);
    zmq_msg_close(&msg);
    out = Rf_ScalarInteger(v);
  } else {
    double v;
    memcpy(&v, zmq_msg_data(&msg), sizeof v);
    zmq_msg_close(&msg);
    out = Rf_ScalarReal(v);
  }
  return out;
}

SEXP rzmq_receive_int(SEXP sock) { return receive_number(sock, 4, INTSXP); }
SEXP rzmq_receive_double(SEXP sock) { return receive_number(sock, 8, REALSXP); }

typedef struct {
  R_xlen_t n;
  zmq_msg_t *msg;
} list_job;

static SEXP list_body(void *d) {
  return Rf_allocVector(VECSXP, ((list_job *)d)->n);
}

static void list_cleanup(void *d, Rboolean jump) {
  if (jump) zmq_msg_close(((list_job *)d)->msg);
}

SEXP rzmq_alloc_list_or_close(R_xlen_t n, zmq_msg_t *msg) {
  list_job job;
  job.n = n;
  job.msg = msg;
  return rzmq_protect(list_body, &job, list_cleanup, &job, 1);
}

/* The frames of a message whose first frame is `first` (consumed), as a
 * list of raw vectors. The rest of a multipart message is already here: no
 * wait, and no interrupt can leave it half read. On a libzmq failure sets
 * *err and returns NULL (the frames read so far are dropped). */
SEXP rzmq_read_multipart(rzmq_sock *s, zmq_msg_t *first, int *err) {
  zmq_msg_t msg;
  R_xlen_t n = 0, cap = 4;
  int more;
  PROTECT_INDEX ipx;
  SEXP out;
  *err = 0;
  /* the first frame is still ours while R allocates: close it if R cannot */
  out = rzmq_alloc_list_or_close(cap, first);
  PROTECT_WITH_INDEX(out, &ipx);
  zmq_msg_init(&msg);
  zmq_msg_move(&msg, first);
  for (;;) {
    SEXP part;
    more = zmq_msg_more(&msg);
    part = rzmq_frame_to_raw(&msg);
    if (n == cap) {
      SEXP bigger;
      R_xlen_t i;
      PROTECT(part);
      bigger = Rf_allocVector(VECSXP, cap * 2);
      for (i = 0; i < n; i++) SET_VECTOR_ELT(bigger, i, VECTOR_ELT(out, i));
      REPROTECT(out = bigger, ipx);
      cap *= 2;
      UNPROTECT(1);
    }
    SET_VECTOR_ELT(out, n++, part);
    if (!more) break;
    zmq_msg_init(&msg);
    if (rzmq_msg_recv(s, &msg, 0) < 0) {
      *err = zmq_errno();
      zmq_msg_close(&msg);
      UNPROTECT(1);
      return NULL;
    }
  }
  out = Rf_xlengthgets(out, n);
  UNPROTECT(1);
  return out;
}

SEXP rzmq_receive_multipart(SEXP sock) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  zmq_msg_t msg;
  int err;
  SEXP out;
  rzmq_reclaim();
  err = recv_msg(s, &msg, 0);
  if (err != 0) return rzmq_fail_null(err);
  out = rzmq_read_multipart(s, &msg, &err);
  return out == NULL ? rzmq_fail_null(err) : out;
}

/* ---- message objects -------------------------------------------------------- */

static void msgobj_finalize(SEXP x) {
  rzmq_msgobj *m = rzmq_handle_finalizing(x);
  if (m == NULL) return;
  if (!m->head.closed) zmq_msg_close(&m->msg);
  free(m);
}

SEXP rzmq_message_new(SEXP data, SEXP serialize, SEXP xdr) {
  int ser = rzmq_arg_flag(serialize, "serialize");
  int x = rzmq_arg_flag(xdr, "xdr");
  rzmq_msgobj *m;
  SEXP ptr;
  if (!ser && TYPEOF(data) != RAWSXP)
    Rf_error("`data` must be a raw vector when serialize = FALSE (got %s)",
             Rf_type2char(TYPEOF(data)));
  m = calloc(1, sizeof *m);
  if (m == NULL) Rf_error("cannot allocate a zmq message");
  m->head.closed = 1; /* until the message exists */
  ptr = PROTECT(rzmq_handle_new(m, RZMQ_MESSAGE, R_NilValue, msgobj_finalize,
                                FALSE));
  if (ser) rzmq_serialize_to_msg(data, x, &m->msg);
  else msg_from_bytes(&m->msg, RAW(data), (size_t)XLENGTH(data));
  m->head.closed = 0;
  UNPROTECT(1);
  return ptr;
}

SEXP rzmq_message_send(SEXP sock, SEXP msgobj, SEXP more) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  rzmq_msgobj *m = rzmq_handle_get(msgobj, RZMQ_MESSAGE, "msg");
  int mo = rzmq_arg_flag(more, "send.more");
  zmq_msg_t copy;
  zmq_msg_init(&copy);
  /* shares the buffer (reference counted) rather than copying the bytes */
  if (zmq_msg_copy(&copy, &m->msg) != 0) {
    int err = zmq_errno();
    zmq_msg_close(&copy);
    return rzmq_fail_false(err);
  }
  return sent(send_frame(s, &copy, mo, 1));
}

SEXP rzmq_message_size(SEXP msgobj) {
  rzmq_msgobj *m = rzmq_handle_get(msgobj, RZMQ_MESSAGE, "message");
  return Rf_ScalarReal((double)zmq_msg_size(&m->msg));
}
