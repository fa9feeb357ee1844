/* canary.c: deliberate memory and undefined-behaviour errors, built with the
 * same sanitizer flags as rzmq. sanitize.sh runs these first to prove that
 * reports from a dyn.load()ed library reach the log directory and are
 * found; a suite that could not see a report would pass for nothing. */
#include <stdlib.h>
#include <string.h>

void canary_ubsan(int *x) {
  int big = *x + 1;
  *x = big + 2147483647; /* signed overflow when *x >= 0 */
}

void canary_asan(int *x) {
  char *p = malloc(8);
  memset(p, 0, 8);
  free(p);
  *x = p[*x]; /* use after free */
}
