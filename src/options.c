/* options.c: ONE table of socket options and, beside it, one of context
 * options. Every set.* / get.* function, set.sockopt / get.sockopt and
 * set.ctxopt / get.ctxopt go through them, so each option's C type (and so
 * its size, which 0.9.16 got wrong) is written down once. */
#include "rzmq.h"
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

enum opt_type { T_INT, T_BOOL, T_INT64, T_UINT64, T_BYTES, T_STRING, T_KEY,
                T_GONE };
/* S_: a security option, read by libzmq when it makes a connection, so
 * refused on a socket that is bound or connected (security.c) */
enum { R_ = 1, W_ = 2, RW_ = 3, S_ = 4 };

typedef struct {
  const char *name; /* libzmq's name without ZMQ_ */
  int id;
  enum opt_type type;
  int access;
  const char *note; /* for T_GONE: why */
} opt_def;

static const opt_def options[] = {
    {"AFFINITY", ZMQ_AFFINITY, T_UINT64, RW_, NULL},
    {"IDENTITY", ZMQ_IDENTITY, T_BYTES, RW_, NULL},
    {"ROUTING_ID", ZMQ_ROUTING_ID, T_BYTES, RW_, NULL},
    {"SUBSCRIBE", ZMQ_SUBSCRIBE, T_BYTES, W_, NULL},
    {"UNSUBSCRIBE", ZMQ_UNSUBSCRIBE, T_BYTES, W_, NULL},
    {"RATE", ZMQ_RATE, T_INT, RW_, NULL},
    {"RECOVERY_IVL", ZMQ_RECOVERY_IVL, T_INT, RW_, NULL},
    {"SNDBUF", ZMQ_SNDBUF, T_INT, RW_, NULL},
    {"RCVBUF", ZMQ_RCVBUF, T_INT, RW_, NULL},
    {"RCVMORE", ZMQ_RCVMORE, T_BOOL, R_, NULL},
    {"FD", ZMQ_FD, T_INT, R_, NULL},
    {"EVENTS", ZMQ_EVENTS, T_INT, R_, NULL},
    {"TYPE", ZMQ_TYPE, T_INT, R_, NULL},
    {"LINGER", ZMQ_LINGER, T_INT, RW_, NULL},
    {"RECONNECT_IVL", ZMQ_RECONNECT_IVL, T_INT, RW_, NULL},
    {"BACKLOG", ZMQ_BACKLOG, T_INT, RW_, NULL},
    {"RECONNECT_IVL_MAX", ZMQ_RECONNECT_IVL_MAX, T_INT, RW_, NULL},
    {"MAXMSGSIZE", ZMQ_MAXMSGSIZE, T_INT64, RW_, NULL},
    {"SNDHWM", ZMQ_SNDHWM, T_INT, RW_, NULL},
    {"RCVHWM", ZMQ_RCVHWM, T_INT, RW_, NULL},
    {"MULTICAST_HOPS", ZMQ_MULTICAST_HOPS, T_INT, RW_, NULL},
    {"RCVTIMEO", ZMQ_RCVTIMEO, T_INT, RW_, NULL},
    {"SNDTIMEO", ZMQ_SNDTIMEO, T_INT, RW_, NULL},
    {"LAST_ENDPOINT", ZMQ_LAST_ENDPOINT, T_STRING, R_, NULL},
    {"ROUTER_MANDATORY", ZMQ_ROUTER_MANDATORY, T_BOOL, W_, NULL},
    {"TCP_KEEPALIVE", ZMQ_TCP_KEEPALIVE, T_INT, RW_, NULL},
    {"TCP_KEEPALIVE_CNT", ZMQ_TCP_KEEPALIVE_CNT, T_INT, RW_, NULL},
    {"TCP_KEEPALIVE_IDLE", ZMQ_TCP_KEEPALIVE_IDLE, T_INT, RW_, NULL},
    {"TCP_KEEPALIVE_INTVL", ZMQ_TCP_KEEPALIVE_INTVL, T_INT, RW_, NULL},
    {"IMMEDIATE", ZMQ_IMMEDIATE, T_BOOL, RW_, NULL},
    {"XPUB_VERBOSE", ZMQ_XPUB_VERBOSE, T_BOOL, W_, NULL},
    {"ROUTER_RAW", ZMQ_ROUTER_RAW, T_BOOL, W_, NULL},
    {"IPV6", ZMQ_IPV6, T_BOOL, RW_, NULL},
    {"MECHANISM", ZMQ_MECHANISM, T_INT, R_, NULL},
    {"PLAIN_SERVER", ZMQ_PLAIN_SERVER, T_BOOL, RW_ | S_, NULL},
    {"PLAIN_USERNAME", ZMQ_PLAIN_USERNAME, T_STRING, RW_ | S_, NULL},
    {"PLAIN_PASSWORD", ZMQ_PLAIN_PASSWORD, T_STRING, RW_ | S_, NULL},
    {"CURVE_SERVER", ZMQ_CURVE_SERVER, T_BOOL, RW_ | S_, NULL},
    {"CURVE_PUBLICKEY", ZMQ_CURVE_PUBLICKEY, T_KEY, RW_ | S_, NULL},
    {"CURVE_SECRETKEY", ZMQ_CURVE_SECRETKEY, T_KEY, RW_ | S_, NULL},
    {"CURVE_SERVERKEY", ZMQ_CURVE_SERVERKEY, T_KEY, RW_ | S_, NULL},
    {"PROBE_ROUTER", ZMQ_PROBE_ROUTER, T_BOOL, W_, NULL},
    {"REQ_CORRELATE", ZMQ_REQ_CORRELATE, T_BOOL, W_, NULL},
    {"REQ_RELAXED", ZMQ_REQ_RELAXED, T_BOOL, W_, NULL},
    {"CONFLATE", ZMQ_CONFLATE, T_BOOL, W_, NULL},
    {"ZAP_DOMAIN", ZMQ_ZAP_DOMAIN, T_STRING, RW_ | S_, NULL},
    {"ROUTER_HANDOVER", ZMQ_ROUTER_HANDOVER, T_BOOL, W_, NULL},
    {"TOS", ZMQ_TOS, T_INT, RW_, NULL},
    {"CONNECT_ROUTING_ID", ZMQ_CONNECT_ROUTING_ID, T_BYTES, W_, NULL},
    {"HANDSHAKE_IVL", ZMQ_HANDSHAKE_IVL, T_INT, RW_, NULL},
    {"XPUB_NODROP", ZMQ_XPUB_NODROP, T_BOOL, W_, NULL},
    {"XPUB_MANUAL", ZMQ_XPUB_MANUAL, T_BOOL, W_, NULL},
    {"XPUB_WELCOME_MSG", ZMQ_XPUB_WELCOME_MSG, T_BYTES, W_, NULL},
    {"STREAM_NOTIFY", ZMQ_STREAM_NOTIFY, T_BOOL, W_, NULL},
    {"INVERT_MATCHING", ZMQ_INVERT_MATCHING, T_BOOL, RW_, NULL},
    {"HEARTBEAT_IVL", ZMQ_HEARTBEAT_IVL, T_INT, RW_, NULL},
    {"HEARTBEAT_TTL", ZMQ_HEARTBEAT_TTL, T_INT, RW_, NULL},
    {"HEARTBEAT_TIMEOUT", ZMQ_HEARTBEAT_TIMEOUT, T_INT, RW_, NULL},
    {"XPUB_VERBOSER", ZMQ_XPUB_VERBOSER, T_BOOL, W_, NULL},
    {"CONNECT_TIMEOUT", ZMQ_CONNECT_TIMEOUT, T_INT, RW_, NULL},
    {"TCP_MAXRT", ZMQ_TCP_MAXRT, T_INT, RW_, NULL},
    {"THREAD_SAFE", ZMQ_THREAD_SAFE, T_BOOL, R_, NULL},
    {"MULTICAST_MAXTPDU", ZMQ_MULTICAST_MAXTPDU, T_INT, RW_, NULL},
#ifdef ZMQ_BINDTODEVICE
    {"BINDTODEVICE", ZMQ_BINDTODEVICE, T_STRING, RW_, NULL},
#endif
    /* options of libzmq 2 that libzmq 3 removed (set.hwm and
     * set.recovery.ivl.msec map onto their successors in R) */
    {"HWM", -1, T_GONE, RW_,
     "ZMQ_HWM was removed in libzmq 3; use ZMQ_SNDHWM and ZMQ_RCVHWM "
     "(set.hwm() sets both)"},
    {"SWAP", -1, T_GONE, RW_,
     "ZMQ_SWAP was removed in libzmq 3 and has no replacement"},
    {"MCAST_LOOP", -1, T_GONE, RW_,
     "ZMQ_MCAST_LOOP was removed in libzmq 3 and has no replacement"},
    {"RECOVERY_IVL_MSEC", -1, T_GONE, RW_,
     "ZMQ_RECOVERY_IVL_MSEC was removed in libzmq 3; ZMQ_RECOVERY_IVL is in "
     "milliseconds now"},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

/* Context options (zmq_ctx_set / zmq_ctx_get take and give an int). Those
 * an older libzmq lacks stay listed, as T_GONE, so their names say so. */
#define CTX_ABSENT(x) \
  {x, -1, T_GONE, RW_, "this libzmq (" ZMQ_VERSION_STRING ") lacks ZMQ_" x}
#define ZMQ_STR_(x) #x
#define ZMQ_STR(x) ZMQ_STR_(x)
#define ZMQ_VERSION_STRING \
  ZMQ_STR(ZMQ_VERSION_MAJOR) "." ZMQ_STR(ZMQ_VERSION_MINOR) "." \
  ZMQ_STR(ZMQ_VERSION_PATCH)

static const opt_def ctx_options[] = {
    {"IO_THREADS", ZMQ_IO_THREADS, T_INT, RW_, NULL},
    {"MAX_SOCKETS", ZMQ_MAX_SOCKETS, T_INT, RW_, NULL},
    {"SOCKET_LIMIT", ZMQ_SOCKET_LIMIT, T_INT, R_, NULL},
    {"IPV6", ZMQ_IPV6, T_BOOL, RW_, NULL},
#ifdef ZMQ_BLOCKY
    {"BLOCKY", ZMQ_BLOCKY, T_BOOL, RW_, NULL},
#else
    CTX_ABSENT("BLOCKY"),
#endif
#ifdef ZMQ_MAX_MSGSZ
    {"MAX_MSGSZ", ZMQ_MAX_MSGSZ, T_INT, RW_, NULL},
#else
    CTX_ABSENT("MAX_MSGSZ"),
#endif
#ifdef ZMQ_MSG_T_SIZE
    {"MSG_T_SIZE", ZMQ_MSG_T_SIZE, T_INT, R_, NULL},
#else
    CTX_ABSENT("MSG_T_SIZE"),
#endif
#ifdef ZMQ_THREAD_PRIORITY
    /* set only: zmq_ctx_get(ZMQ_THREAD_PRIORITY) reads ZMQ_SOCKET_LIMIT,
     * which has the same number */
    {"THREAD_PRIORITY", ZMQ_THREAD_PRIORITY, T_INT, W_, NULL},
    {"THREAD_SCHED_POLICY", ZMQ_THREAD_SCHED_POLICY, T_INT, RW_, NULL},
#else
    CTX_ABSENT("THREAD_PRIORITY"),
    CTX_ABSENT("THREAD_SCHED_POLICY"),
#endif
#ifdef ZMQ_THREAD_NAME_PREFIX
    /* an int: a string prefix needs the draft zmq_ctx_set_ext */
    {"THREAD_NAME_PREFIX", ZMQ_THREAD_NAME_PREFIX, T_INT, RW_, NULL},
#else
    CTX_ABSENT("THREAD_NAME_PREFIX"),
#endif
};

#define N_CTX_OPTIONS (sizeof ctx_options / sizeof ctx_options[0])

typedef struct {
  const opt_def *defs;
  size_t n;
  const char *kind; /* "socket" or "context" */
} opt_table;

static const opt_table socket_table = {options, N_OPTIONS, "socket"};
static const opt_table context_table = {ctx_options, N_CTX_OPTIONS, "context"};

/* The option named `name` (argument `arg`) that allows `access`. */
static const opt_def *option_find(const opt_table *t, SEXP name,
                                  const char *arg, int access) {
  const char *s = rzmq_arg_string(name, arg, 0);
  size_t i;
  if (strncasecmp(s, "ZMQ_", 4) == 0) s += 4;
  for (i = 0; i < t->n; i++) {
    if (strcasecmp(s, t->defs[i].name) != 0) continue;
    if (t->defs[i].type == T_GONE) Rf_error("%s", t->defs[i].note);
    if (!(t->defs[i].access & access))
      Rf_error("`%s`: %s option ZMQ_%s can only be %s", arg, t->kind,
               t->defs[i].name, access == W_ ? "read" : "set");
    return &t->defs[i];
  }
  Rf_error("`%s` \"%s\" is not a zmq %s option this package knows", arg, s,
           t->kind);
  return NULL;
}

static double whole_value(SEXP v, const char *arg, double lo, double hi) {
  double x = rzmq_arg_number(v, arg);
  if (x != floor(x) || x < lo || x > hi)
    Rf_error("`%s` must be a whole number from %.0f to %.0f", arg, lo, hi);
  return x;
}

SEXP rzmq_option_set(SEXP sock, SEXP name, SEXP value, SEXP argname) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  const char *arg = rzmq_arg_string(argname, "argname", 0);
  const opt_def *o = option_find(&socket_table, name, "option", W_);
  int rc = 0, iv;
  int64_t i64;
  uint64_t u64;
  /* libzmq takes these on any router-based socket (REP, DEALER ...) and
   * later asserts, aborting R: only ROUTER sockets may have them */
  if (o->access & S_) {
    char what[80];
    snprintf(what, sizeof what, "set.sockopt(\"ZMQ_%s\")", o->name);
    rzmq_security_unattached(s, what);
  }
  if ((o->id == ZMQ_ROUTER_RAW || o->id == ZMQ_ROUTER_MANDATORY ||
       o->id == ZMQ_ROUTER_HANDOVER) && s->type != ZMQ_ROUTER)
    return rzmq_fail_false(EINVAL);
  switch (o->type) {
  case T_INT:
  case T_BOOL:
    if (o->type == T_BOOL && TYPEOF(value) == LGLSXP)
      iv = rzmq_arg_flag(value, arg);
    else
      iv = (int)whole_value(value, arg, -2147483647.0, 2147483647.0);
    rc = zmq_setsockopt(s->handle, o->id, &iv, sizeof iv);
    /* libzmq checked the value; blocking calls apply it slice by slice */
    if (rc == 0 && o->id == ZMQ_RCVTIMEO) s->rcvtimeo = s->applied_rcvtimeo = iv;
    if (rc == 0 && o->id == ZMQ_SNDTIMEO) s->sndtimeo = s->applied_sndtimeo = iv;
    break;
  case T_INT64:
    i64 = (int64_t)whole_value(value, arg, -9007199254740992.0, 9007199254740992.0);
    rc = zmq_setsockopt(s->handle, o->id, &i64, sizeof i64);
    break;
  case T_UINT64:
    u64 = (uint64_t)whole_value(value, arg, 0, 9007199254740992.0);
    rc = zmq_setsockopt(s->handle, o->id, &u64, sizeof u64);
    break;
  case T_KEY: { /* 32 bytes, or 40 characters of Z85 that decode */
    unsigned char key[32];
    rzmq_curve_key(value, arg, key);
    rc = zmq_setsockopt(s->handle, o->id, key, sizeof key);
    break;
  }
  case T_BYTES:
  case T_STRING:
    if (TYPEOF(value) == RAWSXP) {
      rc = zmq_setsockopt(s->handle, o->id, RAW(value), (size_t)XLENGTH(value));
    } else if (TYPEOF(value) == STRSXP && XLENGTH(value) == 1 &&
               STRING_ELT(value, 0) != NA_STRING) {
      const char *p = Rf_translateCharUTF8(STRING_ELT(value, 0));
      rc = zmq_setsockopt(s->handle, o->id, p, strlen(p));
    } else {
      Rf_error("`%s` must be a single string or a raw vector", arg);
    }
    break;
  case T_GONE:
    break;
  }
  if (rc != 0) return rzmq_fail_false(zmq_errno());
  return Rf_ScalarLogical(TRUE);
}

/* ZMQ_FD is an int on POSIX but a SOCKET (64 bits on Win64) on Windows:
 * read it at the size zmq_pollitem_t gives it; an integer when it fits. */
static SEXP fd_get(rzmq_sock *s) {
  zmq_pollitem_t item;
  size_t len = sizeof item.fd;
  if (zmq_getsockopt(s->handle, ZMQ_FD, &item.fd, &len) != 0)
    return rzmq_fail_null(zmq_errno());
  if ((double)item.fd <= 2147483647.0) return Rf_ScalarInteger((int)item.fd);
  return Rf_ScalarReal((double)item.fd);
}

SEXP rzmq_option_get(SEXP sock, SEXP name) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  const opt_def *o = option_find(&socket_table, name, "option", R_);
  char buf[1024];
  size_t len = sizeof buf;
  int iv;
  int64_t i64;
  uint64_t u64;
  SEXP out;
  switch (o->type) {
  case T_INT:
  case T_BOOL:
    /* libzmq holds a wait slice, the user's value is ours */
    if (o->id == ZMQ_RCVTIMEO) return Rf_ScalarInteger(s->rcvtimeo);
    if (o->id == ZMQ_SNDTIMEO) return Rf_ScalarInteger(s->sndtimeo);
    if (o->id == ZMQ_FD) return fd_get(s);
    len = sizeof iv;
    if (zmq_getsockopt(s->handle, o->id, &iv, &len) != 0) break;
    return o->type == T_BOOL ? Rf_ScalarLogical(iv != 0) : Rf_ScalarInteger(iv);
  case T_INT64:
    len = sizeof i64;
    if (zmq_getsockopt(s->handle, o->id, &i64, &len) != 0) break;
    return Rf_ScalarReal((double)i64);
  case T_UINT64:
    len = sizeof u64;
    if (zmq_getsockopt(s->handle, o->id, &u64, &len) != 0) break;
    return Rf_ScalarReal((double)u64);
  case T_BYTES:
    if (zmq_getsockopt(s->handle, o->id, buf, &len) != 0) break;
    out = Rf_allocVector(RAWSXP, (R_xlen_t)len);
    if (len > 0) memcpy(RAW(out), buf, len);
    return out;
  case T_KEY:
    len = 32; /* libzmq insists: 32 for binary, 41 for Z85 */
    if (zmq_getsockopt(s->handle, o->id, buf, &len) != 0) break;
    out = Rf_allocVector(RAWSXP, (R_xlen_t)len);
    memcpy(RAW(out), buf, len);
    return out;
  case T_STRING:
    if (zmq_getsockopt(s->handle, o->id, buf, &len) != 0) break;
    /* libzmq counts the terminating NUL */
    while (len > 0 && buf[len - 1] == '\0') len--;
    return Rf_ScalarString(Rf_mkCharLenCE(buf, (int)len, CE_UTF8));
  case T_GONE:
    break;
  }
  return rzmq_fail_null(zmq_errno());
}

/* An int (or flag) for zmq_ctx_set, checked in R terms. */
static int int_value(const opt_def *o, SEXP v, const char *arg) {
  if (o->type == T_BOOL && TYPEOF(v) == LGLSXP) return rzmq_arg_flag(v, arg);
  if (TYPEOF(v) == STRSXP && strcmp(o->name, "THREAD_NAME_PREFIX") == 0)
    Rf_error("`%s` must be a whole number: this libzmq names its threads "
             "after a number (a text prefix needs libzmq's draft API)", arg);
  return (int)whole_value(v, arg, -2147483647.0, 2147483647.0);
}

SEXP rzmq_ctxopt_set(SEXP context, SEXP name, SEXP value) {
  rzmq_ctx *ctx = rzmq_context_get(context, "context");
  const opt_def *o = option_find(&context_table, name, "name", W_);
  int v = int_value(o, value, "value");
  if (zmq_ctx_set(ctx->handle, o->id, v) != 0)
    return rzmq_fail_false(zmq_errno());
  return Rf_ScalarLogical(TRUE);
}

SEXP rzmq_ctxopt_get(SEXP context, SEXP name) {
  rzmq_ctx *ctx = rzmq_context_get(context, "context");
  const opt_def *o = option_find(&context_table, name, "name", R_);
  int v;
  /* -1 is a value too (ZMQ_THREAD_SCHED_POLICY's default): errno tells */
  errno = 0;
  v = zmq_ctx_get(ctx->handle, o->id);
  if (v == -1 && zmq_errno() != 0) return rzmq_fail_null(zmq_errno());
  return o->type == T_BOOL ? Rf_ScalarLogical(v != 0) : Rf_ScalarInteger(v);
}

static const char *type_name(enum opt_type t) {
  switch (t) {
  case T_INT: return "int";
  case T_BOOL: return "bool";
  case T_INT64: return "int64";
  case T_UINT64: return "uint64";
  case T_BYTES: return "bytes";
  case T_STRING: return "string";
  case T_KEY: return "key";
  case T_GONE: break;
  }
  return "";
}

/* The columns name, type, read, write of a table (shaped in R). */
SEXP rzmq_option_names(SEXP which) {
  const opt_table *t =
      strcmp(rzmq_arg_string(which, "which", 0), "context") == 0
          ? &context_table : &socket_table;
  static const char *columns[] = {"name", "type", "read", "write", ""};
  size_t i, n = 0;
  SEXP out, nm, ty, rd, wr;
  for (i = 0; i < t->n; i++) n += t->defs[i].type != T_GONE;
  out = PROTECT(rzmq_named(VECSXP, columns));
  nm = Rf_allocVector(STRSXP, (R_xlen_t)n);
  SET_VECTOR_ELT(out, 0, nm);
  ty = Rf_allocVector(STRSXP, (R_xlen_t)n);
  SET_VECTOR_ELT(out, 1, ty);
  rd = Rf_allocVector(LGLSXP, (R_xlen_t)n);
  SET_VECTOR_ELT(out, 2, rd);
  wr = Rf_allocVector(LGLSXP, (R_xlen_t)n);
  SET_VECTOR_ELT(out, 3, wr);
  for (i = 0, n = 0; i < t->n; i++) {
    const opt_def *o = &t->defs[i];
    char buf[64];
    if (o->type == T_GONE) continue;
    snprintf(buf, sizeof buf, "ZMQ_%s", o->name);
    SET_STRING_ELT(nm, (R_xlen_t)n, Rf_mkChar(buf));
    SET_STRING_ELT(ty, (R_xlen_t)n, Rf_mkChar(type_name(o->type)));
    LOGICAL(rd)[n] = (o->access & R_) != 0;
    LOGICAL(wr)[n] = (o->access & W_) != 0;
    n++;
  }
  UNPROTECT(1);
  return out;
}
