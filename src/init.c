/* init.c: the start and the end of the library. The .Call registration
 * table and R_init_rzmq; the exit cleanup; unloading (R_unload_rzmq), after
 * which none of our code may run unless we keep it mapped. */
#include "rzmq.h"
#include <R_ext/Rdynload.h>

/* via void (*)(void), the generic function pointer type */
#define ENTRY(name, n) {#name, (DL_FUNC)(void (*)(void))&name, n}

static const R_CallMethodDef call_methods[] = {
    ENTRY(rzmq_version_get, 0),
    ENTRY(rzmq_errno_get, 0),
    ENTRY(rzmq_strerror_get, 0),
    ENTRY(rzmq_context_new, 1),
    ENTRY(rzmq_context_destroy, 2),
    ENTRY(rzmq_exit_cleanup, 1),
    ENTRY(rzmq_unload_cleanup, 1),
    ENTRY(rzmq_socket_new, 2),
    ENTRY(rzmq_socket_bind, 2),
    ENTRY(rzmq_socket_connect, 2),
    ENTRY(rzmq_socket_disconnect, 2),
    ENTRY(rzmq_socket_unbind, 2),
    ENTRY(rzmq_socket_close, 1),
    ENTRY(rzmq_option_set, 4),
    ENTRY(rzmq_option_get, 2),
    ENTRY(rzmq_option_names, 1),
    ENTRY(rzmq_ctxopt_set, 3),
    ENTRY(rzmq_ctxopt_get, 2),
    ENTRY(rzmq_poll, 3),
    ENTRY(rzmq_poller_new, 2),
    ENTRY(rzmq_poller_poll, 2),
    ENTRY(rzmq_socket_endpoints, 1),
    ENTRY(rzmq_handle_closed, 1),
    ENTRY(rzmq_message_size, 1),
    ENTRY(rzmq_send, 5),
    ENTRY(rzmq_send_null, 2),
    ENTRY(rzmq_send_string, 3),
    ENTRY(rzmq_send_multipart, 2),
    ENTRY(rzmq_receive, 3),
    ENTRY(rzmq_receive_null, 1),
    ENTRY(rzmq_receive_string, 1),
    ENTRY(rzmq_receive_int, 1),
    ENTRY(rzmq_receive_double, 1),
    ENTRY(rzmq_receive_multipart, 1),
    ENTRY(rzmq_send_messages, 5),
    ENTRY(rzmq_receive_messages, 4),
    ENTRY(rzmq_frame_state, 1),
    ENTRY(rzmq_same_bytes, 2),
    ENTRY(rzmq_frame_poke, 3),
    ENTRY(rzmq_frames_held, 0),
    ENTRY(rzmq_cache_size, 0),
    ENTRY(rzmq_message_new, 3),
    ENTRY(rzmq_message_send, 3),
    ENTRY(rzmq_lent_count, 0),
    ENTRY(rzmq_has, 1),
    ENTRY(rzmq_curve_keypair, 0),
    ENTRY(rzmq_curve_public, 1),
    ENTRY(rzmq_curve_key_z85, 2),
    ENTRY(rzmq_z85_encode, 1),
    ENTRY(rzmq_z85_decode, 1),
    ENTRY(rzmq_curve_server, 2),
    ENTRY(rzmq_curve_client, 4),
    ENTRY(rzmq_plain_server, 1),
    ENTRY(rzmq_plain_client, 3),
    ENTRY(rzmq_auth_new, 6),
    ENTRY(rzmq_auth_configure, 7),
    ENTRY(rzmq_auth_destroy, 1),
    ENTRY(rzmq_auth_log, 1),
    ENTRY(rzmq_monitor_new, 2),
    ENTRY(rzmq_monitor_receive, 2),
    ENTRY(rzmq_monitor_read_all, 1),
    ENTRY(rzmq_proxy_run, 3),
    ENTRY(rzmq_proxy_new, 3),
    ENTRY(rzmq_proxy_pause, 2),
    ENTRY(rzmq_proxy_stats, 1),
    ENTRY(rzmq_proxy_halt, 1),
    {NULL, NULL, 0}};

void R_unload_rzmq(DllInfo *dll);

/* R looks R_unload_rzmq up among the registered routines only, as dynamic
 * lookup is off: listed here for that, never meant to be called with .C. */
static const R_CMethodDef c_methods[] = {
    {"R_unload_rzmq", (DL_FUNC)(void (*)(void))&R_unload_rzmq, 1, NULL},
    {NULL, NULL, 0, NULL}};

void R_init_rzmq(DllInfo *dll) {
  R_registerRoutines(dll, c_methods, call_methods, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
  R_forceSymbols(dll, TRUE);
  rzmq_handle_init();
  rzmq_zerocopy_init(dll);
  rzmq_errors_init();
  rzmq_threads_init();
}

/* A timeout argument in seconds, or `fallback`. */
static double seconds(SEXP timeout, double fallback) {
  if (TYPEOF(timeout) == REALSXP || TYPEOF(timeout) == INTSXP) {
    double v = Rf_asReal(timeout);
    if (!ISNAN(v) && v >= 0) return v > 3600 ? 3600 : v;
  }
  return fallback;
}

/* Run once at exit (an R finalizer registered by .onLoad, an R closure that
 * .onUnload disarms): close what is still open, terminate every context, and
 * give queued messages up to `timeout` seconds to leave, so a script's last
 * results are delivered but a peer that never comes cannot keep the process
 * alive. */
SEXP rzmq_exit_cleanup(SEXP timeout) {
  rzmq_lifetime_close_all(0);
  rzmq_term_wait_all(seconds(timeout, 3));
  rzmq_bufcache_stop();
  return R_NilValue;
}

/* ---- unload -------------------------------------------------------------------
 * Once R unloads this library, nothing of ours may run: not a termination
 * thread, not a libzmq free callback, not a finalizer. So .onUnload (and
 * R_unload_rzmq, for a bare dyn.unload) close every socket with linger 0 and
 * terminate every context, waiting a bounded time for the threads. What
 * cannot be ended (a socket closed earlier with an infinite linger towards a
 * peer that never comes, handles R still holds) keeps the library mapped,
 * with everything it needs. */

static int unload_waited = 0;

SEXP rzmq_unload_cleanup(SEXP timeout) {
  rzmq_lifetime_close_all(1);
  rzmq_term_wait_all(seconds(timeout, 1));
  /* objects R no longer uses run their finalizers (ours) now, while they can */
  R_gc();
  unload_waited = 1;
  return R_NilValue;
}

void R_unload_rzmq(DllInfo *dll) {
  int busy;
  (void)dll;
  rzmq_lifetime_close_all(1);
  busy = rzmq_term_wait_all(unload_waited ? 0 : 1);
  unload_waited = 0;
  if (busy > 0 || rzmq_live_handles > 0 || !rzmq_lent_unload()) {
    /* their code and the objects they use stay: nothing is released */
    rzmq_threads_pin();
    return;
  }
  rzmq_serialize_unload();
  rzmq_poll_unload();
  rzmq_errors_unload();
}
