/* handle.c: the handles R holds. External pointers tagged by kind (context,
 * socket, message object, authenticator, proxy, poller), one getter that validates
 * any kind (open, not lent to a proxy) and names the argument in its errors,
 * and the count of handles whose finalizers have not run yet (their code
 * must stay loaded, see init.c's unload). */
#include "rzmq.h"

SEXP rzmq_tag[RZMQ_KINDS];
int rzmq_live_handles = 0;

static const struct {
  const char *tag, *noun, *maker, *closed;
} kinds[RZMQ_KINDS] = {
    {"rzmq_context", "zmq context", "init.context()", "has been destroyed"},
    {"rzmq_socket", "zmq socket", "init.socket()", "has been closed"},
    {"rzmq_message", "zmq message", "init.message()", NULL},
    {"rzmq_authenticator", "zmq authenticator", "init.authenticator()",
     "has been destroyed"},
    {"rzmq_proxy", "zmq proxy", "init.proxy()", "has been stopped"},
    {"rzmq_poller", "zmq poller", "init.poller()", NULL},
};

void rzmq_handle_init(void) {
  int k;
  for (k = 0; k < RZMQ_KINDS; k++) rzmq_tag[k] = Rf_install(kinds[k].tag);
}

SEXP rzmq_handle_new(void *h, rzmq_kind kind, SEXP prot, R_CFinalizer_t fin,
                     Rboolean onexit) {
  rzmq_head *head = h;
  SEXP ptr = PROTECT(R_MakeExternalPtr(h, rzmq_tag[kind], prot));
  head->gen = rzmq_fork_gen;
  R_RegisterCFinalizerEx(ptr, fin, onexit);
  rzmq_live_handles++;
  UNPROTECT(1);
  return ptr;
}

void *rzmq_handle_peek(SEXP x, rzmq_kind kind) {
  rzmq_head *h;
  if (TYPEOF(x) != EXTPTRSXP || R_ExternalPtrTag(x) != rzmq_tag[kind])
    return NULL;
  h = R_ExternalPtrAddr(x);
  if (h == NULL || h->gen != rzmq_fork_gen) return NULL;
  return h;
}

int rzmq_handle_kind(SEXP x) {
  int k;
  if (TYPEOF(x) != EXTPTRSXP) return -1;
  for (k = 0; k < RZMQ_KINDS; k++)
    if (R_ExternalPtrTag(x) == rzmq_tag[k]) return k;
  return -1;
}

/* Say what is wrong with `x` as a handle of `kind`. */
static void handle_error(SEXP x, rzmq_kind kind, const char *name) {
  int k = rzmq_handle_kind(x);
  rzmq_head *h;
  if (k != (int)kind) {
    if (k >= 0)
      Rf_error("`%s` must be a %s, not a %s", name, kinds[kind].noun,
               kinds[k].noun);
    Rf_error("`%s` must be a %s made by %s", name, kinds[kind].noun,
             kinds[kind].maker);
  }
  h = R_ExternalPtrAddr(x);
  if (h != NULL && h->gen != rzmq_fork_gen)
    Rf_error("`%s` was created in another process and cannot be used here",
             name);
  if (h == NULL || kinds[kind].closed == NULL)
    Rf_error("`%s` is not a live %s (was it saved and restored?)", name,
             kinds[kind].noun);
  Rf_error("`%s` %s", name, kinds[kind].closed);
}

void *rzmq_handle_get(SEXP x, rzmq_kind kind, const char *name) {
  rzmq_head *h = rzmq_handle_peek(x, kind);
  if (h == NULL || h->closed) handle_error(x, kind, name);
  /* its libzmq socket belongs to a proxy's thread now */
  if (h->busy)
    Rf_error("`%s` is in use by a running proxy: stop.proxy() it first", name);
  return h;
}

void *rzmq_handle_finalizing(SEXP x) {
  rzmq_head *h = R_ExternalPtrAddr(x);
  if (h == NULL) return NULL;
  R_ClearExternalPtr(x);
  rzmq_live_handles--;
  return h->gen == rzmq_fork_gen ? h : NULL;
}

