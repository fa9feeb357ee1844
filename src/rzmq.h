/* rzmq.h: the one internal header. Handle structs, tags and the functions each
 * C file offers the others. R reaches all of this only through init.c's table. */
#ifndef RZMQ_H
#define RZMQ_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
#include <stddef.h>
#include <zmq.h>

/* ---- handles ------------------------------------------------------------ */

typedef struct rzmq_sock rzmq_sock;

/* A context lives until its R handle is gone (or it is destroyed) AND every
 * socket made on it is closed; `holders` counts the structs pointing here. */
typedef struct rzmq_ctx {
  void *handle;            /* zmq context; NULL once handed to termination */
  unsigned gen;            /* fork generation it was created in */
  int term_requested;      /* destroyed or finalized: terminate when socket-free */
  int holders;             /* R handle (until finalized) + each socket struct */
  rzmq_sock *sockets;      /* open sockets, for destroy and exit */
  struct rzmq_ctx *prev, *next; /* every live context, for exit */
} rzmq_ctx;

struct rzmq_sock {
  void *handle;            /* zmq socket; NULL once closed */
  rzmq_ctx *ctx;
  unsigned gen;
  int type;
  int rcvtimeo, sndtimeo;  /* the user's timeouts, in ms (-1 forever) */
  int applied_rcvtimeo, applied_sndtimeo; /* what libzmq holds (message.c) */
  rzmq_sock *prev, *next;  /* siblings in ctx->sockets while open */
};

typedef struct rzmq_msgobj {
  zmq_msg_t msg;
  unsigned gen;
  int live;
} rzmq_msgobj;

extern SEXP rzmq_tag_context, rzmq_tag_socket, rzmq_tag_message;
extern unsigned rzmq_fork_gen;
#include <pthread.h>
extern pthread_mutex_t rzmq_io_mu; /* see context.c */

/* ---- errors.c ------------------------------------------------------------ */
void rzmq_set_errno(int err);
SEXP rzmq_fail_false(int err);   /* store, report (unless EAGAIN), FALSE */
SEXP rzmq_fail_null(int err);    /* store, report (unless EAGAIN), NULL */
void rzmq_report_text(int err, const char *text);
SEXP rzmq_errno_get(void);
SEXP rzmq_strerror_get(void);
SEXP rzmq_version_get(void);

/* ---- argument helpers (errors.c) ----------------------------------------- */
int rzmq_arg_flag(SEXP x, const char *name);
const char *rzmq_arg_string(SEXP x, const char *name, int allow_empty);
double rzmq_arg_number(SEXP x, const char *name);

/* ---- context.c ----------------------------------------------------------- */
rzmq_ctx *rzmq_context_get(SEXP x, const char *name);
void rzmq_context_socket_closed(rzmq_ctx *ctx);
void rzmq_context_holder_gone(rzmq_ctx *ctx);
void rzmq_context_link(rzmq_ctx *ctx, rzmq_sock *s);
void rzmq_context_unlink(rzmq_ctx *ctx, rzmq_sock *s);
void rzmq_lifetime_init(DllInfo *dll);
SEXP rzmq_context_new(SEXP threads);
SEXP rzmq_context_destroy(SEXP ctx, SEXP linger);
SEXP rzmq_exit_cleanup(SEXP timeout);

/* ---- socket.c ------------------------------------------------------------ */
rzmq_sock *rzmq_socket_get(SEXP x, const char *name);
void rzmq_socket_release(rzmq_sock *s);
SEXP rzmq_socket_new(SEXP ctx, SEXP type);
SEXP rzmq_socket_bind(SEXP sock, SEXP addr);
SEXP rzmq_socket_connect(SEXP sock, SEXP addr);
SEXP rzmq_socket_disconnect(SEXP sock, SEXP addr);
SEXP rzmq_socket_unbind(SEXP sock, SEXP addr);
SEXP rzmq_socket_close(SEXP sock);

/* ---- options.c ----------------------------------------------------------- */
SEXP rzmq_option_set(SEXP sock, SEXP name, SEXP value, SEXP argname);
SEXP rzmq_option_get(SEXP sock, SEXP name);
SEXP rzmq_option_names(void);

/* ---- waiting (poll.c) ----------------------------------------------------- */
typedef void (*rzmq_cleanup_fn)(void *);
/* Raise R's interrupt if the user asked for one; `cleanup(data)` runs first
 * if given, so nothing held leaks as the call unwinds. */
void rzmq_check_interrupt(rzmq_cleanup_fn cleanup, void *data);
void rzmq_msg_cleanup(void *msg); /* closes a zmq_msg_t */
double rzmq_deadline(int timeout_ms);  /* negative: no deadline */
long rzmq_next_slice(double deadline); /* ms to wait next; -1 when passed */
SEXP rzmq_poll(SEXP sockets, SEXP events, SEXP timeout);

/* ---- message.c ----------------------------------------------------------- */
void rzmq_reclaim(void);          /* release raw vectors libzmq let go of */
SEXP rzmq_lent_count(void);       /* how many are still lent (for tests) */
SEXP rzmq_send(SEXP sock, SEXP data, SEXP more, SEXP serialize, SEXP xdr);
SEXP rzmq_send_null(SEXP sock, SEXP more);
SEXP rzmq_send_string(SEXP sock, SEXP data, SEXP more);
SEXP rzmq_send_multipart(SEXP sock, SEXP parts);
SEXP rzmq_receive(SEXP sock, SEXP unserialize, SEXP dontwait);
SEXP rzmq_receive_null(SEXP sock);
SEXP rzmq_receive_string(SEXP sock);
SEXP rzmq_receive_int(SEXP sock);
SEXP rzmq_receive_double(SEXP sock);
SEXP rzmq_receive_multipart(SEXP sock);
SEXP rzmq_message_new(SEXP data, SEXP serialize, SEXP xdr);
SEXP rzmq_message_send(SEXP sock, SEXP msg, SEXP more);

/* ---- serialize.c --------------------------------------------------------- */
/* Serialize `x` into a fresh zmq message (initialised by this call). */
void rzmq_serialize_to_msg(SEXP x, int xdr, zmq_msg_t *msg);
/* Unserialize the bytes of `msg`, which is closed either way (before any R
 * error propagates). */
SEXP rzmq_unserialize_msg(zmq_msg_t *msg);
/* Build an R value from a message's bytes with fn, closing the message
 * whatever happens: small ones are copied out and closed first, large ones
 * are read in place under unwind protection. */
typedef SEXP (*rzmq_reader)(const unsigned char *p, size_t n, void *data);
SEXP rzmq_with_msg(zmq_msg_t *msg, rzmq_reader fn, void *data);

#endif
