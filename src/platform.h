/* platform.h: the portability seam. Everything that differs between Linux,
 * macOS and Windows (clocks, pinning the library, fork handlers, signal
 * masks for our threads, memory advice, IP address parsing) is behind these
 * few functions, implemented once per OS in platform.c; no other file needs
 * an OS #ifdef. Threads are POSIX threads everywhere: on Windows those of
 * winpthreads, which Rtools' compilers use and link statically. Uses no R. */
#ifndef RZMQ_PLATFORM_H
#define RZMQ_PLATFORM_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

/* Milliseconds on a clock that never jumps (deadlines). */
double rzmq_clock_monotonic_ms(void);
/* The wall-clock time as pthread_cond_timedwait expects its deadline. */
void rzmq_clock_realtime(struct timespec *ts);

/* Keep this library loaded for good (R's dyn.unload then leaves the code in
 * place for threads and callbacks that still need it): 1 once done. */
int rzmq_platform_pin(void);

/* Fork handlers (pthread_atfork); nothing where processes cannot fork. */
void rzmq_platform_atfork(void (*prepare)(void), void (*parent)(void),
                          void (*child)(void));

/* pthread_create, with every signal blocked on the new thread where there
 * are POSIX signals (so they go to R's thread instead); 0 or an errno. */
int rzmq_thread_start_masked(pthread_t *tid, void *(*fn)(void *), void *arg);

/* Ask for huge pages for [p, p + n), where the kernel takes such advice;
 * only a hint, nothing changes otherwise. */
void rzmq_advise_huge(void *p, size_t n);

/* Parse an IPv4 or IPv6 address in text form into out[16] (network byte
 * order): 4 or 16 (the bytes written), 0 if `s` is not an IP address. */
int rzmq_ip_parse(const char *s, unsigned char out[16]);

/* The two ends of a connected TCP descriptor (as libzmq's ZMQ_SRCFD gives
 * it): each address in 16 bytes (IPv4 as v4-mapped IPv6) with its port; 1,
 * or 0 if `fd` is not a connected IPv4/IPv6 socket. */
int rzmq_socket_ends(int fd, unsigned char peer[16], int *peer_port,
                     unsigned char local[16], int *local_port);
/* shutdown(2) of both directions: the peer sees the end of the stream and
 * libzmq closes the connection; the descriptor itself stays libzmq's. */
void rzmq_socket_shutdown(int fd);

#endif
