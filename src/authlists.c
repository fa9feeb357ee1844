/* authlists.c: the authenticator's lists (CURVE keys, PLAIN users, allowed
 * and denied address ranges, the ZAP domain), checked and copied from R, and
 * the decision made from them: for a handshake, and again for a connection
 * admitted under lists since replaced with drop = TRUE. A set of lists never
 * changes once made: the ZAP thread reads one while R makes the next. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strdup */
#endif
#include "rzmq.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct rzmq_lists {
  int refs; /* the authenticator's current lists, revocations (R's thread) */
  long gen; /* the configuration that made it: 1, 2, ... */
  int curve_on, curve_any, n_keys;
  unsigned char (*keys)[32];
  int plain_on, n_users;
  char **users, **passwords;
  int allow_on, n_allow, deny_on, n_deny;
  rzmq_range *allow, *deny;
  char *domain; /* "*": every domain */
};

/* ---- checks: every R error comes before anything is allocated ------------ */

static void check_curve(SEXP curve) {
  R_xlen_t i;
  unsigned char key[32];
  char name[48];
  if (curve == R_NilValue) return;
  if (TYPEOF(curve) == LGLSXP && XLENGTH(curve) == 1 &&
      LOGICAL(curve)[0] == TRUE)
    return;
  if (TYPEOF(curve) != STRSXP)
    Rf_error("`curve` must be NULL, TRUE (any client key) or a character "
             "vector of client public keys (40 characters of Z85 each)");
  if (XLENGTH(curve) > 100000) Rf_error("`curve` is too long");
  for (i = 0; i < XLENGTH(curve); i++) {
    /* the same test as every other key argument (security.c) */
    snprintf(name, sizeof name, "curve[%d]", (int)i + 1);
    rzmq_curve_key(PROTECT(Rf_ScalarString(STRING_ELT(curve, i))), name, key);
    UNPROTECT(1);
  }
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void check_plain(SEXP plain) {
  SEXP nm;
  R_xlen_t i, n;
  const char **names;
  if (plain == R_NilValue) return;
  nm = Rf_getAttrib(plain, R_NamesSymbol);
  if (TYPEOF(plain) != STRSXP || (XLENGTH(plain) > 0 && TYPEOF(nm) != STRSXP))
    Rf_error("`plain` must be NULL or a named character vector: "
             "c(user = \"password\")");
  n = XLENGTH(plain);
  if (n > 100000) Rf_error("`plain` is too long");
  names = (const char **)R_alloc(n > 0 ? (size_t)n : 1, sizeof *names);
  for (i = 0; i < n; i++) {
    if (STRING_ELT(plain, i) == NA_STRING || STRING_ELT(nm, i) == NA_STRING ||
        CHAR(STRING_ELT(nm, i))[0] == '\0')
      Rf_error("`plain[%d]` must have a user name and a password, not NA or "
               "empty", (int)i + 1);
    if (CHAR(STRING_ELT(plain, i))[0] == '\0')
      Rf_error("`plain[%d]` (user \"%s\") has an empty password: PLAIN "
               "needs one", (int)i + 1,
               Rf_translateCharUTF8(STRING_ELT(nm, i)));
    /* any error translating them comes now, before anything is held */
    Rf_translateCharUTF8(STRING_ELT(plain, i));
    names[i] = Rf_translateCharUTF8(STRING_ELT(nm, i));
  }
  qsort(names, (size_t)n, sizeof *names, cmp_str);
  for (i = 1; i < n; i++)
    if (strcmp(names[i - 1], names[i]) == 0)
      Rf_error("`plain` names user \"%s\" more than once: one password per "
               "user", names[i]);
}

static void check_ranges(SEXP x, const char *name) {
  R_xlen_t i;
  rzmq_range r;
  const char *why;
  if (x == R_NilValue) return;
  if (TYPEOF(x) != STRSXP)
    Rf_error("`%s` must be NULL or a character vector of IP addresses and "
             "ranges", name);
  if (XLENGTH(x) > 100000) Rf_error("`%s` is too long", name);
  for (i = 0; i < XLENGTH(x); i++) {
    if (STRING_ELT(x, i) == NA_STRING)
      Rf_error("`%s` must not hold NA", name);
    if (!rzmq_range_parse(CHAR(STRING_ELT(x, i)), &r, &why))
      Rf_error("`%s[%d]` \"%s\" %s", name, (int)i + 1,
               CHAR(STRING_ELT(x, i)), why);
  }
}

/* ---- making and freeing ----------------------------------------------------- */

static void strv_free(char **v, int n) {
  int i;
  if (v == NULL) return;
  for (i = 0; i < n; i++) free(v[i]);
  free(v);
}

void rzmq_lists_free(rzmq_lists *c) {
  if (c == NULL || --c->refs > 0) return;
  free(c->keys);
  strv_free(c->users, c->n_users);
  strv_free(c->passwords, c->n_users);
  free(c->allow);
  free(c->deny);
  free(c->domain);
  free(c);
}

/* A zeroed array of n (at least one) elements of `size`. */
static void *alloc_n(int n, size_t size) {
  return calloc(n > 0 ? (size_t)n : 1, size);
}

static char *dup_or_null(const char *s, int *ok) {
  char *d = *ok ? strdup(s) : NULL;
  if (d == NULL) *ok = 0;
  return d;
}

static int copy_users(rzmq_lists *c, const rzmq_lists *old) {
  int ok = 1, i;
  c->plain_on = old->plain_on;
  c->n_users = old->n_users;
  c->users = alloc_n(c->n_users, sizeof(char *));
  c->passwords = alloc_n(c->n_users, sizeof(char *));
  if (!c->users || !c->passwords) return 0;
  for (i = 0; i < c->n_users; i++) {
    c->users[i] = dup_or_null(old->users[i], &ok);
    c->passwords[i] = dup_or_null(old->passwords[i], &ok);
  }
  return ok;
}

static int new_users(rzmq_lists *c, SEXP plain) {
  SEXP nm = Rf_getAttrib(plain, R_NamesSymbol);
  int ok = 1, i;
  c->plain_on = 1;
  c->n_users = (int)XLENGTH(plain);
  c->users = alloc_n(c->n_users, sizeof(char *));
  c->passwords = alloc_n(c->n_users, sizeof(char *));
  if (!c->users || !c->passwords) return 0;
  for (i = 0; i < c->n_users; i++) {
    c->users[i] = dup_or_null(Rf_translateCharUTF8(STRING_ELT(nm, i)), &ok);
    c->passwords[i] =
        dup_or_null(Rf_translateCharUTF8(STRING_ELT(plain, i)), &ok);
  }
  return ok;
}

static int copy_ranges(rzmq_range **dst, int *n, const rzmq_range *src,
                       int n_src) {
  *n = n_src;
  *dst = alloc_n(n_src, sizeof **dst);
  if (*dst == NULL) return 0;
  if (n_src > 0) memcpy(*dst, src, (size_t)n_src * sizeof *src);
  return 1;
}

static int new_ranges(rzmq_range **dst, int *n, SEXP x) {
  int i;
  const char *why;
  *n = (int)XLENGTH(x);
  *dst = alloc_n(*n, sizeof **dst);
  if (*dst == NULL) return 0;
  for (i = 0; i < *n; i++) /* checked already: cannot fail */
    rzmq_range_parse(CHAR(STRING_ELT(x, i)), &(*dst)[i], &why);
  return 1;
}

rzmq_lists *rzmq_lists_make(const rzmq_lists *old, const int set[4],
                            SEXP curve, SEXP plain, SEXP allow, SEXP deny,
                            const char *domain) {
  rzmq_lists *c;
  int ok, i;
  if (set[0]) check_curve(curve);
  if (set[1]) check_plain(plain);
  if (set[2]) check_ranges(allow, "allow");
  if (set[3]) check_ranges(deny, "deny");
  c = calloc(1, sizeof *c);
  if (c == NULL)
    rzmq_fail_stop(ENOMEM, "cannot allocate the authenticator's lists");
  c->refs = 1;
  c->gen = old != NULL ? old->gen + 1 : 1;
  ok = 1;
  c->domain = dup_or_null(domain != NULL ? domain : old->domain, &ok);
  if (ok && !set[0]) {
    c->curve_on = old->curve_on;
    c->curve_any = old->curve_any;
    c->n_keys = old->n_keys;
    c->keys = alloc_n(c->n_keys, sizeof *c->keys);
    ok = c->keys != NULL;
    if (ok && c->n_keys > 0)
      memcpy(c->keys, old->keys, (size_t)c->n_keys * sizeof *c->keys);
  } else if (ok && curve != R_NilValue) {
    c->curve_on = 1;
    c->curve_any = TYPEOF(curve) == LGLSXP;
    c->n_keys = c->curve_any ? 0 : (int)XLENGTH(curve);
    c->keys = alloc_n(c->n_keys, sizeof *c->keys);
    ok = c->keys != NULL;
    for (i = 0; ok && i < c->n_keys; i++)
      zmq_z85_decode(c->keys[i], CHAR(STRING_ELT(curve, i)));
  }
  if (ok && !set[1]) ok = old->plain_on ? copy_users(c, old) : 1;
  else if (ok && plain != R_NilValue) ok = new_users(c, plain);
  if (ok && !set[2]) {
    c->allow_on = old->allow_on;
    ok = copy_ranges(&c->allow, &c->n_allow, old->allow, old->n_allow);
  } else if (ok && allow != R_NilValue) {
    c->allow_on = 1;
    ok = new_ranges(&c->allow, &c->n_allow, allow);
  }
  if (ok && !set[3]) {
    c->deny_on = old->deny_on;
    ok = copy_ranges(&c->deny, &c->n_deny, old->deny, old->n_deny);
  } else if (ok && deny != R_NilValue) {
    c->deny_on = 1;
    ok = new_ranges(&c->deny, &c->n_deny, deny);
  }
  if (!ok) {
    rzmq_lists_free(c);
    rzmq_fail_stop(ENOMEM, "cannot allocate the authenticator's lists");
  }
  return c;
}

rzmq_lists *rzmq_lists_ref(rzmq_lists *c) {
  c->refs++;
  return c;
}

long rzmq_lists_gen(const rzmq_lists *c) { return c->gen; }

/* ---- decisions ------------------------------------------------------------------- */

/* The first bytes of p[0..n) as log text: anything but printable ASCII
 * becomes '?', so that what a peer sends cannot make an invalid R string. */
void rzmq_printable(char *out, size_t cap, const void *p, size_t n) {
  const unsigned char *b = p;
  size_t i;
  if (n >= cap) n = cap - 1;
  for (i = 0; i < n; i++) out[i] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '?';
  out[n] = '\0';
}

/* FNV-1a, 64 bits: which password a connection gave, kept in its admission
 * (metadata seen only by this process) without the password itself. */
unsigned long long rzmq_password_hash(const void *p, size_t n) {
  const unsigned char *b = p;
  unsigned long long h = 14695981039346656037ULL;
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= b[i];
    h *= 1099511628211ULL;
  }
  return h;
}

#define REFUSE(...) do { snprintf(reason, cap, __VA_ARGS__); return 0; } while (0)
#define ADMIT(...) do { snprintf(reason, cap, __VA_ARGS__); return 1; } while (0)

static int decide_address(const rzmq_lists *c, const char *address,
                          char *reason, size_t cap) {
  unsigned char a[16];
  int parsed = rzmq_addr_parse(address, a, NULL);
  /* allow = character(0) admits nobody; an allow list decides alone */
  if (c->allow_on) {
    if (!parsed || !rzmq_range_match(c->allow, c->n_allow, a))
      REFUSE("address not in the allow list");
    return 1;
  }
  if (c->deny_on && c->n_deny > 0) {
    /* no address at all (ipc): nothing to deny; one we cannot read: refused */
    if (!parsed && address[0] != '\0')
      REFUSE("address \"%.40s\" cannot be read", address);
    if (parsed && rzmq_range_match(c->deny, c->n_deny, a))
      REFUSE("address in the deny list");
  }
  return 1;
}

int rzmq_lists_decide(const rzmq_lists *c, rzmq_auth_request *q, char *reason,
                      size_t cap) {
  int i;
  q->user_id[0] = '\0';
  q->shown_user[0] = '\0';
  if (strcmp(c->domain, "*") != 0 && strcmp(c->domain, q->domain) != 0)
    REFUSE("domain \"%.60s\" is not served", q->domain);
  if (strcmp(q->mechanism, "PLAIN") == 0)
    rzmq_printable(q->shown_user, sizeof q->shown_user, q->user, q->user_len);
  if (strcmp(q->mechanism, "CURVE") == 0 && q->user_len == 32)
    zmq_z85_encode(q->shown_user, (uint8_t *)q->user, 32);
  if (!decide_address(c, q->address, reason, cap)) return 0;
  if (strcmp(q->mechanism, "NULL") == 0)
    ADMIT("NULL mechanism from an accepted address");
  if (strcmp(q->mechanism, "PLAIN") == 0) {
    if (q->user == NULL) REFUSE("malformed PLAIN request");
    if (!c->plain_on) REFUSE("PLAIN is not configured (plain = NULL)");
    /* compared as bytes with their lengths: a NUL cannot cut a name short */
    for (i = 0; i < c->n_users; i++) {
      if (strlen(c->users[i]) != q->user_len ||
          memcmp(c->users[i], q->user, q->user_len) != 0)
        continue;
      if (q->password == NULL) { /* a re-check: still the password it gave? */
        if (rzmq_password_hash(c->passwords[i], strlen(c->passwords[i])) !=
            q->password_hash)
          REFUSE("password changed");
      } else if (strlen(c->passwords[i]) != q->password_len ||
                 memcmp(c->passwords[i], q->password, q->password_len) != 0) {
        REFUSE("wrong password");
      }
      snprintf(q->user_id, sizeof q->user_id, "%s", c->users[i]);
      ADMIT("user and password match");
    }
    REFUSE("unknown user");
  }
  if (strcmp(q->mechanism, "CURVE") == 0) {
    if (q->user == NULL || q->user_len != 32)
      REFUSE("malformed CURVE request");
    if (!c->curve_on) REFUSE("CURVE is not configured (curve = NULL)");
    snprintf(q->user_id, sizeof q->user_id, "%s", q->shown_user);
    if (c->curve_any) ADMIT("any CURVE key is accepted (curve = TRUE)");
    for (i = 0; i < c->n_keys; i++)
      if (memcmp(c->keys[i], q->user, 32) == 0)
        ADMIT("client key is allowed");
    q->user_id[0] = '\0';
    REFUSE("client key not allowed");
  }
  REFUSE("mechanism %.8s is not supported", q->mechanism);
}
