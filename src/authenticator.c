/* authenticator.c: a ZAP handler (ZeroMQ RFC 27) for one context, on a C
 * thread of its own, so that handshakes are answered while R is busy or
 * blocked. It decides from lists the R side can replace at any time (CURVE
 * keys, PLAIN users, allowed and denied addresses) and keeps a log of its
 * recent decisions. The thread owns the ZAP socket; R talks to it only
 * through the mutex-guarded lists and a control socket that wakes it. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strdup */
#endif
#include "rzmq.h"
#include <stdlib.h>
#include <string.h>

#define LOG_CAP 1000
#define MAX_FRAMES 8

typedef struct {
  int curve_on, curve_any;
  int n_keys, n_users, n_allow, n_deny;
  char **keys; /* Z85 */
  char **users, **passwords;
  char **allow, **deny;
  char *domain; /* "*": every domain */
} auth_config;

typedef struct {
  double time;
  char mechanism[8];
  char address[64];
  char user[256];
  int allowed;
  char reason[96];
} auth_entry;

struct rzmq_auth {
  rzmq_head head;
  rzmq_ctx *ctx; /* NULL once stopped */
  pthread_t tid;
  void *zap, *ctl_thread; /* the thread's */
  void *ctl_main;         /* ours: one byte on it stops the thread */
  pthread_mutex_t mu;     /* guards cfg and the log */
  auth_config *cfg;
  auth_entry *log;
  int log_start, log_n;
  long seq; /* a name for the control endpoint */
};

/* ---- configuration -------------------------------------------------------- */

static void strv_free(char **v, int n) {
  int i;
  if (v == NULL) return;
  for (i = 0; i < n; i++) free(v[i]);
  free(v);
}

static void config_free(auth_config *c) {
  if (c == NULL) return;
  strv_free(c->keys, c->n_keys);
  strv_free(c->users, c->n_users);
  strv_free(c->passwords, c->n_users);
  strv_free(c->allow, c->n_allow);
  strv_free(c->deny, c->n_deny);
  free(c->domain);
  free(c);
}

/* Copies of the strings of `x`; the caller frees them. Checked first, so
 * that no R error can leave a half-made copy behind. */
static char **strv_copy(SEXP x, int *n) {
  int i;
  char **v;
  *n = (int)XLENGTH(x);
  v = calloc(*n > 0 ? (size_t)*n : 1, sizeof *v);
  if (v == NULL) return NULL;
  for (i = 0; i < *n; i++) {
    v[i] = strdup(Rf_translateCharUTF8(STRING_ELT(x, i)));
    if (v[i] == NULL) {
      strv_free(v, i);
      return NULL;
    }
  }
  return v;
}

static void check_strings(SEXP x, const char *name, const char *what) {
  R_xlen_t i;
  if (TYPEOF(x) != STRSXP)
    Rf_error("`%s` must be NULL or a character vector of %s", name, what);
  if (XLENGTH(x) > 100000) Rf_error("`%s` is too long", name);
  for (i = 0; i < XLENGTH(x); i++)
    if (STRING_ELT(x, i) == NA_STRING)
      Rf_error("`%s` must not hold NA", name);
}

static void check_curve(SEXP curve) {
  R_xlen_t i;
  if (curve == R_NilValue) return;
  if (TYPEOF(curve) == LGLSXP && XLENGTH(curve) == 1 &&
      LOGICAL(curve)[0] == TRUE)
    return;
  if (TYPEOF(curve) != STRSXP)
    Rf_error("`curve` must be NULL, TRUE (any client key) or a character "
             "vector of client public keys (40 characters of Z85 each)");
  for (i = 0; i < XLENGTH(curve); i++) {
    SEXP k = STRING_ELT(curve, i);
    const char *s = k == NA_STRING ? "" : CHAR(k);
    if (strlen(s) != 40 || !rzmq_z85_valid(s, 40))
      Rf_error("`curve[%d]` is not a CURVE public key: 40 characters of Z85 "
               "text", (int)i + 1);
  }
}

static void check_plain(SEXP plain) {
  SEXP nm;
  R_xlen_t i;
  if (plain == R_NilValue) return;
  nm = Rf_getAttrib(plain, R_NamesSymbol);
  if (TYPEOF(plain) != STRSXP || TYPEOF(nm) != STRSXP)
    Rf_error("`plain` must be NULL or a named character vector: "
             "c(user = \"password\")");
  for (i = 0; i < XLENGTH(plain); i++) {
    if (STRING_ELT(plain, i) == NA_STRING || STRING_ELT(nm, i) == NA_STRING ||
        CHAR(STRING_ELT(nm, i))[0] == '\0')
      Rf_error("`plain[%d]` must have a user name and a password, not NA or "
               "empty", (int)i + 1);
    /* any error translating them comes now, before strv_copy holds memory */
    Rf_translateCharUTF8(STRING_ELT(plain, i));
    Rf_translateCharUTF8(STRING_ELT(nm, i));
  }
}

static void check_addresses(SEXP x, const char *name) {
  R_xlen_t i;
  if (x == R_NilValue) return;
  check_strings(x, name, "IP addresses");
  for (i = 0; i < XLENGTH(x); i++) {
    unsigned char buf[16];
    const char *a = CHAR(STRING_ELT(x, i));
    if (rzmq_ip_parse(a, buf) == 0)
      Rf_error("`%s[%d]` \"%s\" is not an IP address", name, (int)i + 1, a);
  }
}

/* A new configuration: each of curve, plain, allow, deny from `old` where
 * `keep[i]`, else from the argument (checked before anything is copied). */
static auth_config *config_make(auth_config *old, const int keep[4],
                                SEXP curve, SEXP plain, SEXP allow, SEXP deny,
                                const char *domain) {
  auth_config *c;
  int ok = 1, i;
  if (!keep[0]) check_curve(curve);
  if (!keep[1]) check_plain(plain);
  if (!keep[2]) check_addresses(allow, "allow");
  if (!keep[3]) check_addresses(deny, "deny");
  c = calloc(1, sizeof *c);
  if (c == NULL) Rf_error("cannot allocate the authenticator's lists");
  c->domain = strdup(domain != NULL ? domain : old->domain);
  ok = c->domain != NULL;
#define COPYV(dst, n, src) \
  do { if (ok && (n) > 0) { dst = calloc((size_t)(n), sizeof(char *)); ok = dst != NULL; \
       for (i = 0; ok && i < (n); i++) { dst[i] = strdup(src[i]); ok = dst[i] != NULL; } } } while (0)
  if (keep[0]) {
    c->curve_on = old->curve_on;
    c->curve_any = old->curve_any;
    c->n_keys = old->n_keys;
    COPYV(c->keys, c->n_keys, old->keys);
  } else if (curve != R_NilValue) {
    c->curve_on = 1;
    c->curve_any = TYPEOF(curve) == LGLSXP;
    if (!c->curve_any) ok = ok && (c->keys = strv_copy(curve, &c->n_keys)) != NULL;
  }
  if (keep[1]) {
    c->n_users = old->n_users;
    COPYV(c->users, c->n_users, old->users);
    COPYV(c->passwords, c->n_users, old->passwords);
  } else if (plain != R_NilValue) {
    int m;
    ok = ok && (c->passwords = strv_copy(plain, &c->n_users)) != NULL;
    ok = ok && (c->users = strv_copy(Rf_getAttrib(plain, R_NamesSymbol), &m)) != NULL;
  }
  if (keep[2]) {
    c->n_allow = old->n_allow;
    COPYV(c->allow, c->n_allow, old->allow);
  } else if (allow != R_NilValue) {
    ok = ok && (c->allow = strv_copy(allow, &c->n_allow)) != NULL;
  }
  if (keep[3]) {
    c->n_deny = old->n_deny;
    COPYV(c->deny, c->n_deny, old->deny);
  } else if (deny != R_NilValue) {
    ok = ok && (c->deny = strv_copy(deny, &c->n_deny)) != NULL;
  }
#undef COPYV
  if (!ok) {
    config_free(c);
    Rf_error("cannot allocate the authenticator's lists");
  }
  return c;
}

/* ---- the handler thread ------------------------------------------------------ */

static int in_list(char **v, int n, const char *s) {
  int i;
  for (i = 0; i < n; i++)
    if (strcmp(v[i], s) == 0) return 1;
  return 0;
}

/* The first bytes of p[0..n) as log text: anything but printable ASCII
 * becomes '?', so that what a peer sends cannot make an invalid R string. */
static void printable(char *out, size_t cap, const void *p, size_t n) {
  const unsigned char *b = p;
  size_t i;
  if (n >= cap) n = cap - 1;
  for (i = 0; i < n; i++) out[i] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '?';
  out[n] = '\0';
}

/* Decide one request; `user` gets the user id (PLAIN user, CURVE key). */
static int decide(const auth_config *c, const char *domain, const char *address,
                  const char *mech, zmq_msg_t *cred, int n_cred, char *user,
                  size_t user_cap, char *reason, size_t reason_cap) {
  if (strcmp(c->domain, "*") != 0 && strcmp(c->domain, domain) != 0) {
    snprintf(reason, reason_cap, "domain \"%s\" is not served", domain);
    return 0;
  }
  if (c->n_allow > 0 && !in_list(c->allow, c->n_allow, address)) {
    snprintf(reason, reason_cap, "address not in the allow list");
    return 0;
  }
  if (c->n_allow == 0 && in_list(c->deny, c->n_deny, address)) {
    snprintf(reason, reason_cap, "address in the deny list");
    return 0;
  }
  if (strcmp(mech, "NULL") == 0) {
    snprintf(reason, reason_cap, "NULL mechanism from an accepted address");
    return 1;
  }
  if (strcmp(mech, "PLAIN") == 0) {
    int i;
    size_t un, pn;
    if (n_cred < 2) {
      snprintf(reason, reason_cap, "malformed PLAIN request");
      return 0;
    }
    un = zmq_msg_size(&cred[0]);
    pn = zmq_msg_size(&cred[1]);
    printable(user, user_cap, zmq_msg_data(&cred[0]), un);
    if (c->users == NULL) {
      snprintf(reason, reason_cap, "PLAIN is not configured (plain = NULL)");
      return 0;
    }
    /* compared as bytes with their lengths: a NUL cannot cut a name short */
    for (i = 0; i < c->n_users; i++) {
      if (strlen(c->users[i]) != un ||
          memcmp(c->users[i], zmq_msg_data(&cred[0]), un) != 0)
        continue;
      if (strlen(c->passwords[i]) == pn &&
          memcmp(c->passwords[i], zmq_msg_data(&cred[1]), pn) == 0) {
        snprintf(reason, reason_cap, "user and password match");
        return 1;
      }
      snprintf(reason, reason_cap, "wrong password");
      return 0;
    }
    snprintf(reason, reason_cap, "unknown user");
    return 0;
  }
  if (strcmp(mech, "CURVE") == 0) {
    if (n_cred < 1 || zmq_msg_size(&cred[0]) != 32) {
      snprintf(reason, reason_cap, "malformed CURVE request");
      return 0;
    }
    zmq_z85_encode(user, zmq_msg_data(&cred[0]), 32);
    if (!c->curve_on) {
      snprintf(reason, reason_cap, "CURVE is not configured (curve = NULL)");
      return 0;
    }
    if (c->curve_any) {
      snprintf(reason, reason_cap, "any CURVE key is accepted (curve = TRUE)");
      return 1;
    }
    if (in_list(c->keys, c->n_keys, user)) {
      snprintf(reason, reason_cap, "client key is allowed");
      return 1;
    }
    snprintf(reason, reason_cap, "client key not allowed");
    return 0;
  }
  snprintf(reason, reason_cap, "mechanism %s is not supported", mech);
  return 0;
}

static void frame_text(zmq_msg_t *m, char *out, size_t cap) {
  printable(out, cap, zmq_msg_data(m), zmq_msg_size(m));
}

static void send_text(void *sock, const char *s, int more) {
  zmq_send(sock, s, strlen(s), more ? ZMQ_SNDMORE : 0);
}

static void handle_request(struct rzmq_auth *a) {
  zmq_msg_t f[MAX_FRAMES];
  int n = 0, more = 1, ok, i;
  char domain[256] = "", mech[8] = "", address[64] = "", user[256] = "";
  char reason[96] = "";
  auth_entry *e;
  struct timespec now;
  /* read every frame of the request (frames past MAX_FRAMES are dropped) */
  while (more) {
    zmq_msg_t tmp, *m = n < MAX_FRAMES ? &f[n] : &tmp;
    zmq_msg_init(m);
    if (zmq_msg_recv(m, a->zap, 0) < 0) {
      zmq_msg_close(m);
      break;
    }
    more = zmq_msg_more(m);
    if (m == &tmp) zmq_msg_close(m);
    else n++;
  }
  if (n < 6) { /* not a ZAP request: answer so the REP socket can go on */
    send_text(a->zap, "1.0", 1);
    if (n >= 2) zmq_send(a->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
    else send_text(a->zap, "", 1);
    send_text(a->zap, "500", 1);
    send_text(a->zap, "malformed ZAP request", 1);
    send_text(a->zap, "", 1);
    send_text(a->zap, "", 0);
    for (i = 0; i < n; i++) zmq_msg_close(&f[i]);
    return;
  }
  frame_text(&f[2], domain, sizeof domain);
  frame_text(&f[3], address, sizeof address);
  frame_text(&f[5], mech, sizeof mech);
  pthread_mutex_lock(&a->mu);
  ok = decide(a->cfg, domain, address, mech, &f[6], n - 6, user, sizeof user,
              reason, sizeof reason);
  e = &a->log[(a->log_start + a->log_n) % LOG_CAP];
  if (a->log_n < LOG_CAP) a->log_n++;
  else a->log_start = (a->log_start + 1) % LOG_CAP;
  rzmq_clock_realtime(&now);
  e->time = now.tv_sec + now.tv_nsec / 1e9;
  snprintf(e->mechanism, sizeof e->mechanism, "%s", mech);
  snprintf(e->address, sizeof e->address, "%s", address);
  snprintf(e->user, sizeof e->user, "%s", user);
  e->allowed = ok;
  snprintf(e->reason, sizeof e->reason, "%s", reason);
  pthread_mutex_unlock(&a->mu);
  /* reply: version, request id, status, text, user id, metadata */
  send_text(a->zap, "1.0", 1);
  zmq_send(a->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
  send_text(a->zap, ok ? "200" : "400", 1);
  send_text(a->zap, ok ? "OK" : reason, 1);
  send_text(a->zap, ok ? user : "", 1);
  send_text(a->zap, "", 0);
  for (i = 0; i < n; i++) zmq_msg_close(&f[i]);
}

static void *auth_thread(void *arg) {
  struct rzmq_auth *a = arg;
  int linger = 0;
  zmq_pollitem_t items[2];
  memset(items, 0, sizeof items);
  items[0].socket = a->zap;
  items[0].events = ZMQ_POLLIN;
  items[1].socket = a->ctl_thread;
  items[1].events = ZMQ_POLLIN;
  for (;;) {
    if (zmq_poll(items, 2, -1) < 0) {
      if (zmq_errno() == EINTR) continue;
      break; /* ETERM: the context is going */
    }
    if (items[1].revents & ZMQ_POLLIN) break; /* asked to stop */
    if (items[0].revents & ZMQ_POLLIN) handle_request(a);
  }
  zmq_setsockopt(a->zap, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(a->ctl_thread, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(a->zap);
  zmq_close(a->ctl_thread);
  return NULL;
}

/* ---- handles --------------------------------------------------------------------- */

void rzmq_auth_stop(struct rzmq_auth *a) {
  int linger = 0;
  if (a == NULL || a->ctx == NULL) return;
  /* wake the thread; it closes its sockets and ends at once */
  zmq_send(a->ctl_main, "", 0, 0);
  pthread_join(a->tid, NULL);
  zmq_setsockopt(a->ctl_main, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(a->ctl_main);
  a->ctl_main = NULL;
  a->ctx->auth = NULL;
  a->ctx = NULL;
  a->head.closed = 1;
}

static void auth_free(struct rzmq_auth *a) {
  config_free(a->cfg);
  free(a->log);
  pthread_mutex_destroy(&a->mu);
  free(a);
}

static void auth_finalize(SEXP x) {
  struct rzmq_auth *a = rzmq_handle_finalizing(x);
  if (a == NULL) return;
  rzmq_auth_stop(a);
  auth_free(a);
}

/* Sockets made here before the thread exists; closed again on failure. */
static void auth_sockets_close(struct rzmq_auth *a) {
  int linger = 0;
  void **s[3];
  int i;
  s[0] = &a->zap;
  s[1] = &a->ctl_thread;
  s[2] = &a->ctl_main;
  for (i = 0; i < 3; i++)
    if (*s[i] != NULL) {
      zmq_setsockopt(*s[i], ZMQ_LINGER, &linger, sizeof linger);
      zmq_close(*s[i]);
      *s[i] = NULL;
    }
}

SEXP rzmq_auth_new(SEXP context, SEXP curve, SEXP plain, SEXP allow,
                   SEXP deny, SEXP domain) {
  static long seq = 0;
  static const int keep_none[4] = {0, 0, 0, 0};
  rzmq_ctx *ctx = rzmq_context_get(context, "context");
  const char *dom = rzmq_arg_string(domain, "domain", 0);
  struct rzmq_auth *a;
  auth_config *cfg;
  char ep[64];
  SEXP ptr;
  int err;
  if (ctx->auth != NULL)
    Rf_error("`context` already has an authenticator: configure it with "
             "configure.authenticator(), or destroy.authenticator() it first");
  cfg = config_make(NULL, keep_none, curve, plain, allow, deny, dom);
  a = calloc(1, sizeof *a);
  if (a != NULL) a->log = calloc(LOG_CAP, sizeof *a->log);
  if (a == NULL || a->log == NULL) {
    config_free(cfg);
    if (a != NULL) free(a);
    Rf_error("cannot allocate an authenticator");
  }
  a->cfg = cfg;
  pthread_mutex_init(&a->mu, NULL);
  a->head.closed = 1; /* until the thread runs */
  /* the owner first; prot = the context's handle, kept alive with it */
  ptr = PROTECT(rzmq_handle_new(a, RZMQ_AUTH, context, auth_finalize, TRUE));
  a->seq = ++seq;
  snprintf(ep, sizeof ep, "inproc://rzmq-authenticator-%ld-%ld",
           (long)rzmq_fork_gen, a->seq);
  a->zap = zmq_socket(ctx->handle, ZMQ_REP);
  a->ctl_thread = zmq_socket(ctx->handle, ZMQ_PAIR);
  a->ctl_main = zmq_socket(ctx->handle, ZMQ_PAIR);
  err = a->zap && a->ctl_thread && a->ctl_main ? 0 : zmq_errno();
  if (err == 0 && zmq_bind(a->zap, "inproc://zeromq.zap.01") != 0) {
    err = zmq_errno();
    auth_sockets_close(a);
    rzmq_set_errno(err);
    Rf_error("cannot start an authenticator on `context`: %s%s",
             zmq_strerror(err), err == EADDRINUSE ?
             " (another ZAP handler is bound to inproc://zeromq.zap.01)" : "");
  }
  if (err == 0 && zmq_bind(a->ctl_thread, ep) != 0) err = zmq_errno();
  if (err == 0 && zmq_connect(a->ctl_main, ep) != 0) err = zmq_errno();
  /* the thread takes the ZAP socket from here: pthread_create is a full
   * memory barrier, as libzmq asks of a socket moving between threads */
  if (err == 0 && pthread_create(&a->tid, NULL, auth_thread, a) != 0)
    err = EAGAIN;
  if (err != 0) {
    auth_sockets_close(a);
    rzmq_set_errno(err);
    Rf_error("cannot start an authenticator: %s", zmq_strerror(err));
  }
  a->ctx = ctx;
  ctx->auth = a;
  a->head.closed = 0;
  UNPROTECT(1);
  return ptr;
}

static struct rzmq_auth *auth_get(SEXP x) {
  return rzmq_handle_get(x, RZMQ_AUTH, "auth");
}

SEXP rzmq_auth_configure(SEXP auth, SEXP set, SEXP curve, SEXP plain,
                         SEXP allow, SEXP deny) {
  struct rzmq_auth *a = auth_get(auth);
  auth_config *fresh, *old;
  int keep[4], i;
  if (TYPEOF(set) != LGLSXP || XLENGTH(set) != 4)
    Rf_error("internal: `set` must be 4 logicals");
  for (i = 0; i < 4; i++) keep[i] = !LOGICAL(set)[i];
  /* R alone replaces cfg (the thread only reads it): no lock to read it here */
  fresh = config_make(a->cfg, keep, curve, plain, allow, deny, NULL);
  pthread_mutex_lock(&a->mu);
  old = a->cfg;
  a->cfg = fresh;
  pthread_mutex_unlock(&a->mu);
  config_free(old);
  return Rf_ScalarLogical(TRUE);
}

SEXP rzmq_auth_destroy(SEXP auth) {
  struct rzmq_auth *a = rzmq_handle_peek(auth, RZMQ_AUTH);
  if (a != NULL && a->head.closed) return Rf_ScalarLogical(TRUE);
  rzmq_auth_stop(auth_get(auth));
  return Rf_ScalarLogical(TRUE);
}

SEXP rzmq_auth_log(SEXP auth) {
  struct rzmq_auth *a = rzmq_handle_peek(auth, RZMQ_AUTH);
  auth_entry *copy;
  int n, i;
  SEXP out, nm, col[6];
  static const char *names[6] = {"time", "mechanism", "address",
                                 "user", "allowed", "reason"};
  if (a == NULL) a = auth_get(auth); /* raises */
  /* a destroyed authenticator still shows what it decided */
  copy = (auth_entry *)R_alloc(LOG_CAP, sizeof *copy);
  pthread_mutex_lock(&a->mu);
  n = a->log_n;
  for (i = 0; i < n; i++) copy[i] = a->log[(a->log_start + i) % LOG_CAP];
  pthread_mutex_unlock(&a->mu);
  out = PROTECT(Rf_allocVector(VECSXP, 6));
  col[0] = Rf_allocVector(REALSXP, n);
  SET_VECTOR_ELT(out, 0, col[0]);
  for (i = 1; i < 6; i++) {
    col[i] = Rf_allocVector(i == 4 ? LGLSXP : STRSXP, n);
    SET_VECTOR_ELT(out, i, col[i]);
  }
  for (i = 0; i < n; i++) {
    REAL(col[0])[i] = copy[i].time;
    SET_STRING_ELT(col[1], i, Rf_mkCharCE(copy[i].mechanism, CE_UTF8));
    SET_STRING_ELT(col[2], i, Rf_mkCharCE(copy[i].address, CE_UTF8));
    SET_STRING_ELT(col[3], i, Rf_mkCharCE(copy[i].user, CE_UTF8));
    LOGICAL(col[4])[i] = copy[i].allowed;
    SET_STRING_ELT(col[5], i, Rf_mkCharCE(copy[i].reason, CE_UTF8));
  }
  nm = PROTECT(Rf_allocVector(STRSXP, 6));
  for (i = 0; i < 6; i++) SET_STRING_ELT(nm, i, Rf_mkChar(names[i]));
  Rf_setAttrib(out, R_NamesSymbol, nm);
  UNPROTECT(2);
  return out;
}
