/* lend.c: lending on send. A large raw vector is sent without a copy: the
 * message points into the vector, which is kept alive in a slot of a
 * registry until libzmq lets go of it; a frame received in this process
 * from such a message can be the lent vector itself. (zerocopy.c is the
 * other direction: large received frames read in place by R.) */
#include "rzmq.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

/* libzmq may let go on its I/O thread, so the free callback only queues a
 * note; the main thread releases the vector on its next call
 * (rzmq_reclaim). */
typedef struct lent {
  int slot;
  struct lent *next;
} lent;

static SEXP lent_vectors = NULL; /* VECSXP, preserved: slot i, a lent vector */
/* slot i's bytes as lent (NULL: slot free), to find a lent vector by the
 * bytes a received message points at without asking R anything */
static const void **slot_bytes = NULL;
static size_t *slot_len = NULL;
static int *free_slots = NULL;
static int n_free = 0, n_slots = 0;
static int outstanding = 0;  /* lent and not yet reclaimed (main thread) */
static lent *returned = NULL; /* queued by libzmq's threads */

static void lent_done(void *data, void *hint) {
  lent *l = hint;
  (void)data;
  pthread_mutex_lock(&rzmq_io_mu);
  l->next = returned;
  returned = l;
  pthread_mutex_unlock(&rzmq_io_mu);
}

void rzmq_reclaim(void) {
  lent *l;
  if (outstanding == 0) return;
  pthread_mutex_lock(&rzmq_io_mu);
  l = returned;
  returned = NULL;
  pthread_mutex_unlock(&rzmq_io_mu);
  while (l != NULL) {
    lent *next = l->next;
    SET_VECTOR_ELT(lent_vectors, l->slot, R_NilValue);
    slot_bytes[l->slot] = NULL;
    free_slots[n_free++] = l->slot;
    outstanding--;
    free(l);
    l = next;
  }
}

/* ---- finding a lent vector by its bytes ------------------------------------
 * Finding the vector this process lent whose bytes, all of them, a received
 * message is (an inproc message sent and received in this same process).
 * The slots of the last few lends are looked at first; then, unless very
 * many vectors are lent at once, every slot. It cannot find a wrong vector:
 * while the message is open its vector stays in its slot, and no other live
 * vector has those bytes. */
#define RECENT 16
#define SCAN_MAX 16384 /* slots (a few us); past this, only the last lends */
static int recent_slot[RECENT];
static int recent_next = 0;

static void lent_remember(int slot) {
  recent_slot[recent_next] = slot;
  recent_next = (recent_next + 1) % RECENT;
}

static int slot_is(int slot, const void *p, size_t n) {
  return slot >= 0 && slot < n_slots && slot_bytes[slot] == p && slot_len[slot] == n;
}

/* The slot, or -1. */
static int lent_find(const void *p, size_t n) {
  int i;
  if (outstanding == 0 || p == NULL) return -1;
  for (i = 0; i < RECENT; i++)
    if (slot_is(recent_slot[i], p, n)) return recent_slot[i];
  if (n_slots > SCAN_MAX) return -1;
  for (i = 0; i < n_slots; i++)
    if (slot_is(i, p, n)) return i;
  return -1;
}

SEXP rzmq_lent_vector(const void *p, size_t n, int *lent) {
  int slot = lent_find(p, n);
  SEXP v;
  *lent = slot >= 0;
  if (slot < 0) return NULL;
  v = VECTOR_ELT(lent_vectors, slot);
  /* what `y <- x` would give: a plain raw vector, no attributes, not ALTREP */
  if (TYPEOF(v) == RAWSXP && !ALTREP(v) && !rzmq_has_attributes(v) &&
      (size_t)XLENGTH(v) == n)
    return v;
  return NULL;
}

SEXP rzmq_lent_count(void) {
  rzmq_reclaim();
  return Rf_ScalarInteger(outstanding);
}

int rzmq_lent_unload(void) {
  rzmq_reclaim();
  if (outstanding > 0) return 0; /* libzmq still reads them */
  if (lent_vectors != NULL) R_ReleaseObject(lent_vectors);
  lent_vectors = NULL;
  free(free_slots);
  free(slot_bytes);
  free(slot_len);
  free_slots = NULL;
  slot_bytes = NULL;
  slot_len = NULL;
  n_free = n_slots = 0;
  return 1;
}

/* ---- lending ------------------------------------------------------------ */

static void lent_grow(void) {
  int cap = n_slots == 0 ? 64 : n_slots * 2, i;
  int *slots = realloc(free_slots, (size_t)cap * sizeof *slots);
  const void **bytes;
  size_t *lens;
  SEXP bigger;
  if (slots == NULL)
    rzmq_fail_stop(ENOMEM, "cannot allocate memory to send `data`");
  free_slots = slots;
  bytes = realloc(slot_bytes, (size_t)cap * sizeof *bytes);
  if (bytes == NULL)
    rzmq_fail_stop(ENOMEM, "cannot allocate memory to send `data`");
  slot_bytes = bytes;
  lens = realloc(slot_len, (size_t)cap * sizeof *lens);
  if (lens == NULL)
    rzmq_fail_stop(ENOMEM, "cannot allocate memory to send `data`");
  slot_len = lens;
  for (i = n_slots; i < cap; i++) slot_bytes[i] = NULL;
  bigger = PROTECT(Rf_allocVector(VECSXP, cap));
  for (i = 0; i < n_slots; i++)
    SET_VECTOR_ELT(bigger, i, VECTOR_ELT(lent_vectors, i));
  R_PreserveObject(bigger);
  if (lent_vectors != NULL) R_ReleaseObject(lent_vectors);
  lent_vectors = bigger;
  UNPROTECT(1);
  for (i = cap - 1; i >= n_slots; i--) free_slots[n_free++] = i;
  n_slots = cap;
}

void rzmq_lend(zmq_msg_t *msg, SEXP data) {
  size_t n = (size_t)XLENGTH(data);
  lent *l;
  rzmq_reclaim();
  if (n_free == 0) lent_grow();
  l = malloc(sizeof *l);
  if (l == NULL)
    rzmq_fail_stop(ENOMEM, "cannot allocate memory to send `data`");
  l->slot = free_slots[--n_free];
  if (zmq_msg_init_data(msg, RAW(data), n, lent_done, l) != 0) {
    int err = zmq_errno();
    free_slots[n_free++] = l->slot;
    free(l);
    rzmq_fail_stop(err, "cannot create a message of %.0f bytes", (double)n);
  }
  /* changing the vector in R now makes a copy, never the message */
  MARK_NOT_MUTABLE(data);
  slot_bytes[l->slot] = RAW(data);
  slot_len[l->slot] = n;
  lent_remember(l->slot);
  SET_VECTOR_ELT(lent_vectors, l->slot, data);
  outstanding++;
}
