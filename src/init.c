/* init.c: the .Call registration table and R_init_rzmq. */
#include "rzmq.h"
#include <R_ext/Rdynload.h>

SEXP rzmq_unwind_token = NULL;

/* via void (*)(void), the generic function pointer type */
#define ENTRY(name, n) {#name, (DL_FUNC)(void (*)(void))&name, n}

static const R_CallMethodDef call_methods[] = {
    ENTRY(rzmq_version_get, 0),
    ENTRY(rzmq_errno_get, 0),
    ENTRY(rzmq_strerror_get, 0),
    ENTRY(rzmq_context_new, 1),
    ENTRY(rzmq_context_destroy, 2),
    ENTRY(rzmq_exit_cleanup, 1),
    ENTRY(rzmq_socket_new, 2),
    ENTRY(rzmq_socket_bind, 2),
    ENTRY(rzmq_socket_connect, 2),
    ENTRY(rzmq_socket_disconnect, 2),
    ENTRY(rzmq_socket_unbind, 2),
    ENTRY(rzmq_socket_close, 1),
    ENTRY(rzmq_option_set, 4),
    ENTRY(rzmq_option_get, 2),
    ENTRY(rzmq_option_names, 0),
    ENTRY(rzmq_poll, 3),
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
    ENTRY(rzmq_message_new, 3),
    ENTRY(rzmq_message_send, 3),
    ENTRY(rzmq_lent_count, 0),
    {NULL, NULL, 0}};

void R_init_rzmq(DllInfo *dll) {
  R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
  R_forceSymbols(dll, TRUE);
  rzmq_unwind_token = R_MakeUnwindCont();
  R_PreserveObject(rzmq_unwind_token);
  rzmq_lifetime_init(dll);
}
