/* fail-shim.c: a test double for test-errors.R. Preloaded (LD_PRELOAD)
 * into a child R process, it makes a chosen libzmq call, or the next memory
 * allocation of rzmq.so itself, fail once with a chosen errno, so failures
 * that libzmq and the system do not give on demand (an option refused, a
 * key not derived, memory not had) can be raised on purpose. R arms it
 * with .C() after dyn.load() of this same file (the loaded copy). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stddef.h>
#include <string.h>

static int refuse_option = -1, refuse_errno = 0; /* zmq_setsockopt */
static int public_errno = 0;                      /* zmq_curve_public */
static int alloc_armed = 0; /* rzmq.so's next malloc/calloc */

void shim_refuse_option(int *option, int *err) {
  refuse_option = *option;
  refuse_errno = *err;
}

void shim_fail_curve_public(int *err) { public_errno = *err; }

void shim_fail_alloc(int *armed) { alloc_armed = *armed; }

void shim_alloc_armed(int *armed) { *armed = alloc_armed; }

/* libzmq's own function: libzmq was loaded for rzmq.so alone (R loads
 * packages' libraries locally), so RTLD_NEXT does not see it; it is looked
 * up in the loaded libzmq by name. */
static int find_libzmq(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  if (info->dlpi_name != NULL && strstr(info->dlpi_name, "/libzmq.") != NULL) {
    *(void **)data = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
    return 1;
  }
  return 0;
}

static void *real_zmq(const char *name) {
  void *lib = NULL;
  dl_iterate_phdr(find_libzmq, &lib);
  return lib != NULL ? dlsym(lib, name) : NULL;
}

int zmq_setsockopt(void *s, int option, const void *value, size_t len) {
  static int (*real)(void *, int, const void *, size_t) = NULL;
  if (option == refuse_option) {
    refuse_option = -1;
    errno = refuse_errno; /* what zmq_errno() reads */
    return -1;
  }
  if (real == NULL)
    *(void **)&real = real_zmq("zmq_setsockopt");
  return real(s, option, value, len);
}

int zmq_curve_public(char *public_key, const char *secret_key) {
  static int (*real)(char *, const char *) = NULL;
  if (public_errno != 0) {
    errno = public_errno;
    public_errno = 0;
    return -1;
  }
  if (real == NULL) *(void **)&real = real_zmq("zmq_curve_public");
  return real(public_key, secret_key);
}

#ifdef __GLIBC__
/* glibc's own allocator, which these wrap (dlsym would allocate itself). A
 * sanitizer's allocator, preloaded before this file, is found first: then
 * these never run and shim_alloc_armed() stays 1 after the call. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);

/* Whether the code at `ret` is rzmq.so's. */
static int from_rzmq(void *ret) {
  Dl_info info;
  const char *slash;
  if (dladdr(ret, &info) == 0 || info.dli_fname == NULL) return 0;
  slash = strrchr(info.dli_fname, '/');
  return strcmp(slash != NULL ? slash + 1 : info.dli_fname, "rzmq.so") == 0;
}

void *malloc(size_t n) {
  if (alloc_armed && from_rzmq(__builtin_return_address(0))) {
    alloc_armed = 0;
    errno = ENOMEM;
    return NULL;
  }
  return __libc_malloc(n);
}

void *calloc(size_t n, size_t size) {
  if (alloc_armed && from_rzmq(__builtin_return_address(0))) {
    alloc_armed = 0;
    errno = ENOMEM;
    return NULL;
  }
  return __libc_calloc(n, size);
}

void shim_can_fail_alloc(int *can) { *can = 1; }
#else
void shim_can_fail_alloc(int *can) { *can = 0; }
#endif
