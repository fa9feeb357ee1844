/* rzmq.h: the one internal header. Handle structs, tags and shared globals,
 * then what each C file offers the others, file by file in the order they
 * depend on each other (a file uses only the sections above its own). R
 * reaches all of it only through init.c's registration table. */
#ifndef RZMQ_H
#define RZMQ_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
#include <Rversion.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>
#include <zmq.h>
#include "platform.h" /* the OS-specific calls, platform.c */

/* ---- handles ---------------------------------------------------------------
 * Every handle is an external pointer to one of our structs (never to a bare
 * libzmq handle), tagged by its kind. Each struct starts with rzmq_head. */

typedef enum {
  RZMQ_CONTEXT, RZMQ_SOCKET, RZMQ_MESSAGE, RZMQ_AUTH, RZMQ_PROXY, RZMQ_POLLER,
  RZMQ_KINDS
} rzmq_kind;

typedef struct rzmq_loan rzmq_loan; /* handle.c */

typedef struct {
  unsigned gen; /* fork generation it was made in (handle.c) */
  int closed;   /* closed or destroyed: the handle may no longer be used */
  int busy;     /* lent to a running proxy: R may not use it (proxy.c) */
  rzmq_loan *loan; /* while busy: the loan (handle.c) */
} rzmq_head;

typedef struct rzmq_sock rzmq_sock;
typedef struct rzmq_auth rzmq_auth; /* authenticator.c */
typedef struct rzmq_proxy rzmq_proxy; /* proxy.c */
typedef struct rzmq_endpoint rzmq_endpoint; /* endpoints.c */

/* A context lives until its R handle is gone (or it is destroyed) AND every
 * socket made on it is closed; `holders` counts the structs pointing here.
 * head.closed: destroyed or finalized, to terminate once socket-free. */
typedef struct rzmq_ctx {
  rzmq_head head;
  void *handle;                 /* zmq context; NULL once handed to termination */
  int holders;                  /* R handle (until finalized) + each socket */
  rzmq_sock *sockets;           /* open sockets, for destroy, exit and unload */
  rzmq_auth *auth;              /* its running authenticator, if any */
  struct rzmq_ctx *prev, *next; /* every live context */
} rzmq_ctx;

struct rzmq_sock {
  rzmq_head head;
  void *handle; /* zmq socket; NULL once closed */
  rzmq_ctx *ctx;
  int type;
  int attached; /* endpoints bound or connected, less those unbound or
                   disconnected (never fewer than there are): while > 0,
                   too late for security options */
  int monitor;  /* made by monitor.socket(): reads event messages (monitor.c) */
  rzmq_sock *watched, *watcher; /* monitor <-> monitored socket, while both
                                   are open (lifetime.c ends the link) */
  int rcvtimeo, sndtimeo; /* the user's timeouts, in ms (-1 forever) */
  int rcv_mid; /* the last frame received had more to follow (frame.c) */
  int snd_mid; /* the last frame sent had more to follow (frame.c) */
  int applied_rcvtimeo, applied_sndtimeo; /* what libzmq holds (frame.c) */
  rzmq_sock *prev, *next; /* siblings in ctx->sockets while open */
  rzmq_proxy *proxy; /* while head.busy and its loan is not ending: the
                        running proxy it is lent to */
  rzmq_endpoint *endpoints; /* bound and connected to now (endpoints.c) */
};

/* A message built once by init.message() and sent any number of times. */
typedef struct rzmq_msgobj {
  rzmq_head head;
  zmq_msg_t msg;
} rzmq_msgobj;

/* ---- errors.c: the only place that talks to R about failures -------------- */
void rzmq_errors_init(void);
void rzmq_errors_unload(void);
void rzmq_set_errno(int err); /* store only: a result that is not reported */
void rzmq_report(int err);     /* store, report (unless EAGAIN) */
SEXP rzmq_fail_false(int err); /* store, report (unless EAGAIN), FALSE */
SEXP rzmq_fail_null(int err);  /* store, report (unless EAGAIN), NULL */
void rzmq_report_text(int err, const char *text);
/* A failure that ends the call ("cannot create a zmq context: <errno's
 * text>"): classed rzmq_<NAME> under options(rzmq.errors = "condition"),
 * a plain R error otherwise. Every libzmq or system failure that stops a
 * call goes through here (ENOMEM for memory that could not be had); bare
 * Rf_error is for misuse of R arguments and malformed received data. */
void rzmq_fail_stop(int err, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3), noreturn))
#endif
    ;
/* Run body(data) so that cleanup(cdata, jump) runs however it ends (jump:
 * R is unwinding past us). `returns_value`: the body's value is the result;
 * otherwise the body returns R_NilValue. */
SEXP rzmq_protect(SEXP (*body)(void *), void *data,
                  void (*cleanup)(void *, Rboolean), void *cdata,
                  int returns_value);
SEXP rzmq_errno_get(void);
SEXP rzmq_strerror_get(void);
SEXP rzmq_version_get(void);

/* ---- args.c: argument checks whose errors name the argument ---------------- */
int rzmq_arg_flag(SEXP x, const char *name);
const char *rzmq_arg_string(SEXP x, const char *name, int allow_empty);
double rzmq_arg_number(SEXP x, const char *name);
/* Whether x has attributes (through R's API where R has one). */
int rzmq_has_attributes(SEXP x);
/* Is p[0..n) valid UTF-8? (Invalid text goes to R marked as bytes.) */
int rzmq_valid_utf8(const unsigned char *p, size_t n);
/* A named list (or vector of `type`) for values handed back to R: names
 * end with "" as for R's Rf_mkNamed. Unprotected, like allocVector. */
SEXP rzmq_named(SEXPTYPE type, const char **names);

/* ---- wait.c: deadlines, slices, interrupt checks -------------------------- */
typedef void (*rzmq_cleanup_fn)(void *);
/* Raise R's interrupt if the user asked for one; `cleanup(data)` runs first
 * if given, so nothing held leaks as the call unwinds. */
void rzmq_check_interrupt(rzmq_cleanup_fn cleanup, void *data);
double rzmq_deadline(int timeout_ms);  /* negative: no deadline */
long rzmq_next_slice(double deadline); /* ms to wait next; -1 when passed */
/* The wall-clock time `ms` from now, for pthread_cond_timedwait. */
void rzmq_abstime_in(struct timespec *ts, long ms);

/* ---- handle.c: the one getter for every kind of handle, loans ------------ */
extern SEXP rzmq_tag[RZMQ_KINDS];
extern int rzmq_live_handles; /* made, finalizers not yet run */
extern unsigned rzmq_fork_gen; /* forks made (threads.c counts them) */
void rzmq_handle_init(void);
/* A new external pointer for `h` (whose head is set here), finalized by
 * `fin`; `prot` is kept alive as long as the handle. */
SEXP rzmq_handle_new(void *h, rzmq_kind kind, SEXP prot, R_CFinalizer_t fin,
                     Rboolean onexit);
/* The struct behind `x` if it is a handle of `kind` made in this process,
 * open or closed; NULL otherwise. Never raises. */
void *rzmq_handle_peek(SEXP x, rzmq_kind kind);
/* The struct behind an open handle of `kind`, or an R error naming `name`.
 * A handle whose loan a finalizer ended comes back here (see loans). */
void *rzmq_handle_get(SEXP x, rzmq_kind kind, const char *name);
/* For the idempotent releases (close, destroy, stop): NULL if `x` is a
 * handle of `kind` made here and already closed (release it no more: the
 * call returns TRUE); else as rzmq_handle_get. */
void *rzmq_handle_to_release(SEXP x, rzmq_kind kind, const char *name);
/* For finalizers: clear `x`; its struct if made in this process, else NULL
 * (a forked child never touches its parent's). */
void *rzmq_handle_finalizing(SEXP x);
int rzmq_handle_kind(SEXP x); /* its rzmq_kind, or -1: not one of ours */

/* Handles lent to a thread of ours (a proxy's sockets). Once its thread is
 * over the loan is returned, and R may use them again; a finalizer cannot
 * wait for that, so it marks the loan `ending` and a termination thread
 * returns it, first doing what had to wait for the thread (`after`). */
#define RZMQ_LOAN_AFTER 16
struct rzmq_loan {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int refs;     /* the lender's, and each handle's while lent */
  int ending;   /* its thread was told to end; set on R's thread only */
  int returned; /* its thread is over */
  int n_after;
  struct rzmq_loan_after {
    void *zsock;   /* libzmq socket to close, or ... */
    int unmonitor; /* ... to stop libzmq's monitor on */
  } after[RZMQ_LOAN_AFTER];
};
rzmq_loan *rzmq_loan_new(void); /* NULL: out of memory */
void rzmq_loan_lend(rzmq_loan *l, rzmq_head *h); /* h->busy from here */
void rzmq_loan_drop(rzmq_loan *l); /* one reference less; NULL is fine */
void rzmq_loan_end(rzmq_loan *l); /* returned (its lender joined it) */
/* The thread is joined: do what waited for it, then returned. */
void rzmq_loan_return(rzmq_loan *l);
/* Close `zsock` (or stop its monitor) once the loan is returned: 1, or 0 if
 * it is returned already (do it now). */
int rzmq_loan_defer(rzmq_loan *l, void *zsock, int unmonitor);
/* Give `h` back to R if its loan is returned (with `wait`, waiting for an
 * ending one, interruptibly: R's thread, nothing held): 1 if it is R's now. */
int rzmq_loan_settle(rzmq_head *h, int wait);

static inline rzmq_ctx *rzmq_context_get(SEXP x, const char *name) {
  return (rzmq_ctx *)rzmq_handle_get(x, RZMQ_CONTEXT, name);
}
static inline rzmq_sock *rzmq_socket_get(SEXP x, const char *name) {
  return (rzmq_sock *)rzmq_handle_get(x, RZMQ_SOCKET, name);
}

/* ---- threads.c: termination threads, fork handlers, pinning -------------- */
extern pthread_mutex_t rzmq_io_mu; /* guards what libzmq's threads hand back */
typedef struct rzmq_term_job rzmq_term_job;
typedef void (*rzmq_job_fn)(void *);
void rzmq_threads_init(void);
/* On a termination thread of its own: fn(arg) if fn, then zmq_ctx_term of
 * `zctx` if given; with `want_wait`, a job to pass to rzmq_term_wait (which
 * releases it), else NULL. Out of threads: done here. */
rzmq_term_job *rzmq_thread_job(rzmq_job_fn fn, void *arg, void *zctx,
                               int want_wait);
rzmq_term_job *rzmq_term_start(void *zctx, int want_wait);
void rzmq_later(rzmq_job_fn fn, void *arg); /* fn(arg), off R's thread */
void rzmq_term_wait(rzmq_term_job *job); /* interruptible */
/* Wait up to `secs` for every job; join the threads that finished.
 * Returns how many are still running. */
int rzmq_term_wait_all(double secs);
/* Keep this library mapped for good: something of ours outlives unload. */
void rzmq_threads_pin(void);

/* ---- endpoints.c: what a socket is bound and connected to now ----------- */
/* After a successful zmq_bind/connect/unbind/disconnect of `addr`. */
void rzmq_endpoints_note(rzmq_sock *s, const char *addr, int bind, int added);
void rzmq_endpoints_free(rzmq_sock *s);
SEXP rzmq_socket_endpoints(SEXP sock);

/* ---- security.c: Z85, CURVE keys, the CURVE and PLAIN roles of a socket --- */
/* Z85 text that decodes: its characters and every group's value. */
int rzmq_z85_valid(const char *s, size_t n);
/* An R error naming `what` if the socket has endpoints: security options
 * act only on connections made later. */
void rzmq_security_unattached(rzmq_sock *s, const char *what);
void rzmq_curve_key(SEXP key, const char *name, unsigned char out[32]);
SEXP rzmq_has(SEXP capability);
SEXP rzmq_curve_keypair(void);
SEXP rzmq_curve_public(SEXP secret);
SEXP rzmq_curve_key_z85(SEXP key, SEXP name);
SEXP rzmq_z85_encode(SEXP x);
SEXP rzmq_z85_decode(SEXP s);
SEXP rzmq_curve_server(SEXP sock, SEXP secret);
SEXP rzmq_curve_client(SEXP sock, SEXP server_public, SEXP public, SEXP secret);
SEXP rzmq_plain_server(SEXP sock);
SEXP rzmq_plain_client(SEXP sock, SEXP username, SEXP password);

/* ---- netaddr.c: IP addresses as bytes, ranges, a descriptor's two ends -- */
typedef struct { /* IPv4 as v4-mapped IPv6; bits: the prefix length */
  unsigned char net[16];
  int bits;
} rzmq_range;
typedef struct {
  unsigned char peer[16], local[16];
  int peer_port, local_port;
} rzmq_conn_ends;
/* 1 if `s` is an IPv4 or IPv6 address (16 bytes in `out`), else 0. */
int rzmq_addr_parse(const char *s, unsigned char out[16], int *is_v4);
/* An address or CIDR range; 0 with `why` (text for an error) if neither. */
int rzmq_range_parse(const char *s, rzmq_range *r, const char **why);
int rzmq_range_match(const rzmq_range *v, int n, const unsigned char a[16]);
int rzmq_fd_ends(int fd, rzmq_conn_ends *e); /* 0 unless a TCP connection */

/* ---- authlists.c: the authenticator's lists and its decisions ------------- */
typedef struct rzmq_lists rzmq_lists;
typedef struct {
  const char *domain, *address, *mechanism;
  const void *user; /* PLAIN user name, CURVE key (32 bytes); NULL: none */
  size_t user_len;
  const void *password; /* PLAIN; NULL: a re-check of an admission */
  size_t password_len;
  unsigned long long password_hash; /* a re-check: of the password it gave */
  char user_id[256];    /* out: the User-Id of an admitted peer */
  char shown_user[256]; /* out: the user for the log */
} rzmq_auth_request;
void rzmq_printable(char *out, size_t cap, const void *p, size_t n);
unsigned long long rzmq_password_hash(const void *p, size_t n);
/* New lists: those `set` from the arguments (checked first: R errors that
 * name them), the others from `old`; domain NULL: old's. */
rzmq_lists *rzmq_lists_make(const rzmq_lists *old, const int set[4],
                            SEXP curve, SEXP plain, SEXP allow, SEXP deny,
                            const char *domain);
rzmq_lists *rzmq_lists_ref(rzmq_lists *c);
void rzmq_lists_free(rzmq_lists *c); /* drops one reference */
long rzmq_lists_gen(const rzmq_lists *c);
/* 1 if admitted; `reason` says why either way. Never touches R. */
int rzmq_lists_decide(const rzmq_lists *c, rzmq_auth_request *q, char *reason,
                      size_t cap);

/* ---- revoke.c: drop = TRUE, connections checked at each message ----------- */
#define RZMQ_ADMISSION "X-Rzmq-Admission" /* ZAP metadata, on each message */
typedef struct rzmq_revoke rzmq_revoke;
typedef void (*rzmq_revoke_log_fn)(void *ud, const char *mech,
                                   const char *address, const char *user,
                                   const char *reason);
rzmq_revoke *rzmq_revoke_new(long auth_id);
void rzmq_revoke_free(rzmq_revoke *r);
void rzmq_admission_text(char *out, size_t cap, long auth_id, long adm,
                         long gen, const rzmq_auth_request *q);
/* `now` holds from here for every connection admitted before it. */
void rzmq_revoke_drop(rzmq_revoke *r, rzmq_lists *now, rzmq_revoke_log_fn log,
                      void *ud);
/* 1: deliver the message that starts with `msg`; 0: its connection is
 * revoked (closed, and logged, when first found). */
int rzmq_revoke_admits(rzmq_revoke *r, void *zsock, zmq_msg_t *msg,
                       rzmq_revoke_log_fn log, void *ud);

/* ---- authenticator.c: a ZAP handler on a thread of its own ---------------- */
/* Stop it and detach it from its context (the context calls this before it
 * terminates); harmless once stopped. */
void rzmq_auth_stop(rzmq_auth *a);
/* The same without waiting (finalizers): detached now, its thread told to
 * end and joined on a termination thread. */
void rzmq_auth_end(rzmq_auth *a);
SEXP rzmq_auth_new(SEXP ctx, SEXP curve, SEXP plain, SEXP allow, SEXP deny,
                   SEXP domain);
SEXP rzmq_auth_configure(SEXP auth, SEXP set, SEXP curve, SEXP plain,
                         SEXP allow, SEXP deny, SEXP drop);
/* May a message starting with `msg`, received on `s`, go to R? */
int rzmq_auth_admits(rzmq_sock *s, zmq_msg_t *msg);
SEXP rzmq_auth_destroy(SEXP auth);
SEXP rzmq_auth_log(SEXP auth);

/* ---- proxy.c: a steerable proxy (libzmq's commands) on a thread --------- */
/* Stop it (the TERMINATE command, then join its thread) and give its sockets
 * back to R; harmless once stopped. lifetime.c calls it before it closes a
 * socket lent to a proxy. Without `wait` (finalizers): closed now, its
 * thread joined on a termination thread, which then returns the loan. */
void rzmq_proxy_stop(rzmq_proxy *p, int wait);
SEXP rzmq_proxy_run(SEXP frontend, SEXP backend, SEXP capture);
SEXP rzmq_proxy_new(SEXP frontend, SEXP backend, SEXP capture);
SEXP rzmq_proxy_pause(SEXP p, SEXP pause);
SEXP rzmq_proxy_stats(SEXP p);
SEXP rzmq_proxy_halt(SEXP p);

/* ---- lifetime.c: who owns what, and the one order in which it stops ------ */
void rzmq_lifetime_add_context(rzmq_ctx *ctx); /* a new one: its R handle holds it */
void rzmq_lifetime_add_socket(rzmq_sock *s);   /* open now, on s->ctx */
/* Close a socket (waiting for what it must stop first). */
void rzmq_socket_release(rzmq_sock *s);
void rzmq_lifetime_socket_finalized(rzmq_sock *s);  /* frees it; never waits */
void rzmq_lifetime_context_finalized(rzmq_ctx *ctx); /* never waits */
/* destroy.context(): everything it owns, then wait for its termination. */
void rzmq_lifetime_destroy_context(rzmq_ctx *ctx, int set_linger, int linger);
/* Close every socket of every context of this process (with linger 0 if
 * `drop`) and start terminating every context (exit, unload). */
void rzmq_lifetime_close_all(int drop);

/* ---- context.c ----------------------------------------------------------- */
SEXP rzmq_context_new(SEXP threads);
SEXP rzmq_context_destroy(SEXP ctx, SEXP linger);

/* ---- socket.c ------------------------------------------------------------ */
SEXP rzmq_socket_new(SEXP ctx, SEXP type);
SEXP rzmq_socket_bind(SEXP sock, SEXP addr);
SEXP rzmq_socket_connect(SEXP sock, SEXP addr);
SEXP rzmq_socket_disconnect(SEXP sock, SEXP addr);
SEXP rzmq_socket_unbind(SEXP sock, SEXP addr);
SEXP rzmq_socket_close(SEXP sock);

/* ---- options.c ----------------------------------------------------------- */
SEXP rzmq_option_set(SEXP sock, SEXP name, SEXP value, SEXP argname);
SEXP rzmq_option_get(SEXP sock, SEXP name);
SEXP rzmq_option_names(SEXP which); /* "socket" or "context" */
SEXP rzmq_ctxopt_set(SEXP ctx, SEXP name, SEXP value);
SEXP rzmq_ctxopt_get(SEXP ctx, SEXP name);

/* ---- lend.c: on send, large raw vectors lent to libzmq, not copied ------- */
#define RZMQ_LEND_MIN 65536 /* smaller vectors are copied: cheaper */
void rzmq_reclaim(void);    /* release raw vectors libzmq let go of */
/* Initialise `msg` over the bytes of the raw vector `data`, kept alive (and
 * unchanged: R copies it on a change) until libzmq lets go. */
void rzmq_lend(zmq_msg_t *msg, SEXP data);
/* The lent vector whose bytes are p[0..n) if it can be the received frame
 * itself (a plain raw vector), else NULL; *lent: whether p[0..n) is a lent
 * vector's at all. */
SEXP rzmq_lent_vector(const void *p, size_t n, int *lent);
int rzmq_lent_unload(void); /* release them all at unload; 0 if some are lent */
SEXP rzmq_lent_count(void); /* how many are still lent (for tests) */

/* ---- zerocopy.c: on receive, large frames as ALTREP raw vectors ---------- */
#define RZMQ_ZEROCOPY_MIN 65536 /* smaller frames are copied: cheaper */
#define RZMQ_ZEROCOPY_FRESH_MIN ((size_t)8 << 20) /* see frame.c */
void rzmq_zerocopy_init(DllInfo *dll);
/* A raw vector reading the bytes of `msg` in place; takes the message (it is
 * closed if R cannot make the vector). `fresh`: its memory exists only for
 * it, and counts towards the collection budget. */
SEXP rzmq_frame_raw(zmq_msg_t *msg, int fresh);
int rzmq_is_frame(SEXP x);
/* If x is such a vector still over its message, initialise `out` as a
 * message sharing it and return 1; else 0. */
int rzmq_frame_share(SEXP x, zmq_msg_t *out);
SEXP rzmq_frame_state(SEXP x); /* "message", "copied" or "ordinary" (tests) */
SEXP rzmq_same_bytes(SEXP a, SEXP b); /* the same bytes in memory (tests) */
SEXP rzmq_frame_poke(SEXP x, SEXP i, SEXP value); /* write via DATAPTR (tests) */
SEXP rzmq_frames_held(void);   /* bytes of fresh frames alive (tests) */

/* ---- bufcache.c: large send buffers, the last one kept a short while ----- */
/* Large fresh memory about to be written end to end: huge pages, if large. */
void rzmq_advise_fresh(void *p, size_t n);
/* A buffer of at least n bytes, the cached one if it fits (not far too
 * large); sets *cap, its size. NULL if out of memory. */
void *rzmq_bufcache_take(size_t n, size_t *cap);
/* Hand `buf` (cap bytes, len of them used) to a new message, whose release
 * may cache it. As zmq_msg_init_data: 0, or -1 with zmq_errno(). */
int rzmq_bufcache_msg(zmq_msg_t *msg, void *buf, size_t len, size_t cap);
SEXP rzmq_cache_size(void);      /* bytes in the cache (tests) */
void rzmq_bufcache_stop(void);   /* join its janitor thread (exit, unload) */
void rzmq_bufcache_unload(void); /* ... and free the cached buffer */

/* ---- serialize.c: R objects <-> bytes in message buffers ------------------ */
/* Serialize `x` into a fresh zmq message (initialised by this call). */
void rzmq_serialize_to_msg(SEXP x, int xdr, zmq_msg_t *msg);
/* The R object serialized in p[0..n); an R error if it is not one. */
SEXP rzmq_unserialize_bytes(const unsigned char *p, size_t n, void *unused);
void rzmq_serialize_unload(void); /* free its buffers, the cache's too */

/* ---- frame.c: one frame: sent, received, made from R, read into R -------- */
/* Send an initialised message (consumed either way) within the socket's send
 * timeout, in interruptible slices (`interruptible` 0: a later frame of a
 * multipart message, which nothing may split); 0 or an errno value. */
int rzmq_frame_send(rzmq_sock *s, zmq_msg_t *msg, int more, int interruptible);
/* Receive one frame as receive.socket() does (dont.wait, the socket's
 * timeout, interruptible slices), dropping messages from connections the
 * authenticator revoked (revoke.c): every receive for R comes here. 0, or an
 * errno value; `msg` is initialised here and left open only on success. */
int rzmq_frame_recv(rzmq_sock *s, zmq_msg_t *msg, int dontwait);
/* A message holding a copy of p[0..n). */
void rzmq_frame_from_bytes(zmq_msg_t *msg, const void *p, size_t n);
/* A message for a raw vector's bytes: large ones lent or shared, not copied. */
void rzmq_frame_from_raw(zmq_msg_t *msg, SEXP data);
/* fn(bytes, n, data) of a received frame, which is closed (consumed)
 * whatever happens. */
typedef SEXP (*rzmq_frame_reader)(const unsigned char *p, size_t n,
                                  void *data);
SEXP rzmq_frame_read(zmq_msg_t *msg, rzmq_frame_reader fn, void *data);
/* A received frame as R sees it (consumed either way): its bytes, or the
 * object serialized in it. */
SEXP rzmq_frame_to_raw(zmq_msg_t *msg);
SEXP rzmq_frame_to_value(zmq_msg_t *msg);

/* ---- message.c: send and receive for R, multipart, message objects ------- */
SEXP rzmq_send(SEXP sock, SEXP data, SEXP more, SEXP serialize, SEXP xdr);
SEXP rzmq_send_null(SEXP sock, SEXP more);
SEXP rzmq_send_string(SEXP sock, SEXP data, SEXP more);
SEXP rzmq_send_multipart(SEXP sock, SEXP parts);
/* The whole message starting with frame `first` (consumed) as a list of raw
 * vectors; NULL with *err set if libzmq fails. */
SEXP rzmq_read_multipart(rzmq_sock *s, zmq_msg_t *first, int *err);
/* A list of n elements; `msg` is closed if R cannot allocate it. */
SEXP rzmq_alloc_list_or_close(R_xlen_t n, zmq_msg_t *msg);
SEXP rzmq_receive(SEXP sock, SEXP unserialize, SEXP dontwait);
SEXP rzmq_receive_null(SEXP sock);
SEXP rzmq_receive_string(SEXP sock);
SEXP rzmq_receive_int(SEXP sock);
SEXP rzmq_receive_double(SEXP sock);
SEXP rzmq_receive_multipart(SEXP sock);
SEXP rzmq_message_new(SEXP data, SEXP serialize, SEXP xdr);
SEXP rzmq_message_send(SEXP sock, SEXP msg, SEXP more);
SEXP rzmq_message_size(SEXP msg);

/* ---- batch.c: many messages in one call ----------------------------------- */
SEXP rzmq_send_messages(SEXP sock, SEXP data, SEXP serialize, SEXP xdr,
                        SEXP progress);
SEXP rzmq_receive_messages(SEXP sock, SEXP n, SEXP unserialize, SEXP dontwait);

/* ---- poll.c (and what poller.c shares with it) --------------------------- */
/* `sockets` and `events` as poll.socket() takes them, checked: the list of
 * socket handles (a lone socket becomes a list of one; the caller protects
 * it) and in *items one zmq_pollitem_t each (R_alloc'd). */
SEXP rzmq_poll_items(SEXP sockets, SEXP events, zmq_pollitem_t **items);
long rzmq_poll_timeout(SEXP timeout); /* seconds -> ms; -1 forever */
/* After an interrupt check that returned: set items[].socket again (a
 * handler may have closed a socket), or raise an R error. */
typedef void (*rzmq_poll_recheck)(zmq_pollitem_t *items, void *data);
/* Wait up to `ms` (-1 forever) for the events of items[0..n), in slices
 * with interrupt checks; revents set. 0, or an errno value. */
int rzmq_poll_wait(zmq_pollitem_t *items, int n, long ms,
                   rzmq_poll_recheck recheck, void *data);
/* poll.socket()'s result: per item a named list of the events asked for. */
SEXP rzmq_poll_result(const zmq_pollitem_t *items, R_xlen_t n);
SEXP rzmq_poll(SEXP sockets, SEXP events, SEXP timeout);
void rzmq_poll_unload(void);

/* ---- poller.c: poll.socket()'s arguments checked once, polled many times -- */
SEXP rzmq_poller_new(SEXP sockets, SEXP events);
SEXP rzmq_poller_poll(SEXP poller, SEXP timeout);
int rzmq_poller_closed(SEXP poller); /* it or one of its sockets */

/* ---- closed.c: is.closed() of any kind of handle ------------------------- */
SEXP rzmq_handle_closed(SEXP x);

/* ---- monitor.c: a socket's events, read from a PAIR socket --------------- */
SEXP rzmq_monitor_new(SEXP sock, SEXP events);
SEXP rzmq_monitor_receive(SEXP monitor, SEXP dontwait);
SEXP rzmq_monitor_read_all(SEXP monitor);

/* ---- init.c: registration, start and end of the library ------------------ */
SEXP rzmq_exit_cleanup(SEXP timeout);
SEXP rzmq_unload_cleanup(SEXP timeout);

#endif
