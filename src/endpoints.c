/* endpoints.c: what a socket is bound and connected to now, for
 * socket.endpoints(). socket.c notes each successful bind, connect, unbind
 * and disconnect here; libzmq has no call that lists them. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getaddrinfo */
#endif
#include "rzmq.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32 /* there, ends are matched by their text only */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#define RESOLVE 1
#endif

struct rzmq_endpoint {
  char *text; /* as ZMQ_LAST_ENDPOINT gave it: a bind's resolved endpoint */
  int bind;
  rzmq_endpoint *next;
};

static void add(rzmq_sock *s, const char *addr, int bind) {
  char last[1024];
  size_t len = sizeof last;
  rzmq_endpoint *e, **tail;
  /* the endpoint just made: a wildcard port or ipc path shows what it got */
  if (zmq_getsockopt(s->handle, ZMQ_LAST_ENDPOINT, last, &len) != 0 ||
      len == 0 || last[0] == '\0')
    snprintf(last, sizeof last, "%s", addr);
  last[sizeof last - 1] = '\0';
  e = malloc(sizeof *e);
  if (e != NULL) e->text = malloc(strlen(last) + 1);
  if (e == NULL || e->text == NULL) {
    free(e);
    rzmq_fail_stop(ENOMEM, "cannot allocate memory to record endpoint \"%s\"",
                   last);
  }
  strcpy(e->text, last);
  e->bind = bind;
  e->next = NULL;
  for (tail = &s->endpoints; *tail != NULL; tail = &(*tail)->next) {}
  *tail = e; /* in the order they were made */
}

/* Remove the rows `match` accepts (bind rows only if `binds_only`). */
static int drop(rzmq_sock *s, int (*match)(const char *, const void *),
                const void *data, int binds_only) {
  rzmq_endpoint **p = &s->endpoints;
  int n = 0;
  while (*p != NULL) {
    rzmq_endpoint *e = *p;
    if ((!binds_only || e->bind) && match(e->text, data)) {
      *p = e->next;
      free(e->text);
      free(e);
      n++;
    } else {
      p = &e->next;
    }
  }
  return n;
}

static int same_text(const char *text, const void *addr) {
  return strcmp(text, (const char *)addr) == 0;
}

#ifdef RESOLVE
/* "tcp://HOST:PORT" split; 0 if it is not of that form. */
static int tcp_parts(const char *ep, char *host, size_t hlen,
                     const char **port) {
  const char *h, *colon;
  size_t n;
  if (strncmp(ep, "tcp://", 6) != 0) return 0;
  h = ep + 6;
  colon = strrchr(h, ':');
  if (colon == NULL || strchr(h, ';') != NULL) return 0;
  if (*h == '[' && colon > h && colon[-1] == ']') { /* [IPv6] */
    h++;
    n = (size_t)(colon - 1 - h);
  } else {
    n = (size_t)(colon - h);
  }
  if (n == 0 || n >= hlen) return 0;
  memcpy(host, h, n);
  host[n] = '\0';
  *port = colon + 1;
  return 1;
}

typedef struct {
  const char *port;
  struct addrinfo *ai;
} resolved;

/* A tcp row at the port given whose host is one the given host resolves to. */
static int same_address(const char *text, const void *data) {
  const resolved *r = data;
  char host[256], num[64];
  const char *port;
  struct addrinfo *a;
  if (!tcp_parts(text, host, sizeof host, &port) || strcmp(port, r->port) != 0)
    return 0;
  for (a = r->ai; a != NULL; a = a->ai_next) {
    const void *where = a->ai_family == AF_INET6
        ? (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr
        : (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr;
    if (inet_ntop(a->ai_family, where, num, sizeof num) != NULL &&
        strcmp(num, host) == 0)
      return 1;
  }
  return 0;
}
#endif

/* libzmq ends an endpoint found by its text or, for tcp, by the address its
 * host resolves to ("tcp://localhost:5555" ends "tcp://127.0.0.1:5555"):
 * every connection made to it, and of an inproc name its bind first. */
static void remove_ended(rzmq_sock *s, const char *addr) {
#ifdef RESOLVE
  char host[256];
  const char *port;
  struct addrinfo hints, *ai = NULL;
  resolved r;
#endif
  if (strncmp(addr, "inproc://", 9) == 0 && drop(s, same_text, addr, 1) > 0)
    return;
  if (drop(s, same_text, addr, 0) > 0) return;
#ifdef RESOLVE
  if (!tcp_parts(addr, host, sizeof host, &port)) return;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, NULL, &hints, &ai) != 0) return;
  r.port = port;
  r.ai = ai;
  drop(s, same_address, &r, 0);
  freeaddrinfo(ai);
#endif
}

void rzmq_endpoints_note(rzmq_sock *s, const char *addr, int bind, int added) {
  if (added) add(s, addr, bind);
  else remove_ended(s, addr);
}

void rzmq_endpoints_free(rzmq_sock *s) {
  while (s->endpoints != NULL) {
    rzmq_endpoint *e = s->endpoints;
    s->endpoints = e->next;
    free(e->text);
    free(e);
  }
}

SEXP rzmq_socket_endpoints(SEXP sock) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  rzmq_endpoint *e;
  static const char *columns[] = {"endpoint", "mode", ""};
  R_xlen_t n = 0, i = 0;
  SEXP out, ep, mode, rn;
  for (e = s->endpoints; e != NULL; e = e->next) n++;
  out = PROTECT(rzmq_named(VECSXP, columns));
  ep = Rf_allocVector(STRSXP, n);
  SET_VECTOR_ELT(out, 0, ep);
  mode = Rf_allocVector(STRSXP, n);
  SET_VECTOR_ELT(out, 1, mode);
  for (e = s->endpoints; e != NULL; e = e->next, i++) {
    SET_STRING_ELT(ep, i, Rf_mkCharCE(e->text, CE_UTF8));
    SET_STRING_ELT(mode, i, Rf_mkChar(e->bind ? "bind" : "connect"));
  }
  rn = PROTECT(Rf_allocVector(INTSXP, 2)); /* compact row names: 1..n */
  INTEGER(rn)[0] = NA_INTEGER;
  INTEGER(rn)[1] = -(int)n;
  Rf_setAttrib(out, R_RowNamesSymbol, rn);
  Rf_setAttrib(out, R_ClassSymbol, Rf_mkString("data.frame"));
  UNPROTECT(2);
  return out;
}
