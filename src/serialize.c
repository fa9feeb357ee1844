/* serialize.c: R objects straight into and out of zmq message buffers. The
 * bytes are exactly those of serialize(x, NULL, xdr = xdr) (format 3). Large
 * buffers are handed to libzmq as they are; small ones are copied into the
 * message so the growing buffer can be kept for the next call. */
#include "rzmq.h"
#include <stdlib.h>
#include <string.h>

extern SEXP rzmq_unwind_token;

/* Below this many bytes the payload is copied into a libzmq-owned message
 * and the serialization buffer is reused; above it the buffer itself moves. */
#define COPY_LIMIT 65536
#define MIN_CAP 1024

typedef struct {
  char *buf;
  size_t len, cap;
} outbuf;

/* One spare buffer, owned by whoever takes it (nested calls find it gone). */
static char *spare = NULL;
static size_t spare_cap = 0;

static void outbuf_grow(outbuf *b, size_t need) {
  size_t cap = b->cap < MIN_CAP ? MIN_CAP : b->cap;
  char *p;
  while (cap < need) cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
  p = realloc(b->buf, cap);
  if (p == NULL)
    Rf_error("cannot allocate %.0f bytes to serialize `data`", (double)cap);
  b->buf = p;
  b->cap = cap;
}

static void out_bytes(R_outpstream_t st, void *p, int n) {
  outbuf *b = (outbuf *)st->data;
  if (b->len + (size_t)n > b->cap) outbuf_grow(b, b->len + (size_t)n);
  memcpy(b->buf + b->len, p, (size_t)n);
  b->len += (size_t)n;
}

static void out_char(R_outpstream_t st, int c) {
  unsigned char ch = (unsigned char)c;
  out_bytes(st, &ch, 1);
}

typedef struct {
  SEXP x;
  int xdr;
  outbuf b;
} ser_job;

static SEXP ser_body(void *d) {
  ser_job *job = d;
  struct R_outpstream_st st;
  R_InitOutPStream(&st, (R_pstream_data_t)&job->b,
                   job->xdr ? R_pstream_xdr_format : R_pstream_binary_format, 3,
                   out_char, out_bytes, NULL, R_NilValue);
  R_Serialize(job->x, &st);
  return R_NilValue;
}

static void ser_cleanup(void *d, Rboolean jump) {
  ser_job *job = d;
  if (jump) {
    free(job->b.buf);
    job->b.buf = NULL;
  }
}

/* Runs on whichever thread libzmq releases the message from: no R here. */
static void free_buffer(void *data, void *hint) {
  (void)hint;
  free(data);
}

static void give_back(char *buf, size_t cap) {
  if (spare == NULL) {
    spare = buf;
    spare_cap = cap;
  } else {
    free(buf);
  }
}

void rzmq_serialize_to_msg(SEXP x, int xdr, zmq_msg_t *msg) {
  ser_job job;
  job.x = x;
  job.xdr = xdr;
  job.b.buf = spare;
  job.b.cap = spare_cap;
  job.b.len = 0;
  spare = NULL;
  spare_cap = 0;
  R_UnwindProtect(ser_body, &job, ser_cleanup, &job, rzmq_unwind_token);

  if (job.b.len <= COPY_LIMIT) {
    int rc = zmq_msg_init_size(msg, job.b.len);
    if (rc == 0) memcpy(zmq_msg_data(msg), job.b.buf, job.b.len);
    give_back(job.b.buf, job.b.cap);
    if (rc != 0) Rf_error("cannot allocate a message of %.0f bytes",
                          (double)job.b.len);
    return;
  }
  if (job.b.cap - job.b.len > job.b.len / 8) { /* give back the slack */
    char *p = realloc(job.b.buf, job.b.len);
    if (p != NULL) job.b.buf = p;
  }
  if (zmq_msg_init_data(msg, job.b.buf, job.b.len, free_buffer, NULL) != 0) {
    free(job.b.buf);
    Rf_error("cannot create a message of %.0f bytes", (double)job.b.len);
  }
}

/* ---- in ---------------------------------------------------------------- */

typedef struct {
  const unsigned char *p;
  size_t left;
} inbuf;

static void truncated(void) {
  Rf_error("the received message is not a complete serialized R object; "
           "use unserialize = FALSE to get its bytes");
}

static int in_char(R_inpstream_t st) {
  inbuf *b = (inbuf *)st->data;
  if (b->left == 0) truncated();
  b->left--;
  return *b->p++;
}

static void in_bytes(R_inpstream_t st, void *buf, int n) {
  inbuf *b = (inbuf *)st->data;
  if (n < 0 || (size_t)n > b->left) truncated();
  memcpy(buf, b->p, (size_t)n);
  b->p += n;
  b->left -= (size_t)n;
}

typedef struct {
  zmq_msg_t *msg;
  SEXP (*fn)(zmq_msg_t *, void *);
  void *data;
} msg_job;

static SEXP msg_body(void *d) {
  msg_job *job = d;
  return job->fn(job->msg, job->data);
}

static void msg_cleanup(void *d, Rboolean jump) {
  (void)jump;
  zmq_msg_close(((msg_job *)d)->msg);
}

SEXP rzmq_with_msg(zmq_msg_t *msg, SEXP (*fn)(zmq_msg_t *, void *),
                   void *data) {
  msg_job job;
  job.msg = msg;
  job.fn = fn;
  job.data = data;
  return R_UnwindProtect(msg_body, &job, msg_cleanup, &job, rzmq_unwind_token);
}

static SEXP unserialize_body(zmq_msg_t *msg, void *unused) {
  struct R_inpstream_st st;
  inbuf b;
  (void)unused;
  b.p = zmq_msg_data(msg);
  b.left = zmq_msg_size(msg);
  R_InitInPStream(&st, (R_pstream_data_t)&b, R_pstream_any_format, in_char,
                  in_bytes, NULL, R_NilValue);
  return R_Unserialize(&st);
}

SEXP rzmq_unserialize_msg(zmq_msg_t *msg) {
  return rzmq_with_msg(msg, unserialize_body, NULL);
}
