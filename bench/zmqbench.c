/* zmqbench.c: the raw libzmq column of bench/run.R.
 *
 * Every mode does the same work as bench/zmqbench.R and bench/zmqbench.py and
 * prints its figures as lines "RESULT key=value ...", which run.R parses.
 *
 *   zmqbench pair TRANSPORT BUDGET_S MIN_N SIZE [SIZE ...]
 *       PAIR pair in one thread over inproc or tcp://127.0.0.1:*; one send
 *       plus one receive per message, each SIZE for about BUDGET_S seconds
 *       (batches doubling until the budget is spent and at least MIN_N
 *       messages went); prints us per message.
 *   zmqbench memcpy BYTES REPS
 *       median time of one memcpy between two pre-touched buffers (ms).
 *   zmqbench reqrep N WARM [TRANSPORT]  (forks a REP server: reqrep-server)
 *
 * TRANSPORT "tcp+curve" is tcp with CURVE: the bound socket is the CURVE
 * server (a fresh key pair, no ZAP handler, so any client that knows its
 * public key gets in), the connecting one a client with a fresh key pair.
 * Without CURVE in libzmq (zmq_has("curve") is 0) such a mode prints
 * "RESULT unavailable=curve" and nothing else.
 *   zmqbench pushpull N SIZE HWM        (forks a PUSH sender: push-client)
 *   zmqbench poll BUDGET_S NSOCK
 *       zmq_poll over NSOCK PULL sockets bound to inproc, nothing ready,
 *       timeout 0; us per call.
 *   zmqbench remote NW N_SMALL N_MB WARM SMALL_TASK SMALL_RESULT MB_TASK MB_RESULT
 *       workload 8's shape with raw frames (forks NW workers: remote-worker):
 *       task and result frames of the sizes (bytes) that R's serialized
 *       tasks and results take; NW = 1: REQ master, REP worker; NW > 1:
 *       ROUTER master, REQ workers that ask for work.
 *
 * Build: gcc -O2 -o zmqbench zmqbench.c -lzmq
 */
#define _GNU_SOURCE
#include <zmq.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *what) {
  fprintf(stderr, "zmqbench: %s: %s\n", what, zmq_strerror(zmq_errno()));
  exit(1);
}

static void bind_any(void *s, const char *transport, const char *name,
                     char *ep, size_t eplen) {
  char want[256];
  size_t len = eplen;
  if (strncmp(transport, "tcp", 3) == 0)
    snprintf(want, sizeof want, "tcp://127.0.0.1:*");
  else
    snprintf(want, sizeof want, "inproc://%s", name);
  if (zmq_bind(s, want)) die("bind");
  if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len)) die("LAST_ENDPOINT");
}

/* ---- CURVE (workload 9) ------------------------------------------------- */
static int is_curve(const char *transport) {
  return strcmp(transport, "tcp+curve") == 0;
}

static int no_curve(void) {
  if (zmq_has("curve")) return 0;
  printf("RESULT unavailable=curve\n");
  return 1;
}

/* Before bind: s becomes a CURVE server; its public key (Z85) goes to pub. */
static void curve_server(void *s, char pub[41]) {
  char secret[41];
  int on = 1;
  if (zmq_curve_keypair(pub, secret)) die("zmq_curve_keypair");
  if (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &on, sizeof on)) die("CURVE_SERVER");
  if (zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret, 40)) die("CURVE_SECRETKEY");
}

/* Before connect: s becomes a CURVE client of the server with key server_pub. */
static void curve_client(void *s, const char *server_pub) {
  char pub[41], secret[41];
  if (zmq_curve_keypair(pub, secret)) die("zmq_curve_keypair");
  if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_pub, strlen(server_pub)))
    die("CURVE_SERVERKEY");
  if (zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40)) die("CURVE_PUBLICKEY");
  if (zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret, 40)) die("CURVE_SECRETKEY");
}

/* Size of the next timed batch: doubling, but no more than what the rest of
 * the time budget (or the rest of MIN_N) needs, so a run lasts about BUDGET. */
static long next_batch(long batch, long n, double t, double budget, long min_n) {
  double per = t / n, left = budget - t, want;
  if (left <= 0) return min_n > n ? min_n - n : 1;
  want = per > 0 ? left / per : 2.0 * batch;
  if (want > 2.0 * batch) want = 2.0 * batch;
  if (want < 1) want = 1;
  if (min_n - n > want) want = (double)(min_n - n);
  return (long)want;
}

/* ---- pair: one send + one receive per message ------------------------- */
static void one_msg(void *a, void *b, const char *buf, char *rb, size_t sz) {
  zmq_msg_t m, r;
  zmq_msg_init_size(&m, sz);
  memcpy(zmq_msg_data(&m), buf, sz);
  if (zmq_msg_send(&m, a, 0) < 0) die("send");
  zmq_msg_init(&r);
  if (zmq_msg_recv(&r, b, 0) < 0) die("recv");
  memcpy(rb, zmq_msg_data(&r), zmq_msg_size(&r));
  zmq_msg_close(&r);
}

static int mode_pair(int argc, char **argv) {
  const char *transport;
  double budget;
  long min_n;
  int i;
  char ep[256];
  void *ctx, *a, *b;
  if (argc < 6) return 2;
  transport = argv[2];
  budget = atof(argv[3]);
  min_n = atol(argv[4]);
  if (is_curve(transport) && no_curve()) return 0;
  ctx = zmq_ctx_new();
  a = zmq_socket(ctx, ZMQ_PAIR);
  b = zmq_socket(ctx, ZMQ_PAIR);
  if (is_curve(transport)) {
    char pub[41];
    curve_server(b, pub);
    curve_client(a, pub);
  }
  bind_any(b, transport, "bench-pair", ep, sizeof ep);
  if (zmq_connect(a, ep)) die("connect");
  for (i = 5; i < argc; i++) {
    size_t sz = (size_t)atol(argv[i]);
    char *buf = malloc(sz ? sz : 1), *rb = malloc(sz ? sz : 1);
    long n = 0, batch = 1, k;
    double t = 0, t0;
    memset(buf, 7, sz);
    memset(rb, 0, sz);
    one_msg(a, b, buf, rb, sz); /* warm-up */
    while (t < budget || n < min_n) {
      t0 = now();
      for (k = 0; k < batch; k++) one_msg(a, b, buf, rb, sz);
      t += now() - t0;
      n += batch;
      batch = next_batch(batch, n, t, budget, min_n);
    }
    if (memcmp(buf, rb, sz) != 0) {
      fprintf(stderr, "zmqbench: received frame differs (size %zu)\n", sz);
      return 1;
    }
    printf("RESULT size=%zu n=%ld us=%.6f\n", sz, n, t / n * 1e6);
    fflush(stdout);
    free(buf);
    free(rb);
  }
  zmq_close(a);
  zmq_close(b);
  zmq_ctx_term(ctx);
  return 0;
}

/* ---- memcpy -------------------------------------------------------------- */
static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static int mode_memcpy(int argc, char **argv) {
  size_t bytes;
  int reps, i;
  char *src, *dst;
  double *t;
  if (argc < 4) return 2;
  bytes = (size_t)atof(argv[2]);
  reps = atoi(argv[3]);
  src = malloc(bytes);
  dst = malloc(bytes);
  t = malloc(sizeof(double) * reps);
  if (!src || !dst || !t) return 1;
  memset(src, 1, bytes); /* touch every page of both buffers */
  memset(dst, 2, bytes);
  for (i = 0; i < reps; i++) {
    double t0 = now();
    memcpy(dst, src, bytes);
    t[i] = now() - t0;
    src[i % bytes] = (char)i; /* keep the copies from being folded */
  }
  qsort(t, reps, sizeof(double), cmp_double);
  printf("RESULT bytes=%zu reps=%d ms=%.4f check=%d\n", bytes, reps,
         t[reps / 2] * 1e3, dst[bytes / 2]);
  return 0;
}

/* ---- two processes: fork + exec this program as the peer ---------------- */
static pid_t spawn(char *const args[]) {
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(1);
  }
  if (pid == 0) {
    /* survives exec: a stuck peer dies (BENCH_CHILD_TIMEOUT, default 120 s) */
    const char *tmo = getenv("BENCH_CHILD_TIMEOUT");
    alarm(tmo && atoi(tmo) > 0 ? (unsigned)atoi(tmo) : 120u);
    execv("/proc/self/exe", args);
    perror("execv");
    _exit(127);
  }
  return pid;
}

static int reap(pid_t pid) {
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int mode_reqrep_server(int argc, char **argv) {
  long count, i;
  char buf[256];
  void *ctx, *s;
  int linger = -1;
  if (argc < 4) return 2;
  count = atol(argv[3]);
  ctx = zmq_ctx_new();
  s = zmq_socket(ctx, ZMQ_REP);
  if (argc > 4) curve_client(s, argv[4]); /* the parent's public key */
  if (zmq_connect(s, argv[2])) die("connect");
  for (i = 0; i < count; i++) {
    int n = zmq_recv(s, buf, sizeof buf, 0);
    if (n < 0) die("recv");
    if (zmq_send(s, buf, n, 0) < 0) die("send");
  }
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(s);
  zmq_ctx_term(ctx); /* the last reply leaves before we exit */
  return 0;
}

static int mode_reqrep(int argc, char **argv) {
  long n, warm, i;
  char ep[256], total[32], r[8], pub[41];
  char payload = 7;
  void *ctx, *s;
  double t0, t;
  pid_t pid;
  int curve;
  if (argc < 4) return 2;
  n = atol(argv[2]);
  warm = atol(argv[3]);
  curve = argc > 4 && is_curve(argv[4]);
  if (curve && no_curve()) return 0;
  ctx = zmq_ctx_new();
  s = zmq_socket(ctx, ZMQ_REQ);
  if (curve) curve_server(s, pub); /* the binding side is the CURVE server */
  bind_any(s, "tcp", "", ep, sizeof ep);
  snprintf(total, sizeof total, "%ld", 1 + warm + n);
  {
    char *args[] = {argv[0], "reqrep-server", ep, total, curve ? pub : NULL, NULL};
    pid = spawn(args);
  }
  /* the first round trip waits for the server to come up */
  for (i = 0; i < 1 + warm; i++) {
    if (zmq_send(s, &payload, 1, 0) < 0) die("send");
    if (zmq_recv(s, r, sizeof r, 0) != 1) die("recv");
  }
  t0 = now();
  for (i = 0; i < n; i++) {
    zmq_send(s, &payload, 1, 0);
    if (zmq_recv(s, r, sizeof r, 0) != 1) die("recv");
  }
  t = now() - t0;
  if (r[0] != payload) return 1;
  printf("RESULT n=%ld us=%.4f\n", n, t / n * 1e6);
  zmq_close(s);
  zmq_ctx_term(ctx);
  return reap(pid);
}

static int mode_push_client(int argc, char **argv) {
  long n, i;
  size_t sz;
  int hwm, linger = -1;
  char *buf;
  void *ctx, *s;
  if (argc < 6) return 2;
  n = atol(argv[3]);
  sz = (size_t)atol(argv[4]);
  hwm = atoi(argv[5]);
  buf = malloc(sz);
  memset(buf, 7, sz);
  ctx = zmq_ctx_new();
  s = zmq_socket(ctx, ZMQ_PUSH);
  zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
  if (zmq_connect(s, argv[2])) die("connect");
  for (i = 0; i < n; i++)
    if (zmq_send(s, buf, sz, 0) < 0) die("send");
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(s);
  zmq_ctx_term(ctx); /* every message delivered before exit */
  return 0;
}

static int mode_pushpull(int argc, char **argv) {
  long n, i;
  size_t sz;
  int hwm;
  char ep[256], ns[32], *rb;
  void *ctx, *s;
  double t0, t;
  pid_t pid;
  if (argc < 5) return 2;
  n = atol(argv[2]);
  sz = (size_t)atol(argv[3]);
  hwm = atoi(argv[4]);
  rb = malloc(sz + 1);
  ctx = zmq_ctx_new();
  s = zmq_socket(ctx, ZMQ_PULL);
  zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
  bind_any(s, "tcp", "", ep, sizeof ep);
  snprintf(ns, sizeof ns, "%ld", n);
  {
    char *args[] = {argv[0], "push-client", ep, ns, argv[3], argv[4], NULL};
    pid = spawn(args);
  }
  if (zmq_recv(s, rb, sz + 1, 0) != (int)sz) die("recv");
  t0 = now();
  for (i = 1; i < n; i++)
    if (zmq_recv(s, rb, sz + 1, 0) != (int)sz) die("recv");
  t = now() - t0;
  printf("RESULT n=%ld msgs_per_s=%.1f\n", n, (n - 1) / t);
  zmq_close(s);
  zmq_ctx_term(ctx);
  return reap(pid);
}

/* ---- poll ---------------------------------------------------------------- */
static int mode_poll(int argc, char **argv) {
  double budget, t = 0, t0;
  int nsock, i;
  long n = 0, batch = 1, k;
  void *ctx;
  zmq_pollitem_t items[64];
  if (argc < 4) return 2;
  budget = atof(argv[2]);
  nsock = atoi(argv[3]);
  if (nsock > 64) nsock = 64;
  ctx = zmq_ctx_new();
  for (i = 0; i < nsock; i++) {
    char name[64];
    items[i].socket = zmq_socket(ctx, ZMQ_PULL);
    snprintf(name, sizeof name, "inproc://bench-poll-%d", i);
    if (zmq_bind(items[i].socket, name)) die("bind");
    items[i].fd = 0;
    items[i].events = ZMQ_POLLIN;
    items[i].revents = 0;
  }
  if (zmq_poll(items, nsock, 0) != 0) die("poll");
  while (t < budget) {
    t0 = now();
    for (k = 0; k < batch; k++)
      if (zmq_poll(items, nsock, 0) != 0) die("poll");
    t += now() - t0;
    n += batch;
    batch = next_batch(batch, n, t, budget, 1);
  }
  printf("RESULT n=%ld us=%.6f\n", n, t / n * 1e6);
  for (i = 0; i < nsock; i++) zmq_close(items[i].socket);
  zmq_ctx_term(ctx);
  return 0;
}

/* ---- remote: workload 8 with raw frames ---------------------------------
 * A task frame carries in its first 4 bytes the size of the result frame the
 * worker sends back; a frame shorter than 4 bytes is "ready" (from a worker)
 * or "stop" (to a worker). Both sides copy each frame out of or into a
 * buffer of their own, as R does when it serializes and unserializes. */
#define MAX_WORKERS 16
#define MAX_FRAME (4u << 20)

static void send_frame(void *s, const char *buf, size_t sz, int flags) {
  zmq_msg_t m;
  if (zmq_msg_init_size(&m, sz)) die("zmq_msg_init_size");
  if (sz) memcpy(zmq_msg_data(&m), buf, sz);
  if (zmq_msg_send(&m, s, flags) < 0) die("send");
}

/* Receives one frame into buf (at most cap bytes); returns its size. */
static size_t recv_frame(void *s, char *buf, size_t cap) {
  zmq_msg_t m;
  size_t sz;
  zmq_msg_init(&m);
  if (zmq_msg_recv(&m, s, 0) < 0) die("recv");
  sz = zmq_msg_size(&m);
  if (sz > cap) {
    fprintf(stderr, "zmqbench: frame of %zu bytes, more than %zu\n", sz, cap);
    exit(1);
  }
  memcpy(buf, zmq_msg_data(&m), sz);
  zmq_msg_close(&m);
  return sz;
}

static int mode_remote_worker(int argc, char **argv) {
  void *ctx, *s;
  char *in, *out;
  int req, linger = -1;
  if (argc < 4) return 2;
  req = strcmp(argv[3], "req") == 0;
  in = malloc(MAX_FRAME);
  out = calloc(MAX_FRAME, 1);
  ctx = zmq_ctx_new();
  s = zmq_socket(ctx, req ? ZMQ_REQ : ZMQ_REP);
  if (zmq_connect(s, argv[2])) die("connect");
  if (req) send_frame(s, out, 0, 0); /* ready */
  for (;;) {
    uint32_t reply;
    size_t sz = recv_frame(s, in, MAX_FRAME);
    if (sz < 4) break; /* stop */
    memcpy(&reply, in, 4);
    send_frame(s, out, reply, 0);
  }
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(s);
  zmq_ctx_term(ctx);
  return 0;
}

typedef struct {
  void *s;
  int nw, nidle;
  char id[MAX_WORKERS][256];
  size_t idlen[MAX_WORKERS];
  char *task, *reply;
} master_t;

static void master_send(master_t *m, int w, size_t task_sz) {
  send_frame(m->s, m->id[w], m->idlen[w], ZMQ_SNDMORE);
  send_frame(m->s, m->task, 0, ZMQ_SNDMORE);
  send_frame(m->s, m->task, task_sz, 0);
}

/* Receives [identity, empty, result] into slot w; returns the result size. */
static size_t master_recv(master_t *m, int w) {
  char empty[8];
  m->idlen[w] = recv_frame(m->s, m->id[w], sizeof m->id[w]);
  if (recv_frame(m->s, empty, sizeof empty) != 0) die("REQ envelope");
  return recv_frame(m->s, m->reply, MAX_FRAME);
}

/* n tasks of task_sz bytes, each answered with result_sz bytes; returns the
 * wall time, and with one worker each round trip in lat (if not NULL). */
static double master_run(master_t *m, long n, size_t task_sz, size_t result_sz,
                         double *lat) {
  uint32_t want = (uint32_t)result_sz;
  double t_all = now();
  long i, sent = 0, done = 0;
  memcpy(m->task, &want, 4);
  if (m->nw == 1) {
    for (i = 0; i < n; i++) {
      double t0 = now();
      send_frame(m->s, m->task, task_sz, 0);
      if (recv_frame(m->s, m->reply, MAX_FRAME) != result_sz) die("result size");
      if (lat) lat[i] = now() - t0;
    }
    return now() - t_all;
  }
  /* the idle workers sit in slots 0 .. nidle-1; a busy one's slot is reused
   * for the reply that frees it */
  while (sent < n && m->nidle > 0) {
    master_send(m, --m->nidle, task_sz);
    sent++;
  }
  while (done < n) {
    int w = m->nidle;
    if (master_recv(m, w) != result_sz) die("result size");
    done++;
    if (sent < n) {
      master_send(m, w, task_sz);
      sent++;
    } else {
      m->nidle++;
    }
  }
  return now() - t_all;
}

static int mode_remote(int argc, char **argv) {
  master_t m;
  long counts[2], warm, nmax;
  size_t task_sz[2], result_sz[2];
  const char *kind[2] = {"small", "mb"};
  char ep[256];
  void *ctx;
  double *lat;
  pid_t pids[MAX_WORKERS];
  int k, w, linger = -1, rc = 0;
  if (argc < 10) return 2;
  m.nw = atoi(argv[2]);
  if (m.nw < 1 || m.nw > MAX_WORKERS) return 2;
  counts[0] = atol(argv[3]);
  counts[1] = atol(argv[4]);
  warm = atol(argv[5]);
  task_sz[0] = (size_t)atol(argv[6]);
  result_sz[0] = (size_t)atol(argv[7]);
  task_sz[1] = (size_t)atol(argv[8]);
  result_sz[1] = (size_t)atol(argv[9]);
  for (k = 0; k < 2; k++)
    if (task_sz[k] < 4 || task_sz[k] > MAX_FRAME || result_sz[k] > MAX_FRAME) return 2;
  nmax = counts[0] > counts[1] ? counts[0] : counts[1];
  lat = malloc(sizeof(double) * (size_t)(nmax + 1));
  m.task = calloc(MAX_FRAME, 1);
  m.reply = malloc(MAX_FRAME);
  ctx = zmq_ctx_new();
  m.s = zmq_socket(ctx, m.nw == 1 ? ZMQ_REQ : ZMQ_ROUTER);
  bind_any(m.s, "tcp", "", ep, sizeof ep);
  for (w = 0; w < m.nw; w++) {
    char *args[] = {argv[0], "remote-worker", ep, m.nw == 1 ? "rep" : "req", NULL};
    pids[w] = spawn(args);
  }
  m.nidle = 0;
  if (m.nw > 1)
    for (w = 0; w < m.nw; w++) {
      if (master_recv(&m, w) != 0) die("worker's first frame is not 'ready'");
      m.nidle++;
    }
  for (k = 0; k < 2; k++) {
    long nwarm = k == 1 ? warm / 4 : warm;
    double t;
    master_run(&m, nwarm > 0 ? nwarm : 1, task_sz[k], result_sz[k], NULL);
    t = master_run(&m, counts[k], task_sz[k], result_sz[k], m.nw == 1 ? lat : NULL);
    printf("RESULT kind=%s workers=%d n=%ld tasks_per_s=%.2f lat_us=", kind[k], m.nw,
           counts[k], counts[k] / t);
    if (m.nw == 1) {
      qsort(lat, (size_t)counts[k], sizeof(double), cmp_double);
      printf("%.3f\n", lat[counts[k] / 2] * 1e6);
    } else {
      printf("NA\n");
    }
    fflush(stdout);
  }
  if (m.nw == 1) send_frame(m.s, m.task, 0, 0);
  else
    for (w = 0; w < m.nidle; w++) master_send(&m, w, 0);
  zmq_setsockopt(m.s, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(m.s);
  zmq_ctx_term(ctx);
  for (w = 0; w < m.nw; w++) rc |= reap(pids[w]);
  free(lat);
  free(m.task);
  free(m.reply);
  return rc;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  int rc = 2;
  if (strcmp(mode, "pair") == 0) rc = mode_pair(argc, argv);
  else if (strcmp(mode, "memcpy") == 0) rc = mode_memcpy(argc, argv);
  else if (strcmp(mode, "reqrep") == 0) rc = mode_reqrep(argc, argv);
  else if (strcmp(mode, "reqrep-server") == 0) rc = mode_reqrep_server(argc, argv);
  else if (strcmp(mode, "pushpull") == 0) rc = mode_pushpull(argc, argv);
  else if (strcmp(mode, "push-client") == 0) rc = mode_push_client(argc, argv);
  else if (strcmp(mode, "poll") == 0) rc = mode_poll(argc, argv);
  else if (strcmp(mode, "remote") == 0) rc = mode_remote(argc, argv);
  else if (strcmp(mode, "remote-worker") == 0) rc = mode_remote_worker(argc, argv);
  if (rc == 2) fprintf(stderr, "usage: see the comment at the top of zmqbench.c\n");
  return rc;
}
