/* errors.c: the only place that talks to R about failures. A libzmq or
 * system failure reaches R through these functions alone: rzmq_fail_stop
 * when it ends the call (a context, socket, thread or key that could not be
 * made, memory that could not be had), rzmq_fail_false / rzmq_fail_null /
 * rzmq_report / rzmq_report_text where the contract is FALSE or NULL and a
 * message. Each stores the errno for zmq.errno() and, under
 * options(rzmq.errors = "condition"), raises an R error of class
 * rzmq_<NAME>/rzmq_error with the errno and the exported call (EAGAIN,
 * nothing ready, stays a quiet FALSE/NULL unless "condition-all"). The C
 * code's other R errors are misuse in R terms, naming the argument (args.c and the
 * checks in each file; a capability this libzmq lacks), and received data
 * that is not what it should be (not a serialized R object, not a monitor
 * event), which has no errno. Cleanup on R's non-local exits (errors,
 * interrupts) also goes through here. */
#include "rzmq.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
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

/* Store an errno for zmq.errno() without reporting it: a call that ends
 * well despite it (read.events() emptying the queue: EAGAIN), or one that
 * hands back a partial result that raising would lose (receive.messages()
 * after some messages came). Never before an R error: rzmq_fail_stop. */
void rzmq_set_errno(int err) { last_errno = err; }

/* errno -> symbolic name, for the class of a raised failure */
static const struct {
  int err;
  const char *name;
} errno_names[] = {
    {EAGAIN, "EAGAIN"}, {EINTR, "EINTR"}, {EINVAL, "EINVAL"},
    {ENOENT, "ENOENT"}, {EFAULT, "EFAULT"}, {ENOMEM, "ENOMEM"},
    {EMFILE, "EMFILE"}, {ENFILE, "ENFILE"}, {EBADF, "EBADF"},
    {EACCES, "EACCES"}, {EPERM, "EPERM"}, {ENODEV, "ENODEV"},
    {EEXIST, "EEXIST"}, {ENOSPC, "ENOSPC"}, {EPIPE, "EPIPE"},
    {EBUSY, "EBUSY"}, {ENAMETOOLONG, "ENAMETOOLONG"},
    /* libzmq defines these itself where the system lacks them */
    {ENOTSUP, "ENOTSUP"}, {EPROTONOSUPPORT, "EPROTONOSUPPORT"},
    {ENOBUFS, "ENOBUFS"}, {ENETDOWN, "ENETDOWN"},
    {EADDRINUSE, "EADDRINUSE"}, {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
    {ECONNREFUSED, "ECONNREFUSED"}, {EINPROGRESS, "EINPROGRESS"},
    {ENOTSOCK, "ENOTSOCK"}, {EMSGSIZE, "EMSGSIZE"},
    {EAFNOSUPPORT, "EAFNOSUPPORT"}, {ENETUNREACH, "ENETUNREACH"},
    {ECONNABORTED, "ECONNABORTED"}, {ECONNRESET, "ECONNRESET"},
    {ENOTCONN, "ENOTCONN"}, {ETIMEDOUT, "ETIMEDOUT"},
    {EHOSTUNREACH, "EHOSTUNREACH"}, {ENETRESET, "ENETRESET"},
    {EFSM, "EFSM"}, {ENOCOMPATPROTO, "ENOCOMPATPROTO"}, {ETERM, "ETERM"},
    {EMTHREAD, "EMTHREAD"},
};

enum { MODE_MESSAGE, MODE_CONDITION, MODE_CONDITION_ALL };

/* options(rzmq.errors): read only when something failed, so success costs
 * nothing. */
static int errors_mode(void) {
  SEXP v = Rf_GetOption1(Rf_install("rzmq.errors"));
  const char *s;
  if (v == R_NilValue) return MODE_MESSAGE;
  if (TYPEOF(v) != STRSXP || XLENGTH(v) != 1 || STRING_ELT(v, 0) == NA_STRING)
    s = "";
  else
    s = CHAR(STRING_ELT(v, 0));
  if (strcmp(s, "message") == 0) return MODE_MESSAGE;
  if (strcmp(s, "condition") == 0) return MODE_CONDITION;
  if (strcmp(s, "condition-all") == 0) return MODE_CONDITION_ALL;
  Rf_error("options(rzmq.errors) must be \"message\", \"condition\" or "
           "\"condition-all\"");
  return MODE_MESSAGE;
}

/* Raise the failure as an R error of class rzmq_<ENAME> (R/errors.R builds
 * it, with the call of the exported function). Does not return. */
static void raise_failure(int err, const char *text) {
  char name[32];
  size_t i;
  SEXP ns, call, e, nm, tx;
  snprintf(name, sizeof name, "E%d", err);
  for (i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++) {
    if (errno_names[i].err == err) {
      snprintf(name, sizeof name, "%s", errno_names[i].name);
      break;
    }
  }
  ns = PROTECT(R_FindNamespace(PROTECT(Rf_mkString("rzmq"))));
  e = PROTECT(Rf_ScalarInteger(err));
  nm = PROTECT(Rf_mkString(name));
  tx = PROTECT(Rf_mkString(text));
  call = PROTECT(Rf_lang4(Rf_install("rzmq_raise"), e, nm, tx));
  Rf_eval(call, ns);
  UNPROTECT(6);
}

/* message() rather than REprintf so suppressMessages() and
 * capture.output(type = "message") see it, as 0.9.16 users rely on. */
static void report_as(int mode, int err, const char *text) {
  SEXP txt, call;
  if (mode != MODE_MESSAGE) raise_failure(err, text);
  txt = PROTECT(Rf_mkString(text));
  call = PROTECT(Rf_lang2(Rf_install("message"), txt));
  Rf_eval(call, R_BaseEnv);
  UNPROTECT(2);
}

void rzmq_report_text(int err, const char *text) {
  last_errno = err;
  report_as(errors_mode(), err, text);
}

/* Store err and report it; EAGAIN (nothing ready, timed out) is silent by
 * contract unless options(rzmq.errors = "condition-all"). */
void rzmq_report(int err) {
  int mode;
  last_errno = err;
  mode = errors_mode();
  if (err == EAGAIN && mode != MODE_CONDITION_ALL) return;
  report_as(mode, err, zmq_strerror(err));
}

/* A failure that ends the call (a context, socket, thread or key that
 * could not be made; memory that could not be had): the errno is stored;
 * the error's text is the formatted what, ": ", and the errno's text.
 * Under options(rzmq.errors = "condition"/"condition-all") it is raised
 * classed rzmq_<NAME>/rzmq_error like every other failure, otherwise as a
 * plain R error. Does not return. */
void rzmq_fail_stop(int err, const char *fmt, ...) {
  char text[512];
  int n, mode;
  va_list ap;
  last_errno = err;
  va_start(ap, fmt);
  n = vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n < sizeof text)
    snprintf(text + n, sizeof text - (size_t)n, ": %s", zmq_strerror(err));
  mode = errors_mode();
  if (mode != MODE_MESSAGE) raise_failure(err, text);
  Rf_error("%s", text);
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
