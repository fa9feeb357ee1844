/* errors.c: the only place that talks to R about failures. libzmq failures
 * are stored (for zmq.errno) and reported through R's message(); misuse in R
 * terms is an R error that names the argument (args.c). Cleanup on R's
 * non-local exits (errors, interrupts) also goes through here. */
#include "rzmq.h"
#include <errno.h>
#include <string.h>

static int last_errno = 0;

/* Shared by the bodies that return R_NilValue: R stores a body's value in
 * its token, so only those may share one without keeping a value alive. */
static SEXP shared_token = NULL;

void rzmq_errors_init(void) {
  if (shared_token != NULL) return; /* loaded again into a pinned library */
  shared_token = R_MakeUnwindCont();
  R_PreserveObject(shared_token);
}

void rzmq_errors_unload(void) {
  if (shared_token != NULL) R_ReleaseObject(shared_token);
  shared_token = NULL;
}

SEXP rzmq_protect(SEXP (*body)(void *), void *data,
                  void (*cleanup)(void *, Rboolean), void *cdata,
                  int returns_value) {
  /* NULL: R makes (and protects) a fresh token for this call alone */
  return R_UnwindProtect(body, data, cleanup, cdata,
                         returns_value ? NULL : shared_token);
}

void rzmq_set_errno(int err) { last_errno = err; }

void rzmq_report_text(int err, const char *text) {
  SEXP txt, call;
  last_errno = err;
  /* message() rather than REprintf so suppressMessages() and
   * capture.output(type = "message") see it, as 0.9.16 users rely on. */
  txt = PROTECT(Rf_mkString(text));
  call = PROTECT(Rf_lang2(Rf_install("message"), txt));
  Rf_eval(call, R_BaseEnv);
  UNPROTECT(2);
}

/* Store err and message() its text (unless EAGAIN, silent by contract). */
static void report(int err) {
  last_errno = err;
  if (err == EAGAIN) return; /* nothing ready / timed out: silent by contract */
  rzmq_report_text(err, zmq_strerror(err));
}

SEXP rzmq_fail_false(int err) {
  report(err);
  return Rf_ScalarLogical(FALSE);
}

SEXP rzmq_fail_null(int err) {
  report(err);
  return R_NilValue;
}

SEXP rzmq_errno_get(void) { return Rf_ScalarInteger(last_errno); }

SEXP rzmq_strerror_get(void) { return Rf_mkString(zmq_strerror(last_errno)); }

SEXP rzmq_version_get(void) {
  int major, minor, patch;
  char buf[64];
  zmq_version(&major, &minor, &patch);
  snprintf(buf, sizeof buf, "%d.%d.%d", major, minor, patch);
  return Rf_mkString(buf);
}
