/* batch.c: many messages in one call. send.messages() queues the elements of
 * a list as messages of one frame each; receive.messages() waits for one
 * message and then takes what is already queued, up to n. Built on the frame
 * primitives of frame.c; the count sent so far is written to `progress`
 * as it grows, so R can say how far a batch got when an interrupt or error
 * ends it. */
#include "rzmq.h"
#include <errno.h>
#include <limits.h>

SEXP rzmq_send_messages(SEXP sock, SEXP data, SEXP serialize, SEXP xdr,
                        SEXP progress) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  int ser = rzmq_arg_flag(serialize, "serialize");
  int x = rzmq_arg_flag(xdr, "xdr");
  R_xlen_t n, i;
  int *count;
  if (TYPEOF(progress) != INTSXP || XLENGTH(progress) != 1)
    Rf_error("internal: `progress` must be one integer");
  count = INTEGER(progress);
  *count = 0;
  if (data == R_NilValue) return Rf_ScalarInteger(0);
  if (TYPEOF(data) != VECSXP)
    Rf_error("`data` must be a list (got %s)", Rf_type2char(TYPEOF(data)));
  n = XLENGTH(data);
  if (n > INT_MAX) Rf_error("`data` has more than %d elements", INT_MAX);
  /* misuse is found before anything is sent */
  if (!ser) {
    for (i = 0; i < n; i++)
      if (TYPEOF(VECTOR_ELT(data, i)) != RAWSXP)
        Rf_error("`data[[%.0f]]` must be a raw vector when serialize = FALSE "
                 "(got %s)", (double)i + 1,
                 Rf_type2char(TYPEOF(VECTOR_ELT(data, i))));
  }
  rzmq_reclaim();
  for (i = 0; i < n; i++) {
    zmq_msg_t msg;
    int err;
    SEXP el = VECTOR_ELT(data, i);
    if (ser) rzmq_serialize_to_msg(el, x, &msg);
    else rzmq_frame_from_raw(&msg, el);
    /* may wait (the socket's send timeout), interruptibly: a message not
     * queued is closed, the ones before it stay sent */
    err = rzmq_frame_send(s, &msg, 0, 1);
    if (err != 0) {
      rzmq_report(err);
      return Rf_ScalarInteger(*count);
    }
    (*count)++;
  }
  return Rf_ScalarInteger(*count);
}

/* ---- receive ----------------------------------------------------------------- */

/* Unserializing one message of a batch: an object that fails to unserialize
 * must not take the messages before it with it, so the failure is caught
 * and handed back with the message's bytes. */
typedef struct {
  zmq_msg_t *msg;
  int failed; /* the value is then the error condition */
} unser_job;

static SEXP unser_try(void *d) {
  unser_job *job = d;
  return rzmq_unserialize_bytes(zmq_msg_data(job->msg),
                                zmq_msg_size(job->msg), NULL);
}

static SEXP unser_caught(SEXP cond, void *d) {
  ((unser_job *)d)->failed = 1;
  return cond;
}

static SEXP unser_body(void *d) {
  return R_tryCatchError(unser_try, d, unser_caught, d);
}

static void unser_cleanup(void *d, Rboolean jump) {
  if (jump) zmq_msg_close(((unser_job *)d)->msg);
}

/* The result when message k would not unserialize: list(values, bytes,
 * condition), marked for R/batch.R to raise rzmq_unserialize_error. */
static SEXP unser_failure(SEXP out, R_xlen_t k, zmq_msg_t *msg, SEXP cond) {
  SEXP res, bytes;
  PROTECT(cond);
  /* the message is closed even if R cannot make the vector */
  bytes = PROTECT(rzmq_frame_to_raw(msg));
  res = PROTECT(Rf_allocVector(VECSXP, 3));
  SET_VECTOR_ELT(res, 0, Rf_xlengthgets(out, k));
  SET_VECTOR_ELT(res, 1, bytes);
  SET_VECTOR_ELT(res, 2, cond);
  Rf_setAttrib(res, Rf_install("rzmq_failed"), Rf_ScalarLogical(TRUE));
  UNPROTECT(3);
  return res;
}

SEXP rzmq_receive_messages(SEXP sock, SEXP n_max, SEXP unserialize,
                           SEXP dontwait) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  int u = rzmq_arg_flag(unserialize, "unserialize");
  int dw = rzmq_arg_flag(dontwait, "dont.wait");
  double nd = rzmq_arg_number(n_max, "n");
  R_xlen_t n, k = 0, cap;
  zmq_msg_t msg;
  PROTECT_INDEX ipx;
  SEXP out;
  int err;
  if (ISNAN(nd) || nd < 0 || nd != (double)(R_xlen_t)nd || nd > 1e9)
    Rf_error("`n` must be a whole number from 0 to 1e9");
  n = (R_xlen_t)nd;
  if (n == 0) return Rf_allocVector(VECSXP, 0);
  cap = n < 1024 ? n : 1024;
  rzmq_reclaim();
  /* the list exists before any message is taken: nothing held can leak */
  out = Rf_allocVector(VECSXP, cap);
  PROTECT_WITH_INDEX(out, &ipx);
  err = rzmq_frame_recv(s, &msg, dw);
  if (err != 0) {
    rzmq_report(err);
    UNPROTECT(1);
    return Rf_allocVector(VECSXP, 0);
  }
  for (;;) {
    SEXP v;
    if (k == cap) {
      /* grow while holding msg: closed if R cannot */
      SEXP bigger;
      R_xlen_t i, c2 = cap * 2 < n ? cap * 2 : n;
      bigger = rzmq_alloc_list_or_close(c2, &msg);
      for (i = 0; i < k; i++) SET_VECTOR_ELT(bigger, i, VECTOR_ELT(out, i));
      REPROTECT(out = bigger, ipx);
      cap = c2;
    }
    if (zmq_msg_more(&msg)) {
      v = rzmq_read_multipart(s, &msg, &err);
      if (v == NULL) break; /* libzmq failed mid-message: reported below */
    } else if (!u) {
      v = rzmq_frame_to_raw(&msg);
    } else {
      unser_job job;
      job.msg = &msg;
      job.failed = 0;
      v = rzmq_protect(unser_body, &job, unser_cleanup, &job, 1);
      if (job.failed) {
        SEXP res = unser_failure(out, k, &msg, v);
        UNPROTECT(1);
        return res;
      }
      zmq_msg_close(&msg);
    }
    SET_VECTOR_ELT(out, k++, v);
    if (k == n) break;
    /* what is already queued, without waiting */
    if (rzmq_frame_recv(s, &msg, 1) != 0) {
      /* nothing more now (EAGAIN), or not now at all: a REP or REQ socket
       * must send before it receives again (EFSM), a context is ending
       * (ETERM). The messages in hand are returned; a next call reports
       * what is wrong, if anything still is. */
      break;
    }
  }
  /* a failure after some messages came ends the batch with them: raising it
   * (rzmq.errors = "condition") would lose them; zmq.errno() keeps it */
  if (err != 0) {
    if (k > 0) rzmq_set_errno(err);
    else rzmq_report(err);
  }
  out = Rf_xlengthgets(out, k);
  UNPROTECT(1);
  return out;
}
