/* errors.c: the only place that talks to R about failures. libzmq failures
 * are stored (for zmq.errno) and reported through R's message(); misuse in R
 * terms is an R error that names the argument. */
#include "rzmq.h"
#include <errno.h>
#include <string.h>

static int last_errno = 0;

void rzmq_set_errno(int err) { last_errno = err; }

void rzmq_report_text(int err, const char *text) {
  last_errno = err;
  /* message() rather than REprintf so suppressMessages() and
   * capture.output(type = "message") see it, as 0.9.16 users rely on. */
  SEXP txt = PROTECT(Rf_mkString(text));
  SEXP call = PROTECT(Rf_lang2(Rf_install("message"), txt));
  Rf_eval(call, R_BaseEnv);
  UNPROTECT(2);
}

/* Store err and message() its text (unless EAGAIN, silent by contract). */
static void rzmq_report(int err) {
  last_errno = err;
  if (err == EAGAIN) return; /* nothing ready / timed out: silent by contract */
  rzmq_report_text(err, zmq_strerror(err));
}

SEXP rzmq_fail_false(int err) {
  rzmq_report(err);
  return Rf_ScalarLogical(FALSE);
}

SEXP rzmq_fail_null(int err) {
  rzmq_report(err);
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

/* ---- arguments ----------------------------------------------------------- */

int rzmq_arg_flag(SEXP x, const char *name) {
  /* the type first: XLENGTH of a non-vector is an R error naming nothing */
  switch (TYPEOF(x)) {
  case LGLSXP:
    if (XLENGTH(x) == 1 && LOGICAL(x)[0] != NA_LOGICAL)
      return LOGICAL(x)[0] != 0;
    break;
  case INTSXP:
    if (XLENGTH(x) == 1 && INTEGER(x)[0] != NA_INTEGER)
      return INTEGER(x)[0] != 0;
    break;
  case REALSXP:
    if (XLENGTH(x) == 1 && !ISNAN(REAL(x)[0])) return REAL(x)[0] != 0;
    break;
  default:
    break;
  }
  Rf_error("`%s` must be TRUE or FALSE", name);
  return 0; /* not reached */
}

const char *rzmq_arg_string(SEXP x, const char *name, int allow_empty) {
  if (TYPEOF(x) != STRSXP || XLENGTH(x) != 1)
    Rf_error("`%s` must be a single string", name);
  if (STRING_ELT(x, 0) == NA_STRING)
    Rf_error("`%s` must not be NA", name);
  const char *s = Rf_translateCharUTF8(STRING_ELT(x, 0));
  if (!allow_empty && s[0] == '\0')
    Rf_error("`%s` must not be an empty string", name);
  return s;
}

double rzmq_arg_number(SEXP x, const char *name) {
  double v;
  switch (TYPEOF(x)) {
  case INTSXP:
    if (XLENGTH(x) != 1) Rf_error("`%s` must be a single number", name);
    v = INTEGER(x)[0] == NA_INTEGER ? NA_REAL : (double)INTEGER(x)[0];
    break;
  case REALSXP:
    if (XLENGTH(x) != 1) Rf_error("`%s` must be a single number", name);
    v = REAL(x)[0];
    break;
  case LGLSXP:
    if (XLENGTH(x) != 1) Rf_error("`%s` must be a single number", name);
    v = LOGICAL(x)[0] == NA_LOGICAL ? NA_REAL : (double)LOGICAL(x)[0];
    break;
  default:
    Rf_error("`%s` must be a single number", name);
  }
  if (ISNAN(v)) Rf_error("`%s` must not be NA", name);
  return v;
}
