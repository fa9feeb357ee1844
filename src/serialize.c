/* serialize.c: R objects to and from bytes, written straight into message
 * buffers. The bytes are exactly those of serialize(x, NULL, xdr = xdr)
 * (format 3). Plain atomic vectors take a fast path that writes the format
 * directly; everything else goes through R_Serialize / R_Unserialize with our
 * own streams. Nothing is copied twice and no R vector sits in between;
 * large messages are written into bufcache.c's buffers. */
#include "rzmq.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Up to this size a serialization is copied into a libzmq-owned message
 * and the growing buffer is kept for the next call; above it the buffer
 * itself is handed to libzmq. */
#define COPY_LIMIT 65536
#define MIN_CAP 1024

/* ---- byte order ---------------------------------------------------------- */

static int little_endian(void) {
  const unsigned int one = 1;
  return *(const unsigned char *)&one == 1;
}

/* Copy n items of `size` bytes, reversing each item's bytes when `swap`. */
static void copy_items(unsigned char *dst, const unsigned char *src, size_t n,
                       size_t size, int swap) {
  size_t i, k;
  if (!swap) {
    memcpy(dst, src, n * size);
    return;
  }
  for (i = 0; i < n; i++, dst += size, src += size)
    for (k = 0; k < size; k++) dst[k] = src[size - 1 - k];
}

static void put_int(unsigned char *p, int v, int swap) {
  copy_items(p, (const unsigned char *)&v, 1, sizeof v, swap);
}

static int get_int(const unsigned char *p, int swap) {
  int v;
  copy_items((unsigned char *)&v, p, 1, sizeof v, swap);
  return v;
}

/* ---- output stream for R_Serialize --------------------------------------- */

typedef struct {
  char *buf;
  size_t len, cap;
} outbuf;

/* The growing buffer of the last small serialization, reused by the next
 * one; owned by whoever takes it (nested calls find it gone). */
static char *scratch = NULL;
static size_t scratch_cap = 0;

static void outbuf_grow(outbuf *b, size_t need) {
  size_t cap = b->cap < MIN_CAP ? MIN_CAP : b->cap;
  char *p;
  while (cap < need) cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
  p = realloc(b->buf, cap);
  if (p == NULL)
    rzmq_fail_stop(ENOMEM, "cannot allocate %.0f bytes to serialize `data`",
                   (double)cap);
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

static void give_back(char *buf, size_t cap) {
  if (scratch == NULL) {
    scratch = buf;
    scratch_cap = cap;
  } else {
    free(buf);
  }
}

/* Serialize with R_Serialize into a buffer that becomes (or is copied into)
 * the message. */
static void serialize_general(SEXP x, int xdr, zmq_msg_t *msg) {
  ser_job job;
  job.x = x;
  job.xdr = xdr;
  job.b.buf = scratch;
  job.b.cap = scratch_cap;
  job.b.len = 0;
  scratch = NULL;
  scratch_cap = 0;
  rzmq_protect(ser_body, &job, ser_cleanup, &job, 0);

  if (job.b.len <= COPY_LIMIT) {
    int err = zmq_msg_init_size(msg, job.b.len) == 0 ? 0 : zmq_errno();
    if (err == 0) memcpy(zmq_msg_data(msg), job.b.buf, job.b.len);
    give_back(job.b.buf, job.b.cap);
    if (err != 0)
      rzmq_fail_stop(err, "cannot allocate a message of %.0f bytes",
                     (double)job.b.len);
    return;
  }
  if (job.b.cap - job.b.len > job.b.len / 8) { /* give back the slack */
    char *p = realloc(job.b.buf, job.b.len);
    if (p != NULL) {
      job.b.buf = p;
      job.b.cap = job.b.len;
    }
  }
  if (rzmq_bufcache_msg(msg, job.b.buf, job.b.len, job.b.cap) != 0) {
    int err = zmq_errno();
    free(job.b.buf);
    rzmq_fail_stop(err, "cannot create a message of %.0f bytes",
                   (double)job.b.len);
  }
}

/* ---- the header R writes, captured once per format ------------------------ */

static unsigned char header[2][64];
static size_t header_len[2] = {0, 0};

/* serialize(NULL) is the header followed by one int (NILVALUE_SXP): taking
 * R's own bytes keeps the header identical to what this R writes. */
static void capture_header(int xdr) {
  zmq_msg_t m;
  serialize_general(R_NilValue, xdr, &m);
  if (zmq_msg_size(&m) > 4 && zmq_msg_size(&m) - 4 <= sizeof header[0]) {
    header_len[xdr] = zmq_msg_size(&m) - 4;
    memcpy(header[xdr], zmq_msg_data(&m), header_len[xdr]);
  }
  zmq_msg_close(&m);
}

static void *vec_ptr(SEXP x) {
  switch (TYPEOF(x)) {
  case LGLSXP: return LOGICAL(x);
  case INTSXP: return INTEGER(x);
  case REALSXP: return REAL(x);
  case CPLXSXP: return COMPLEX(x);
  /* a received frame is read where it is (zerocopy.c), never copied out */
  default: return ALTREP(x) ? (void *)DATAPTR_RO(x) : RAW(x);
  }
}

static size_t elt_size(SEXPTYPE t) {
  switch (t) {
  case LGLSXP:
  case INTSXP: return sizeof(int);
  case REALSXP: return sizeof(double);
  case CPLXSXP: return sizeof(Rcomplex);
  case RAWSXP: return 1;
  default: return 0;
  }
}

/* Item size for byte order: complex numbers swap as two doubles. */
static size_t swap_unit(SEXPTYPE t) {
  return t == CPLXSXP ? sizeof(double) : elt_size(t);
}

/* Vectors R writes as flags, length and the data in one block: no
 * attributes, not an object, not S4 (the one flag besides those that R
 * writes for an atomic vector). */
static int plain_vector(SEXP x) {
  return elt_size(TYPEOF(x)) > 0 && (!ALTREP(x) || rzmq_is_frame(x)) &&
         !rzmq_has_attributes(x) &&
         !Rf_isObject(x) && !Rf_isS4(x);
}

/* Write the whole serialization of a plain vector at p. */
static void write_plain(unsigned char *p, SEXP x, int xdr) {
  SEXPTYPE t = TYPEOF(x);
  R_xlen_t n = XLENGTH(x);
  size_t hl = header_len[xdr];
  int swap = xdr && little_endian();
  memcpy(p, header[xdr], hl);
  p += hl;
  put_int(p, (int)t, swap); /* flags: no levels, object bit or attributes */
  p += 4;
  if (n > INT_MAX) {
    put_int(p, -1, swap);
    put_int(p + 4, (int)(n / 4294967296.0), swap);
    put_int(p + 8, (int)(n % 4294967296LL), swap);
    p += 12;
  } else {
    put_int(p, (int)n, swap);
    p += 4;
  }
  if (n > 0) {
    size_t unit = swap_unit(t);
    copy_items(p, (const unsigned char *)vec_ptr(x),
               (size_t)n * elt_size(t) / unit, unit, t != RAWSXP && swap);
  }
}

void rzmq_serialize_to_msg(SEXP x, int xdr, zmq_msg_t *msg) {
  size_t total;
  if (header_len[xdr] == 0) capture_header(xdr);
  if (header_len[xdr] == 0 || !plain_vector(x)) {
    serialize_general(x, xdr, msg);
    return;
  }
  total = header_len[xdr] + 4 + (XLENGTH(x) > INT_MAX ? 12 : 4) +
          (size_t)XLENGTH(x) * elt_size(TYPEOF(x));
  if (total <= COPY_LIMIT) {
    if (zmq_msg_init_size(msg, total) != 0)
      rzmq_fail_stop(zmq_errno(), "cannot allocate a message of %.0f bytes",
                     (double)total);
    write_plain(zmq_msg_data(msg), x, xdr);
  } else {
    size_t cap;
    unsigned char *buf = rzmq_bufcache_take(total, &cap);
    if (buf == NULL)
      rzmq_fail_stop(ENOMEM, "cannot allocate %.0f bytes to serialize `data`",
                     (double)total);
    write_plain(buf, x, xdr);
    if (rzmq_bufcache_msg(msg, buf, total, cap) != 0) {
      int err = zmq_errno();
      free(buf);
      rzmq_fail_stop(err, "cannot create a message of %.0f bytes",
                     (double)total);
    }
  }
}

/* ---- in -------------------------------------------------------------------- */

/* A plain vector (see plain_vector) read straight from the bytes, or NULL
 * (the C null pointer) to let R_Unserialize handle everything else,
 * including every malformed input. */
static SEXP read_plain(const unsigned char *p, size_t n) {
  int swap, version, flags;
  size_t pos = 0, unit, size;
  SEXPTYPE t;
  double len;
  SEXP out;
  if (n < 14 || p[1] != '\n' || (p[0] != 'B' && p[0] != 'X')) return NULL;
  swap = p[0] == 'X' && little_endian();
  version = get_int(p + 2, swap);
  pos = 2 + 4 + 8; /* format, version, writer's and reader's R versions */
  if (version == 3) {
    int nelen;
    if (n < pos + 4) return NULL;
    nelen = get_int(p + pos, swap);
    if (nelen < 0 || nelen > 63) return NULL; /* R's limit: R_CODESET_MAX */
    pos += 4 + (size_t)nelen;
  } else if (version != 2) {
    return NULL;
  }
  if (n < pos + 8) return NULL;
  flags = get_int(p + pos, swap);
  t = (SEXPTYPE)(flags & 0xFF);
  if ((flags & ~0xFF) != 0 || elt_size(t) == 0) return NULL;
  pos += 4;
  len = get_int(p + pos, swap);
  pos += 4;
  if (len == -1) {
    if (n < pos + 8) return NULL;
    len = (unsigned int)get_int(p + pos, swap) * 4294967296.0 +
          (unsigned int)get_int(p + pos + 4, swap);
    pos += 8;
  }
  size = elt_size(t);
  /* compare as doubles first: casting an out-of-range double is undefined */
  if (len < 0 || len > (double)(n - pos) || len != floor(len) ||
      (size_t)len * size != n - pos)
    return NULL;
  out = Rf_allocVector(t, (R_xlen_t)len);
  rzmq_advise_fresh(vec_ptr(out), (size_t)len * size);
  unit = swap_unit(t);
  if (len > 0)
    copy_items((unsigned char *)vec_ptr(out), p + pos,
               (size_t)len * size / unit, unit, t != RAWSXP && swap);
  return out;
}

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

SEXP rzmq_unserialize_bytes(const unsigned char *p, size_t n, void *unused) {
  struct R_inpstream_st st;
  inbuf b;
  SEXP out = read_plain(p, n);
  (void)unused;
  if (out != NULL) return out;
  b.p = p;
  b.left = n;
  R_InitInPStream(&st, (R_pstream_data_t)&b, R_pstream_any_format, in_char,
                  in_bytes, NULL, R_NilValue);
  return R_Unserialize(&st);
}

/* ---- exit and unload --------------------------------------------------------
 * The serializer's end: its scratch buffer here, its large-buffer cache
 * (and the cache's thread) in bufcache.c. */

void rzmq_serialize_unload(void) {
  free(scratch);
  scratch = NULL;
  scratch_cap = 0;
  rzmq_bufcache_unload();
}
