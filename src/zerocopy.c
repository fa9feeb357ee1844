/* zerocopy.c: frames on receive. Large received frames are handed to R
 * without a copy: an ALTREP raw vector reads its bytes in place from the
 * libzmq message it owns; the first request for write access copies them
 * into an ordinary raw vector (and lets the message go), so nothing R does
 * can change the message, which other sockets or the sender's own vector
 * may share. (lend.c is the other direction: raw vectors lent on send.) */
#include "rzmq.h"
#include <R_ext/Altrep.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static R_altrep_class_t frame_class;
static SEXP frame_tag = NULL;

/* R's collector knows nothing of the memory these vectors hold (it is
 * libzmq's, off R's heap), so by itself it would let received frames pile up
 * by the gigabyte before it ran. We count the bytes of the frames whose
 * memory exists only for them ("fresh": not a shared message, not a vector
 * this process lent) and, when they pass a budget, ask for a collection
 * before taking more; the budget is then set above what is still held, so a
 * program that keeps many frames is not collected again and again. */
#define GC_BUDGET_MIN ((double)512 * 1024 * 1024)

typedef struct {
  zmq_msg_t msg;
  double counted; /* bytes it adds to held_bytes */
} frame_box;
static double held_bytes = 0;
static double gc_budget = GC_BUDGET_MIN;

/* data1: an external pointer to the zmq_msg_t (NULL once let go);
 * data2: R_NilValue, or the ordinary raw vector holding the copy. */

static zmq_msg_t *frame_msg(SEXP x) {
  frame_box *b = R_ExternalPtrAddr(R_altrep_data1(x));
  return b == NULL ? NULL : &b->msg;
}

static void frame_release(SEXP p) {
  frame_box *b = R_ExternalPtrAddr(p);
  zmq_msg_t *m;
  if (b == NULL) return;
  m = &b->msg;
  R_ClearExternalPtr(p);
  held_bytes -= b->counted;
  /* a received message: closing it frees memory (or drops a reference,
   * or queues a lent vector for release) and never blocks */
  zmq_msg_close(m);
  free(b);
  rzmq_live_handles--;
}

static void frame_finalize(SEXP p) { frame_release(p); }

static R_xlen_t frame_length(SEXP x) {
  SEXP copy = R_altrep_data2(x);
  zmq_msg_t *m;
  if (copy != R_NilValue) return XLENGTH(copy);
  m = frame_msg(x);
  return m == NULL ? 0 : (R_xlen_t)zmq_msg_size(m);
}

/* The bytes, read-only. */
static const void *frame_bytes(SEXP x) {
  SEXP copy = R_altrep_data2(x);
  if (copy != R_NilValue) return RAW(copy);
  return zmq_msg_data(frame_msg(x));
}

/* Copy out: from now on x is an ordinary vector behind an ALTREP face. */
static SEXP frame_materialize(SEXP x) {
  SEXP copy = R_altrep_data2(x);
  R_xlen_t n;
  if (copy != R_NilValue) return copy;
  n = frame_length(x);
  copy = PROTECT(Rf_allocVector(RAWSXP, n));
  if (n > 0) memcpy(RAW(copy), zmq_msg_data(frame_msg(x)), (size_t)n);
  R_set_altrep_data2(x, copy);
  frame_release(R_altrep_data1(x));
  UNPROTECT(1);
  return copy;
}

static void *frame_dataptr(SEXP x, Rboolean writeable) {
  if (writeable) return RAW(frame_materialize(x));
  return (void *)frame_bytes(x);
}

static const void *frame_dataptr_or_null(SEXP x) { return frame_bytes(x); }

static Rbyte frame_elt(SEXP x, R_xlen_t i) {
  return ((const Rbyte *)frame_bytes(x))[i];
}

static R_xlen_t frame_region(SEXP x, R_xlen_t i, R_xlen_t n, Rbyte *buf) {
  R_xlen_t len = frame_length(x);
  R_xlen_t k = len - i < n ? len - i : n;
  if (k > 0) memcpy(buf, (const Rbyte *)frame_bytes(x) + i, (size_t)k);
  return k > 0 ? k : 0;
}

/* A duplicate is an ordinary raw vector: the message stays as it is. */
static SEXP frame_duplicate(SEXP x, Rboolean deep) {
  R_xlen_t n = frame_length(x);
  SEXP out = PROTECT(Rf_allocVector(RAWSXP, n));
  (void)deep;
  if (n > 0) memcpy(RAW(out), frame_bytes(x), (size_t)n);
  UNPROTECT(1);
  return out;
}

static Rboolean frame_inspect(SEXP x, int pre, int deep, int pvec,
                              void (*inspect_subtree)(SEXP, int, int, int)) {
  (void)pre; (void)deep; (void)pvec; (void)inspect_subtree;
  Rprintf(" rzmq frame of %.0f bytes (%s)\n", (double)frame_length(x),
          R_altrep_data2(x) == R_NilValue ? "in the message" : "copied");
  return TRUE;
}

void rzmq_zerocopy_init(DllInfo *dll) {
  /* Not tied to the DLL (NULL, as R's own classes): R resets the classes of
   * a DLL it unloads to methods that only raise errors, which would leave
   * the frames still alive unreadable. Live frames keep this library mapped
   * (rzmq_live_handles), so their methods stay valid. */
  (void)dll;
  frame_class = R_make_altraw_class("rzmq_frame", "rzmq", NULL);
  R_set_altrep_Length_method(frame_class, frame_length);
  R_set_altrep_Duplicate_method(frame_class, frame_duplicate);
  R_set_altrep_Inspect_method(frame_class, frame_inspect);
  R_set_altvec_Dataptr_method(frame_class, frame_dataptr);
  R_set_altvec_Dataptr_or_null_method(frame_class, frame_dataptr_or_null);
  R_set_altraw_Elt_method(frame_class, frame_elt);
  R_set_altraw_Get_region_method(frame_class, frame_region);
  if (frame_tag == NULL) {
    frame_tag = Rf_install("rzmq_frame");
  }
}

/* ---- making one --------------------------------------------------------------- */

typedef struct {
  zmq_msg_t *msg; /* the caller's; moved out once owned by the R object */
  int moved;
  int fresh;
} frame_job;

static SEXP frame_body(void *d) {
  frame_job *job = d;
  SEXP p, out;
  frame_box *b;
  double size = job->fresh ? (double)zmq_msg_size(job->msg) : 0;
  if (size > 0 && held_bytes + size > gc_budget) {
    R_gc(); /* runs the finalizers of the frames R no longer uses */
    gc_budget = held_bytes * 2 > GC_BUDGET_MIN ? held_bytes * 2 : GC_BUDGET_MIN;
  }
  p = PROTECT(R_MakeExternalPtr(NULL, frame_tag, R_NilValue));
  R_RegisterCFinalizerEx(p, frame_finalize, FALSE);
  b = malloc(sizeof *b);
  if (b == NULL)
    rzmq_fail_stop(ENOMEM, "cannot allocate memory for a received frame");
  zmq_msg_init(&b->msg);
  zmq_msg_move(&b->msg, job->msg);
  b->counted = size;
  job->moved = 1;
  held_bytes += size;
  R_SetExternalPtrAddr(p, b);
  rzmq_live_handles++; /* its finalizer is our code: unloading must wait */
  out = R_new_altrep(frame_class, p, R_NilValue);
  UNPROTECT(1);
  return out;
}

static void frame_cleanup(void *d, Rboolean jump) {
  frame_job *job = d;
  if (jump && !job->moved) zmq_msg_close(job->msg);
}

SEXP rzmq_frame_raw(zmq_msg_t *msg, int fresh) {
  frame_job job;
  job.msg = msg;
  job.moved = 0;
  job.fresh = fresh;
  /* the message is closed if R cannot make the vector */
  return rzmq_protect(frame_body, &job, frame_cleanup, &job, 1);
}

SEXP rzmq_frames_held(void) { return Rf_ScalarReal(held_bytes); }

int rzmq_is_frame(SEXP x) {
  return ALTREP(x) && R_altrep_inherits(x, frame_class);
}

int rzmq_frame_share(SEXP x, zmq_msg_t *out) {
  zmq_msg_t *m;
  if (!rzmq_is_frame(x) || R_altrep_data2(x) != R_NilValue) return 0;
  m = frame_msg(x);
  if (m == NULL) return 0;
  zmq_msg_init(out);
  if (zmq_msg_copy(out, m) != 0) {
    zmq_msg_close(out);
    return 0;
  }
  return 1;
}

SEXP rzmq_frame_state(SEXP x) {
  if (!rzmq_is_frame(x)) return Rf_mkString("ordinary");
  return Rf_mkString(R_altrep_data2(x) == R_NilValue ? "message" : "copied");
}

/* Whether two raw vectors are the same bytes in memory, not just equal ones
 * (tests: a frame received from a vector this process lent is that vector). */
SEXP rzmq_same_bytes(SEXP a, SEXP b) {
  const void *pa, *pb;
  if (TYPEOF(a) != RAWSXP || TYPEOF(b) != RAWSXP || XLENGTH(a) != XLENGTH(b))
    return Rf_ScalarLogical(FALSE);
  pa = DATAPTR_OR_NULL(a);
  pb = DATAPTR_OR_NULL(b);
  return Rf_ScalarLogical(pa != NULL && pa == pb);
}

/* Write `value` at byte `i` (1-based) through RAW(), the writable pointer
 * any C code may ask for (tests): a frame must copy itself out first,
 * so the message, and whoever shares it, never sees the write. */
SEXP rzmq_frame_poke(SEXP x, SEXP i, SEXP value) {
  double at;
  if (TYPEOF(x) != RAWSXP) Rf_error("`x` must be a raw vector");
  if (TYPEOF(i) != REALSXP || XLENGTH(i) != 1) Rf_error("`i` must be one number");
  if (TYPEOF(value) != RAWSXP || XLENGTH(value) != 1) Rf_error("`value` must be one raw byte");
  at = REAL(i)[0];
  if (!(at >= 1 && at <= (double)XLENGTH(x))) Rf_error("`i` is out of range");
  RAW(x)[(R_xlen_t)at - 1] = RAW(value)[0]; /* RAW(): the writable pointer */
  return R_NilValue;
}
