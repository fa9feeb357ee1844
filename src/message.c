/* message.c: what R sends and receives. Single frames (raw, serialized,
 * empty), strings, numbers, multipart messages, and message objects built
 * once and sent many times. Each frame moves through frame.c's two
 * primitives; blocking calls wait there in slices, interruptibly. */
#include "rzmq.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
    rzmq_frame_from_raw(&msg, data);
  }
  return sent(rzmq_frame_send(s, &msg, m, 1));
}

SEXP rzmq_send_null(SEXP sock, SEXP more) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  int m = rzmq_arg_flag(more, "send.more");
  zmq_msg_t msg;
  zmq_msg_init(&msg);
  return sent(rzmq_frame_send(s, &msg, m, 1));
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
  rzmq_frame_from_bytes(&msg, p, strlen(p));
  return sent(rzmq_frame_send(s, &msg, m, 1));
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
      rzmq_frame_from_raw(&msg, part);
    } else {
      part_bytes(part, i, &p, &len);
      rzmq_frame_from_bytes(&msg, p, len);
    }
    /* only the first part may be interrupted: once it is queued libzmq
     * takes the rest without waiting, and nothing may split the message */
    err = rzmq_frame_send(s, &msg, more, i == 0);
    if (err != 0) return rzmq_fail_false(err);
  }
  return Rf_ScalarLogical(TRUE);
}

/* ---- receive -------------------------------------------------------------- */

SEXP rzmq_receive(SEXP sock, SEXP unserialize, SEXP dontwait) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  int u = rzmq_arg_flag(unserialize, "unserialize");
  int err;
  zmq_msg_t msg;
  rzmq_reclaim();
  err = rzmq_frame_recv(s, &msg, rzmq_arg_flag(dontwait, "dont.wait"));
  if (err != 0) return rzmq_fail_null(err);
  return u ? rzmq_frame_to_value(&msg) : rzmq_frame_to_raw(&msg);
}

SEXP rzmq_receive_null(SEXP sock) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  zmq_msg_t msg;
  size_t n;
  int err = rzmq_frame_recv(s, &msg, 0);
  if (err != 0) return rzmq_fail_null(err);
  n = zmq_msg_size(&msg);
  zmq_msg_close(&msg);
  return Rf_ScalarLogical(n == 0);
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
  int err = rzmq_frame_recv(s, &msg, 0);
  if (err != 0) return rzmq_fail_null(err);
  return rzmq_frame_read(&msg, msg_to_string, NULL);
}

/* receive.int / receive.double: exactly `size` native-endian bytes. */
static SEXP receive_number(SEXP sock, size_t size, SEXPTYPE type) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  zmq_msg_t msg;
  char text[128];
  size_t n;
  SEXP out;
  int err = rzmq_frame_recv(s, &msg, 0);
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
    /* here already: taken without waiting, so no interrupt can come */
    *err = rzmq_frame_recv(s, &msg, 1);
    if (*err != 0) {
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
  err = rzmq_frame_recv(s, &msg, 0);
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
  if (m == NULL) rzmq_fail_stop(ENOMEM, "cannot allocate a zmq message");
  m->head.closed = 1; /* until the message exists */
  ptr = PROTECT(rzmq_handle_new(m, RZMQ_MESSAGE, R_NilValue, msgobj_finalize,
                                FALSE));
  if (ser) rzmq_serialize_to_msg(data, x, &m->msg);
  else rzmq_frame_from_bytes(&m->msg, RAW(data), (size_t)XLENGTH(data));
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
  return sent(rzmq_frame_send(s, &copy, mo, 1));
}

SEXP rzmq_message_size(SEXP msgobj) {
  rzmq_msgobj *m = rzmq_handle_get(msgobj, RZMQ_MESSAGE, "message");
  return Rf_ScalarReal((double)zmq_msg_size(&m->msg));
}
