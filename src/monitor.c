/* monitor.c: socket event monitors. monitor.socket() has libzmq report a
 * socket's events to an inproc endpoint and returns the PAIR socket that
 * reads them there; receive.event() and read.events() decode the messages. */
#include "rzmq.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* libzmq 4.2 has the handshake events only as drafts: with 4.3's values they
 * can be asked for there too, and never arrive. */
#ifndef ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
#define ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL 0x0800
#endif
#ifndef ZMQ_EVENT_HANDSHAKE_SUCCEEDED
#define ZMQ_EVENT_HANDSHAKE_SUCCEEDED 0x1000
#endif
#ifndef ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
#define ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL 0x2000
#endif
#ifndef ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
#define ZMQ_EVENT_HANDSHAKE_FAILED_AUTH 0x4000
#endif

static const struct {
  const char *name;
  unsigned id;
} event_table[] = {
    {"CONNECTED", ZMQ_EVENT_CONNECTED},
    {"CONNECT_DELAYED", ZMQ_EVENT_CONNECT_DELAYED},
    {"CONNECT_RETRIED", ZMQ_EVENT_CONNECT_RETRIED},
    {"LISTENING", ZMQ_EVENT_LISTENING},
    {"BIND_FAILED", ZMQ_EVENT_BIND_FAILED},
    {"ACCEPTED", ZMQ_EVENT_ACCEPTED},
    {"ACCEPT_FAILED", ZMQ_EVENT_ACCEPT_FAILED},
    {"CLOSED", ZMQ_EVENT_CLOSED},
    {"CLOSE_FAILED", ZMQ_EVENT_CLOSE_FAILED},
    {"DISCONNECTED", ZMQ_EVENT_DISCONNECTED},
    {"MONITOR_STOPPED", ZMQ_EVENT_MONITOR_STOPPED},
    {"HANDSHAKE_FAILED_NO_DETAIL", ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL},
    {"HANDSHAKE_SUCCEEDED", ZMQ_EVENT_HANDSHAKE_SUCCEEDED},
    {"HANDSHAKE_FAILED_PROTOCOL", ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL},
    {"HANDSHAKE_FAILED_AUTH", ZMQ_EVENT_HANDSHAKE_FAILED_AUTH},
};
#define N_EVENTS (sizeof event_table / sizeof event_table[0])

/* "ZMQ_EVENT_CONNECTED", "CONNECTED" and "connected" name the same event. */
static int event_from_name(const char *name) {
  size_t i;
  if (strncasecmp(name, "ZMQ_EVENT_", 10) == 0) name += 10;
  for (i = 0; i < N_EVENTS; i++)
    if (strcasecmp(name, event_table[i].name) == 0) return (int)i;
  return -1;
}

static SEXP event_name(unsigned id) {
  char hex[16];
  size_t i;
  for (i = 0; i < N_EVENTS; i++)
    if (event_table[i].id == id) return Rf_mkChar(event_table[i].name);
  /* an event of a newer libzmq: its number, rather than an error */
  snprintf(hex, sizeof hex, "0x%04X", id);
  return Rf_mkChar(hex);
}

static int events_mask(SEXP events) {
  char valid[512] = "";
  R_xlen_t i;
  size_t k;
  int mask = 0;
  if (TYPEOF(events) != STRSXP || XLENGTH(events) == 0)
    Rf_error("`events` must be \"all\" or a character vector of event names");
  for (i = 0; i < XLENGTH(events); i++)
    if (STRING_ELT(events, i) == NA_STRING)
      Rf_error("`events` must not hold NA");
  for (i = 0; i < XLENGTH(events); i++) {
    SEXP e = STRING_ELT(events, i);
    const char *name;
    int j;
    name = Rf_translateCharUTF8(e);
    if (strcasecmp(name, "all") == 0) return ZMQ_EVENT_ALL;
    j = event_from_name(name);
    if (j >= 0) {
      mask |= (int)event_table[j].id;
      continue;
    }
    for (k = 0; k < N_EVENTS; k++) {
      if (k > 0) strcat(valid, ", ");
      strcat(valid, event_table[k].name);
    }
    Rf_error("`events` has unknown event \"%s\"; use \"all\" or any of %s",
             name, valid);
  }
  return mask;
}

/* a socket made by monitor.socket(), or an R error naming `monitor` */
static rzmq_sock *monitor_get(SEXP x) {
  rzmq_sock *m = rzmq_socket_get(x, "monitor");
  if (!m->monitor)
    Rf_error("`monitor` must be a socket made by monitor.socket(), not an "
             "ordinary zmq socket");
  return m;
}

SEXP rzmq_monitor_new(SEXP sock, SEXP events) {
  static unsigned long made = 0;
  rzmq_sock *s = rzmq_socket_get(sock, "socket"), *m;
  int mask = events_mask(events), err, unlimited = 0;
  char endpoint[96];
  SEXP type, mon;
  /* inproc names are per context; the pid keeps a forked child's apart */
  snprintf(endpoint, sizeof endpoint, "inproc://rzmq-monitor-%ld-%lu",
           (long)getpid(), ++made);
  type = PROTECT(Rf_mkString("ZMQ_PAIR"));
  /* the monitored socket's handle protects its context's */
  mon = PROTECT(rzmq_socket_new(R_ExternalPtrProtected(sock), type));
  m = rzmq_socket_get(mon, "monitor");
  m->monitor = 1;
  /* no high-water mark: libzmq would block the thread reporting an event
   * while the queue is full; unread events take memory instead */
  if (zmq_setsockopt(m->handle, ZMQ_RCVHWM, &unlimited, sizeof unlimited) != 0 ||
      zmq_setsockopt(m->handle, ZMQ_SNDHWM, &unlimited, sizeof unlimited) != 0 ||
      /* connect before libzmq binds: inproc allows it, and the reader is
       * there before libzmq's first event */
      zmq_connect(m->handle, endpoint) != 0 ||
      zmq_socket_monitor(s->handle, endpoint, mask) != 0) {
    err = zmq_errno();
    /* libzmq may have stopped an earlier monitor already: then none runs */
    if (s->watcher != NULL) {
      zmq_socket_monitor(s->handle, NULL, 0);
      s->watcher->watched = NULL;
      s->watcher = NULL;
    }
    rzmq_socket_release(m);
    UNPROTECT(2);
    return rzmq_fail_null(err);
  }
  /* libzmq has replaced an earlier monitor (it got MONITOR_STOPPED) */
  if (s->watcher != NULL) s->watcher->watched = NULL;
  s->watcher = m;
  m->watched = s;
  m->attached = 1;
  UNPROTECT(2);
  return mon;
}

/* ---- reading one event -------------------------------------------------------
 * libzmq's (v1) event message: a 6-byte frame, the uint16 event id and a
 * uint32 value in native byte order, then a frame with the endpoint. */

typedef struct {
  zmq_msg_t *msg;
} endpoint_job;

static SEXP endpoint_body(void *d) {
  zmq_msg_t *msg = ((endpoint_job *)d)->msg;
  const unsigned char *p = zmq_msg_data(msg);
  size_t n = zmq_msg_size(msg);
  if (n > 2147483647u) Rf_error("the monitor's endpoint frame is too long");
  return Rf_mkCharLenCE((const char *)p, (int)n,
                        rzmq_valid_utf8(p, n) ? CE_UTF8 : CE_BYTES);
}

static void endpoint_cleanup(void *d, Rboolean jump) {
  (void)jump;
  zmq_msg_close(((endpoint_job *)d)->msg);
}

/* Read and drop what is left of a message, so the next read starts at the
 * next message; the rest of a multipart message is already here. */
static void drain(rzmq_sock *m, zmq_msg_t *msg) {
  while (zmq_msg_more(msg)) {
    zmq_msg_close(msg);
    if (rzmq_frame_recv(m, msg, 1) != 0) return; /* closed */
  }
  zmq_msg_close(msg);
}

/* One event from `m`: 0, or an errno value when nothing was read. A message
 * that is not an event is read to its end, then an R error. `*endpoint` is
 * left unprotected for the caller. */
static int event_recv(rzmq_sock *m, int dontwait, unsigned *id,
                      double *value, SEXP *endpoint) {
  zmq_msg_t msg;
  unsigned char head[6];
  size_t n;
  uint16_t ev;
  uint32_t v;
  endpoint_job job;
  int err = rzmq_frame_recv(m, &msg, dontwait);
  if (err != 0) return err;
  n = zmq_msg_size(&msg);
  if (n != sizeof head || !zmq_msg_more(&msg)) {
    drain(m, &msg);
    Rf_error("not a monitor event: expected a first frame of 6 bytes and a "
             "second frame, received %.0f bytes%s", (double)n,
             n == sizeof head ? " and no second frame" : "");
  }
  memcpy(head, zmq_msg_data(&msg), sizeof head);
  zmq_msg_close(&msg);
  memcpy(&ev, head, sizeof ev);
  memcpy(&v, head + 2, sizeof v);
  /* the second frame came with the first (no wait, nothing to interrupt) */
  err = rzmq_frame_recv(m, &msg, 1);
  if (err != 0) return err;
  if (zmq_msg_more(&msg)) {
    drain(m, &msg);
    Rf_error("not a monitor event: more than 2 frames");
  }
  job.msg = &msg;
  *endpoint = rzmq_protect(endpoint_body, &job, endpoint_cleanup, &job, 1);
  *id = ev;
  *value = (double)v;
  return 0;
}

/* the fields of receive.event()'s list */
static const char *event_names[] = {"event", "value", "endpoint", ""};

SEXP rzmq_monitor_receive(SEXP monitor, SEXP dontwait) {
  rzmq_sock *m = monitor_get(monitor);
  int dw = rzmq_arg_flag(dontwait, "dont.wait"), err;
  unsigned id;
  double value;
  SEXP endpoint, out;
  err = event_recv(m, dw, &id, &value, &endpoint);
  if (err != 0) return rzmq_fail_null(err);
  PROTECT(endpoint);
  out = PROTECT(rzmq_named(VECSXP, event_names));
  SET_VECTOR_ELT(out, 0, Rf_ScalarString(event_name(id)));
  SET_VECTOR_ELT(out, 1, Rf_ScalarReal(value));
  SET_VECTOR_ELT(out, 2, Rf_ScalarString(endpoint));
  UNPROTECT(2);
  return out;
}

/* Every event already queued, without waiting: list(event, value, endpoint)
 * of equal lengths (read.events() makes the data frame). */
SEXP rzmq_monitor_read_all(SEXP monitor) {
  rzmq_sock *m = monitor_get(monitor);
  R_xlen_t n = 0, cap = 16;
  PROTECT_INDEX pe, pv, pp;
  SEXP ev, val, ep, out;
  int err;
  PROTECT_WITH_INDEX(ev = Rf_allocVector(STRSXP, cap), &pe);
  PROTECT_WITH_INDEX(val = Rf_allocVector(REALSXP, cap), &pv);
  PROTECT_WITH_INDEX(ep = Rf_allocVector(STRSXP, cap), &pp);
  for (;;) {
    unsigned id;
    double value;
    SEXP endpoint;
    err = event_recv(m, 1, &id, &value, &endpoint);
    if (err != 0) break;
    PROTECT(endpoint);
    if (n == cap) {
      cap *= 2;
      REPROTECT(ev = Rf_lengthgets(ev, cap), pe);
      REPROTECT(val = Rf_lengthgets(val, cap), pv);
      REPROTECT(ep = Rf_lengthgets(ep, cap), pp);
    }
    SET_STRING_ELT(ev, n, event_name(id));
    REAL(val)[n] = value;
    SET_STRING_ELT(ep, n, endpoint);
    n++;
    UNPROTECT(1);
  }
  /* EAGAIN: the queue is empty, the end of a successful read; anything else
   * is reported, and the events read so far are still returned */
  if (err == EAGAIN) rzmq_set_errno(err);
  else rzmq_fail_null(err);
  REPROTECT(ev = Rf_lengthgets(ev, n), pe);
  REPROTECT(val = Rf_lengthgets(val, n), pv);
  REPROTECT(ep = Rf_lengthgets(ep, n), pp);
  out = PROTECT(Rf_allocVector(VECSXP, 3));
  SET_VECTOR_ELT(out, 0, ev);
  SET_VECTOR_ELT(out, 1, val);
  SET_VECTOR_ELT(out, 2, ep);
  UNPROTECT(4);
  return out;
}
