/* revoke.c: configure.authenticator(drop = TRUE). libzmq cannot disconnect
 * one peer, and a ZAP request does not say which connection it is for. What
 * ties a connection to its admission: the authenticator's reply gives it
 * metadata (RZMQ_ADMISSION: which authenticator, which admission, under
 * which lists, mechanism, address, domain) that libzmq attaches to every
 * message from it, with its User-Id and (ZMQ_SRCFD) its descriptor. Each
 * message R receives is checked against the lists of every drop made since
 * its connection was admitted: a refused one is never delivered, and its
 * descriptor is shut down, which makes libzmq drop the connection.
 * Connections seen before a drop are closed by the drop itself. Everything
 * here runs on R's thread. */
#include "rzmq.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_MAX 64     /* drops remembered; older admissions are refused */
#define KNOWN_FD_MAX 65536

typedef struct {
  int used, closed;
  long auth_id, adm, gen;
  unsigned long long pw; /* PLAIN: the hash of the password it gave */
  char mech[8], address[64], user[256];
  char *domain;
  int ends_ok;
  rzmq_conn_ends ends;
} known_conn;

struct rzmq_revoke {
  long auth_id;
  rzmq_lists *snap[SNAP_MAX]; /* the lists of each drop, oldest first */
  int n_snap;
  long floor; /* admitted under lists older than this: refused */
  known_conn *known; /* by descriptor */
  int n_known;
  /* the last message admitted: the next of the same connection (same
   * descriptor, same admission text, no drop since) needs no new look */
  int last_fd;
  long n_drops, last_drops;
  char last_text[512];
};

rzmq_revoke *rzmq_revoke_new(long auth_id) {
  rzmq_revoke *r = calloc(1, sizeof *r);
  if (r != NULL) {
    r->auth_id = auth_id;
    r->last_fd = -1;
  }
  return r;
}

void rzmq_revoke_free(rzmq_revoke *r) {
  int i;
  if (r == NULL) return;
  for (i = 0; i < r->n_snap; i++) rzmq_lists_free(r->snap[i]);
  for (i = 0; i < r->n_known; i++) free(r->known[i].domain);
  free(r->known);
  free(r);
}

void rzmq_admission_text(char *out, size_t cap, long auth_id, long adm,
                         long gen, const rzmq_auth_request *q) {
  unsigned long long pw =
      q->password != NULL ? rzmq_password_hash(q->password, q->password_len) : 0;
  snprintf(out, cap, "%ld %ld %ld %016llx %s %s %s", auth_id, adm, gen, pw,
           q->mechanism, q->address[0] ? q->address : "-", q->domain);
}

/* Read an admission back into `k`; 0 if it is not one of ours. */
static int admission_parse(const char *s, known_conn *k, const char **domain) {
  char *end;
  const char *p = s;
  size_t n;
  int f;
  long v[3];
  for (f = 0; f < 3; f++) {
    v[f] = strtol(p, &end, 10);
    if (end == p || *end != ' ') return 0;
    p = end + 1;
  }
  k->auth_id = v[0];
  k->adm = v[1];
  k->gen = v[2];
  k->pw = strtoull(p, &end, 16);
  if (end != p + 16 || *end != ' ') return 0;
  p = end + 1;
  n = strcspn(p, " ");
  if (n == 0 || n >= sizeof k->mech || p[n] != ' ') return 0;
  memcpy(k->mech, p, n);
  k->mech[n] = '\0';
  p += n + 1;
  n = strcspn(p, " ");
  if (n == 0 || n >= sizeof k->address || p[n] != ' ') return 0;
  memcpy(k->address, p, n);
  k->address[n] = '\0';
  if (strcmp(k->address, "-") == 0) k->address[0] = '\0';
  *domain = p + n + 1;
  return 1;
}

/* Would the drops since `k` was admitted still admit it? 1, or 0 with a
 * reason. */
static int still_admitted(const rzmq_revoke *r, const known_conn *k,
                          const char *domain, char *reason, size_t cap) {
  rzmq_auth_request q;
  unsigned char key[32];
  /* admitted by an earlier authenticator of the context: before any drop */
  long admitted = k->auth_id == r->auth_id ? k->gen : LONG_MIN;
  int i;
  if (admitted < r->floor) {
    snprintf(reason, cap, "admitted before the %d drops remembered",
             SNAP_MAX);
    return 0;
  }
  memset(&q, 0, sizeof q);
  q.domain = domain;
  q.address = k->address;
  q.mechanism = k->mech;
  q.password_hash = k->pw;
  q.user = NULL;
  if (strcmp(k->mech, "CURVE") == 0) {
    if (strlen(k->user) == 40 && rzmq_z85_valid(k->user, 40) &&
        zmq_z85_decode(key, k->user) != NULL) {
      q.user = key;
      q.user_len = 32;
    }
  } else if (strcmp(k->mech, "PLAIN") == 0) {
    q.user = k->user;
    q.user_len = strlen(k->user);
  }
  for (i = r->n_snap - 1; i >= 0 && rzmq_lists_gen(r->snap[i]) > admitted; i--)
    if (!rzmq_lists_decide(r->snap[i], &q, reason, cap)) return 0;
  return 1;
}

/* Close the connection on `fd` if it is still the one `k` saw: 1 if
 * closed, 0 if it is gone already, -1 if its ends were never known. */
static int close_known(known_conn *k, int fd) {
  rzmq_conn_ends now;
  if (!k->ends_ok) return -1;
  if (!rzmq_fd_ends(fd, &now) || memcmp(&now, &k->ends, sizeof now) != 0)
    return 0;
  rzmq_socket_shutdown(fd);
  return 1;
}

static void log_drop(rzmq_revoke_log_fn log, void *ud, const known_conn *k,
                     const char *why, int closed) {
  char reason[160];
  snprintf(reason, sizeof reason, "revoked (drop = TRUE): %s; %s", why,
           closed == 1 ? "connection closed" : "its messages are dropped");
  log(ud, k->mech, k->address, k->user, reason);
}

void rzmq_revoke_drop(rzmq_revoke *r, rzmq_lists *now, rzmq_revoke_log_fn log,
                      void *ud) {
  int fd, closed;
  char why[96];
  if (r->n_snap == SNAP_MAX) { /* forget the oldest drop, failing closed */
    r->floor = rzmq_lists_gen(r->snap[0]);
    rzmq_lists_free(r->snap[0]);
    memmove(r->snap, r->snap + 1, (SNAP_MAX - 1) * sizeof *r->snap);
    r->n_snap--;
  }
  r->snap[r->n_snap++] = rzmq_lists_ref(now);
  r->n_drops++;
  for (fd = 0; fd < r->n_known; fd++) {
    known_conn *k = &r->known[fd];
    if (!k->used || k->closed) continue;
    if (still_admitted(r, k, k->domain, why, sizeof why)) continue;
    k->closed = 1;
    closed = close_known(k, fd);
    /* one that ended before stays marked (its queued messages are
     * dropped), unreported: there is nothing to close */
    if (closed != 0) log_drop(log, ud, k, why, closed);
  }
}

/* Remember the connection of a message: the first time it is seen, where
 * its descriptor goes (only if that agrees with its admission's address: a
 * descriptor closed and reused since is not taken for it). */
static known_conn *learn(rzmq_revoke *r, int fd, const known_conn *k,
                         const char *domain) {
  known_conn *e;
  unsigned char a[16];
  if (fd < 0 || fd >= KNOWN_FD_MAX) return NULL;
  if (fd >= r->n_known) {
    int n = fd < 64 ? 64 : 2 * fd;
    known_conn *more;
    if (n > KNOWN_FD_MAX) n = KNOWN_FD_MAX;
    more = realloc(r->known, (size_t)n * sizeof *more);
    if (more == NULL) return NULL;
    memset(more + r->n_known, 0, (size_t)(n - r->n_known) * sizeof *more);
    r->known = more;
    r->n_known = n;
  }
  e = &r->known[fd];
  if (e->used && e->adm == k->adm && e->auth_id == k->auth_id) return e;
  free(e->domain);
  *e = *k;
  e->used = 1;
  e->closed = 0;
  e->domain = malloc(strlen(domain) + 1);
  if (e->domain == NULL) {
    e->used = 0;
    return NULL;
  }
  strcpy(e->domain, domain);
  e->ends_ok = rzmq_fd_ends(fd, &e->ends) &&
               rzmq_addr_parse(k->address, a, NULL) &&
               memcmp(a, e->ends.peer, 16) == 0;
  return e;
}

/* Would libzmq have asked the authenticator about this socket's peers? */
static int zap_applies(void *zsock) {
  int mech = 0, server = 0;
  char dom[256];
  size_t len = sizeof mech;
  if (zmq_getsockopt(zsock, ZMQ_MECHANISM, &mech, &len) != 0) return 1;
  len = sizeof server;
  if (mech == ZMQ_CURVE)
    return zmq_getsockopt(zsock, ZMQ_CURVE_SERVER, &server, &len) != 0 || server;
  if (mech == ZMQ_PLAIN)
    return zmq_getsockopt(zsock, ZMQ_PLAIN_SERVER, &server, &len) != 0 || server;
  len = sizeof dom;
  return zmq_getsockopt(zsock, ZMQ_ZAP_DOMAIN, dom, &len) != 0 || len > 1;
}

int rzmq_revoke_admits(rzmq_revoke *r, void *zsock, zmq_msg_t *msg,
                       rzmq_revoke_log_fn log, void *ud) {
  const char *text = zmq_msg_gets(msg, RZMQ_ADMISSION), *user, *domain;
  int fd = zmq_msg_get(msg, ZMQ_SRCFD);
  known_conn k, *e;
  char why[96];
  memset(&k, 0, sizeof k);
  if (text != NULL && fd == r->last_fd && r->last_drops == r->n_drops &&
      strcmp(text, r->last_text) == 0)
    return 1; /* the connection of the last message, nothing revoked since */
  if (text == NULL || !admission_parse(text, &k, &domain)) {
    /* no admission of ours: inproc, a client socket, a peer the lists never
     * applied to; or a connection that cannot be attributed, refused
     * once anything was revoked */
    if ((r->n_snap == 0 && r->floor == 0) || fd < 0 || !zap_applies(zsock))
      return 1;
    e = fd < r->n_known ? &r->known[fd] : NULL;
    if (e == NULL || !e->used || e->adm != -1) {
      memset(&k, 0, sizeof k);
      k.adm = -1;
      snprintf(k.mech, sizeof k.mech, "?");
      e = learn(r, fd, &k, "");
      if (e != NULL) e->closed = 1;
      log_drop(log, ud, &k, "a connection the authenticator did not admit",
               0);
    }
    return 0;
  }
  user = zmq_msg_gets(msg, "User-Id");
  snprintf(k.user, sizeof k.user, "%s", user != NULL ? user : "");
  e = learn(r, fd, &k, domain);
  if (e != NULL && e->closed) return 0; /* logged when it was closed */
  if ((r->n_snap == 0 && r->floor == 0) ||
      still_admitted(r, &k, domain, why, sizeof why)) {
    if (strlen(text) < sizeof r->last_text) {
      r->last_fd = fd;
      r->last_drops = r->n_drops;
      strcpy(r->last_text, text);
    }
    return 1;
  }
  if (e != NULL) e->closed = 1;
  log_drop(log, ud, &k, why, e != NULL ? close_known(e, fd) : -1);
  return 0;
}
