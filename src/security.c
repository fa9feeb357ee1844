/* security.c: encrypted and authenticated sockets. What libzmq was built
 * with (zmq.has), Z85 text, CURVE key pairs, and the CURVE and PLAIN roles of
 * a socket, which must be set before the socket binds or connects. Who may
 * connect is the authenticator's business (authenticator.c). */
#include "rzmq.h"
#include <stdint.h>
#include <string.h>

static const char z85_chars[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    ".-:+=^!/*?&<>()[]{}@%$#";

/* Only Z85 characters, and every group of five stands for a 32-bit number
 * (strrep("#", 5) is 85^5 - 1, more than libzmq can decode): text that
 * passes decodes. The authenticator checks its key lists with this too. */
int rzmq_z85_valid(const char *s, size_t n) {
  size_t i;
  if (n % 5 != 0) return 0;
  for (i = 0; i < n; i += 5) {
    uint64_t v = 0;
    size_t j;
    for (j = i; j < i + 5; j++) {
      const char *c = s[j] == '\0' ? NULL : strchr(z85_chars, s[j]);
      if (c == NULL) return 0;
      v = v * 85 + (uint64_t)(c - z85_chars);
    }
    if (v > 0xFFFFFFFFu) return 0;
  }
  return 1;
}

/* Only Z85 characters (whatever they decode to), for error messages. */
static int z85_chars_only(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] == '\0' || strchr(z85_chars, s[i]) == NULL) return 0;
  return 1;
}

SEXP rzmq_has(SEXP capability) {
  R_xlen_t i, n;
  SEXP out;
  if (TYPEOF(capability) != STRSXP)
    Rf_error("`capability` must be a character vector, such as \"curve\"");
  n = XLENGTH(capability);
  out = PROTECT(Rf_allocVector(LGLSXP, n));
  for (i = 0; i < n; i++) {
    SEXP c = STRING_ELT(capability, i);
    if (c == NA_STRING) Rf_error("`capability` must not be NA");
    LOGICAL(out)[i] = zmq_has(Rf_translateCharUTF8(c)) != 0;
  }
  UNPROTECT(1);
  return out;
}

static void need_curve(void) {
  if (!zmq_has("curve"))
    Rf_error("this libzmq was built without CURVE security "
             "(zmq.has(\"curve\") is FALSE): build it with libsodium");
}

/* A CURVE key given as 40 characters of Z85 or 32 raw bytes, as 32 bytes. */
void rzmq_curve_key(SEXP key, const char *name, unsigned char out[32]) {
  if (TYPEOF(key) == RAWSXP) {
    if (XLENGTH(key) != 32)
      Rf_error("`%s` must be a CURVE key: a raw vector of 32 bytes (got %.0f) "
               "or 40 characters of Z85 text", name, (double)XLENGTH(key));
    memcpy(out, RAW(key), 32);
    return;
  }
  if (TYPEOF(key) == STRSXP && XLENGTH(key) == 1 &&
      STRING_ELT(key, 0) != NA_STRING) {
    const char *s = CHAR(STRING_ELT(key, 0));
    size_t n = strlen(s);
    if (n != 40)
      Rf_error("`%s` must be a CURVE key: 40 characters of Z85 text (got %d "
               "characters) or a raw vector of 32 bytes", name, (int)n);
    if (!z85_chars_only(s, n))
      Rf_error("`%s` is not Z85 text: a CURVE key has 40 characters from "
               "0-9 a-z A-Z .-:+=^!/*?&<>()[]{}@%%$#", name);
    if (!rzmq_z85_valid(s, n) || zmq_z85_decode(out, s) == NULL)
      Rf_error("`%s` is not a CURVE key: its 40 characters are Z85 but do not "
               "decode to 32 bytes (a group of five stands for more than "
               "2^32 - 1)", name);
    return;
  }
  Rf_error("`%s` must be a CURVE key: 40 characters of Z85 text or a raw "
           "vector of 32 bytes", name);
}

/* key.z85 for R: a CURVE key checked by the one check above, under the
 * caller's name for it ("keys$public", "secret-key in <file>"), as Z85. */
SEXP rzmq_curve_key_z85(SEXP key, SEXP name) {
  unsigned char k[32];
  char z[41];
  rzmq_curve_key(key, rzmq_arg_string(name, "name", 0), k);
  zmq_z85_encode(z, k, 32);
  return Rf_mkString(z);
}

SEXP rzmq_curve_keypair(void) {
  static const char *names[] = {"public", "secret", ""};
  char pub[41], sec[41];
  SEXP out;
  need_curve();
  if (zmq_curve_keypair(pub, sec) != 0)
    rzmq_fail_stop(zmq_errno(), "cannot make a CURVE key pair");
  out = PROTECT(rzmq_named(VECSXP, names));
  SET_VECTOR_ELT(out, 0, Rf_mkString(pub));
  SET_VECTOR_ELT(out, 1, Rf_mkString(sec));
  UNPROTECT(1);
  return out;
}

SEXP rzmq_curve_public(SEXP secret) {
  unsigned char sec[32];
  char sec85[41], pub[41];
  need_curve();
  rzmq_curve_key(secret, "secret", sec);
  zmq_z85_encode(sec85, sec, 32);
  if (zmq_curve_public(pub, sec85) != 0)
    rzmq_fail_stop(zmq_errno(), "cannot derive the public key");
  return Rf_mkString(pub);
}

SEXP rzmq_z85_encode(SEXP x) {
  size_t n;
  char *buf;
  if (TYPEOF(x) != RAWSXP) Rf_error("`x` must be a raw vector");
  n = (size_t)XLENGTH(x);
  if (n % 4 != 0)
    Rf_error("`x` must have a multiple of 4 bytes for Z85 (got %.0f)",
             (double)n);
  if (n > 1e9) Rf_error("`x` is too long for Z85 text");
  buf = R_alloc(n / 4 * 5 + 1, 1);
  if (zmq_z85_encode(buf, n ? RAW(x) : (const uint8_t *)"", n) == NULL)
    Rf_error("cannot encode `x` as Z85");
  buf[n / 4 * 5] = '\0';
  return Rf_mkString(buf);
}

SEXP rzmq_z85_decode(SEXP s) {
  const char *p;
  size_t n;
  SEXP out;
  if (TYPEOF(s) != STRSXP || XLENGTH(s) != 1 || STRING_ELT(s, 0) == NA_STRING)
    Rf_error("`s` must be a single string of Z85 text");
  p = CHAR(STRING_ELT(s, 0));
  n = strlen(p);
  if (n % 5 != 0)
    Rf_error("`s` must have a multiple of 5 characters for Z85 (got %d)",
             (int)n);
  if (!z85_chars_only(p, n))
    Rf_error("`s` is not Z85 text: it may hold only 0-9 a-z A-Z "
             ".-:+=^!/*?&<>()[]{}@%%$#");
  if (!rzmq_z85_valid(p, n))
    Rf_error("`s` is not Z85 text: a group of five characters stands for "
             "more than 2^32 - 1");
  out = PROTECT(Rf_allocVector(RAWSXP, (R_xlen_t)(n / 5 * 4)));
  if (n > 0 && zmq_z85_decode(RAW(out), p) == NULL)
    Rf_error("`s` is not Z85 text");
  UNPROTECT(1);
  return out;
}

/* ---- socket roles ------------------------------------------------------------ */

/* libzmq reads the security options when it makes a connection, so one set
 * on a socket with endpoints would claim a protection its connections lack.
 * Every setter (options.c too) refuses it with this error; once every
 * endpoint is unbound or disconnected, setting is allowed again. */
void rzmq_security_unattached(rzmq_sock *s, const char *what) {
  if (s->attached > 0)
    Rf_error("%s must be called before bind.socket() or connect.socket(): "
             "libzmq applies security when a connection is made, so this "
             "socket, already bound or connected, would stay as it is "
             "(unbind and disconnect every endpoint first)", what);
}

static rzmq_sock *unattached(SEXP sock, const char *fun) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  rzmq_security_unattached(s, fun);
  return s;
}

static void set_opt(rzmq_sock *s, int opt, const void *v, size_t n,
                    const char *what) {
  if (zmq_setsockopt(s->handle, opt, v, n) != 0)
    rzmq_fail_stop(zmq_errno(), "cannot set %s", what);
}

SEXP rzmq_curve_server(SEXP sock, SEXP secret) {
  unsigned char sec[32];
  int on = 1;
  rzmq_sock *s = unattached(sock, "set.curve.server()");
  need_curve();
  rzmq_curve_key(secret, "secret", sec);
  set_opt(s, ZMQ_CURVE_SERVER, &on, sizeof on, "ZMQ_CURVE_SERVER");
  set_opt(s, ZMQ_CURVE_SECRETKEY, sec, 32, "ZMQ_CURVE_SECRETKEY");
  return Rf_ScalarLogical(TRUE);
}

SEXP rzmq_curve_client(SEXP sock, SEXP server_public, SEXP public, SEXP secret) {
  unsigned char srv[32], pub[32], sec[32];
  char sec85[41], derived[41], pub85[41];
  rzmq_sock *s = unattached(sock, "set.curve.client()");
  need_curve();
  rzmq_curve_key(server_public, "server.public", srv);
  rzmq_curve_key(public, "keys$public", pub);
  rzmq_curve_key(secret, "keys$secret", sec);
  /* a public key that is not the secret key's fails every handshake, far
   * from here: say so now */
  zmq_z85_encode(sec85, sec, 32);
  zmq_z85_encode(pub85, pub, 32);
  if (zmq_curve_public(derived, sec85) != 0)
    rzmq_fail_stop(zmq_errno(), "cannot derive the public key of `keys$secret`");
  if (strcmp(derived, pub85) != 0)
    Rf_error("`keys$public` is not the public key of `keys$secret`");
  set_opt(s, ZMQ_CURVE_SERVERKEY, srv, 32, "ZMQ_CURVE_SERVERKEY");
  set_opt(s, ZMQ_CURVE_PUBLICKEY, pub, 32, "ZMQ_CURVE_PUBLICKEY");
  set_opt(s, ZMQ_CURVE_SECRETKEY, sec, 32, "ZMQ_CURVE_SECRETKEY");
  return Rf_ScalarLogical(TRUE);
}

SEXP rzmq_plain_server(SEXP sock) {
  int on = 1;
  rzmq_sock *s = unattached(sock, "set.plain.server()");
  set_opt(s, ZMQ_PLAIN_SERVER, &on, sizeof on, "ZMQ_PLAIN_SERVER");
  return Rf_ScalarLogical(TRUE);
}

SEXP rzmq_plain_client(SEXP sock, SEXP username, SEXP password) {
  rzmq_sock *s = unattached(sock, "set.plain.client()");
  const char *u = rzmq_arg_string(username, "username", 0);
  const char *p = rzmq_arg_string(password, "password", 1);
  /* libzmq would refuse it with a bare "Invalid argument" */
  if (p[0] == '\0')
    Rf_error("`password` must not be empty: PLAIN needs a password of 1 to "
             "255 bytes");
  if (strlen(u) > 255 || strlen(p) > 255)
    Rf_error("`username` and `password` may have at most 255 bytes each");
  set_opt(s, ZMQ_PLAIN_USERNAME, u, strlen(u), "ZMQ_PLAIN_USERNAME");
  set_opt(s, ZMQ_PLAIN_PASSWORD, p, strlen(p), "ZMQ_PLAIN_PASSWORD");
  return Rf_ScalarLogical(TRUE);
}
