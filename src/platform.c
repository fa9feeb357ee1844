/* platform.c: the OS-specific half of platform.h, one block per system
 * (Windows; POSIX: Linux, macOS and the BSDs). It includes no R header, so
 * windows.h is never read before R's (whose TRUE, FALSE and ERROR it would
 * redefine); elsewhere zmq.h brings winsock2.h in only after them. */
#if defined(_WIN32)
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0600 /* Vista: inet_pton */
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#else
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* glibc: dladdr, RTLD_NODELETE, madvise */
#endif
#ifndef _DARWIN_C_SOURCE
#define _DARWIN_C_SOURCE /* macOS: the same, beside POSIX */
#endif
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#endif
#include "platform.h"
#include <stdint.h>
#include <string.h>

#if defined(_WIN32) && _WIN32_WINNT < 0x0600
#error "rzmq needs _WIN32_WINNT >= 0x0600 (Windows Vista) for inet_pton"
#endif

/* any address inside this library names it */
static int anchor;

#if defined(_WIN32)

double rzmq_clock_monotonic_ms(void) {
  static LARGE_INTEGER freq; /* fixed at boot; reading it twice is harmless */
  LARGE_INTEGER now;
  if (freq.QuadPart == 0) QueryPerformanceFrequency(&freq);
  QueryPerformanceCounter(&now);
  return (double)now.QuadPart * 1e3 / (double)freq.QuadPart;
}

/* winpthreads measures a timed wait's deadline on this same clock */
void rzmq_clock_realtime(struct timespec *ts) {
  FILETIME ft;
  unsigned long long t; /* 100 ns since 1601-01-01 */
  GetSystemTimeAsFileTime(&ft);
  t = ((unsigned long long)ft.dwHighDateTime << 32 | ft.dwLowDateTime) -
      116444736000000000ULL;
  ts->tv_sec = (time_t)(t / 10000000ULL);
  ts->tv_nsec = (long)(t % 10000000ULL) * 100;
}

/* PIN: the module stays until the process ends, whatever FreeLibrary does */
int rzmq_platform_pin(void) {
  HMODULE self;
  return GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                GET_MODULE_HANDLE_EX_FLAG_PIN,
                            (LPCSTR)&anchor, &self) != 0;
}

/* no fork on Windows: nothing to guard */
void rzmq_platform_atfork(void (*prepare)(void), void (*parent)(void),
                          void (*child)(void)) {
  (void)prepare;
  (void)parent;
  (void)child;
}

/* no POSIX signals to steer: a console interrupt reaches R through its own
 * handler thread, never ours */
int rzmq_thread_start_masked(pthread_t *tid, void *(*fn)(void *), void *arg) {
  return pthread_create(tid, NULL, fn, arg);
}

/* large pages on Windows need a privilege and VirtualAlloc: plain malloc'd
 * memory stays as it is */
void rzmq_advise_huge(void *p, size_t n) {
  (void)p;
  (void)n;
}

#else /* POSIX */

double rzmq_clock_monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void rzmq_clock_realtime(struct timespec *ts) {
  clock_gettime(CLOCK_REALTIME, ts);
}

/* A reference to ourselves that is never given back; with RTLD_NODELETE
 * (glibc, macOS) not even a dlclose of every reference unmaps us. */
int rzmq_platform_pin(void) {
  Dl_info info;
  int flags = RTLD_NOW | RTLD_NOLOAD;
#ifdef RTLD_NODELETE
  flags |= RTLD_NODELETE;
#endif
  if (dladdr(&anchor, &info) == 0 || info.dli_fname == NULL) return 0;
  return dlopen(info.dli_fname, flags) != NULL;
}

void rzmq_platform_atfork(void (*prepare)(void), void (*parent)(void),
                          void (*child)(void)) {
  pthread_atfork(prepare, parent, child);
}

int rzmq_thread_start_masked(pthread_t *tid, void *(*fn)(void *), void *arg) {
  sigset_t all, old;
  int rc;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  rc = pthread_create(tid, NULL, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc;
}

/* Transparent huge pages set to "madvise" (Linux) take this advice for the
 * whole 2 MB pages inside the range; elsewhere there is no such advice. */
#define HUGE_ALIGN ((uintptr_t)2 << 20) /* the x86-64 and arm64 huge page */
void rzmq_advise_huge(void *p, size_t n) {
#if defined(MADV_HUGEPAGE)
  uintptr_t start = ((uintptr_t)p + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1);
  uintptr_t end = ((uintptr_t)p + n) & ~(HUGE_ALIGN - 1);
  if (end > start) (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
  (void)p;
  (void)n;
#endif
}

#endif

/* inet_pton is a pure conversion on every system (on Windows from ws2_32,
 * Vista and later) */
int rzmq_ip_parse(const char *s, unsigned char out[16]) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, s, buf) == 1) {
    memcpy(out, buf, 4);
    return 4;
  }
  if (inet_pton(AF_INET6, s, buf) == 1) {
    memcpy(out, buf, 16);
    return 16;
  }
  return 0;
}

/* The socket calls are the same on both, but for the descriptor's type
 * (Windows: SOCKET, which libzmq's ZMQ_SRCFD hands out as an int), the
 * length's type and shutdown's constant. */
#if defined(_WIN32)
typedef SOCKET sock_t;
typedef int sock_len;
#define SHUT_BOTH SD_BOTH
#else
typedef int sock_t;
typedef socklen_t sock_len;
#define SHUT_BOTH SHUT_RDWR
#endif

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0,
                                            0, 0, 0, 0, 0xff, 0xff};

/* One end as 16 bytes and a port; 0 if it is not an IP address. */
static int sa_bytes(const struct sockaddr_storage *ss, unsigned char out[16],
                    int *port) {
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
    memcpy(out, v4_mapped, 12);
    memcpy(out + 12, &in->sin_addr, 4);
    *port = ntohs(in->sin_port);
    return 1;
  }
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    memcpy(out, &in6->sin6_addr, 16);
    *port = ntohs(in6->sin6_port);
    return 1;
  }
  return 0;
}

int rzmq_socket_ends(int fd, unsigned char peer[16], int *peer_port,
                     unsigned char local[16], int *local_port) {
  struct sockaddr_storage ss;
  sock_len len = sizeof ss;
  if (fd < 0) return 0;
  memset(&ss, 0, sizeof ss);
  if (getpeername((sock_t)fd, (struct sockaddr *)&ss, &len) != 0 ||
      !sa_bytes(&ss, peer, peer_port))
    return 0;
  len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  if (getsockname((sock_t)fd, (struct sockaddr *)&ss, &len) != 0 ||
      !sa_bytes(&ss, local, local_port))
    return 0;
  return 1;
}

void rzmq_socket_shutdown(int fd) {
  if (fd >= 0) shutdown((sock_t)fd, SHUT_BOTH);
}
