/* args.c: checks of R arguments. Each failure is an R error that names the
 * argument, so misuse reads as misuse, not as a libzmq failure. Also the
 * small questions several files ask of R values and bytes (attributes,
 * valid UTF-8) and the named lists C hands back to R. */
#include "rzmq.h"

int rzmq_arg_flag(SEXP x, const char *name) {
  /* the type first: XLENGTH of a non-vector is an R error naming nothing */
  switch (TYPEOF(x)) {
  case LGLSXP:
    if (XLENGTH(x) == 1 && LOGICAL(x)[0] != NA_LOGICAL)
      return LOGICAL(x)[0] != 0;
    break;
  case INTSXP:
    if (XLENGTH(x) == 1 && INTEGER(x)[0] != NA_INTEGER)
      return INTEGER(x)[0] != 0;
    break;
  case REALSXP:
    if (XLENGTH(x) == 1 && !ISNAN(REAL(x)[0])) return REAL(x)[0] != 0;
    break;
  default:
    break;
  }
  Rf_error("`%s` must be TRUE or FALSE", name);
  return 0; /* not reached */
}

const char *rzmq_arg_string(SEXP x, const char *name, int allow_empty) {
  const char *s;
  if (TYPEOF(x) != STRSXP || XLENGTH(x) != 1)
    Rf_error("`%s` must be a single string", name);
  if (STRING_ELT(x, 0) == NA_STRING)
    Rf_error("`%s` must not be NA", name);
  s = Rf_translateCharUTF8(STRING_ELT(x, 0));
  if (!allow_empty && s[0] == '\0')
    Rf_error("`%s` must not be an empty string", name);
  return s;
}

double rzmq_arg_number(SEXP x, const char *name) {
  double v;
  switch (TYPEOF(x)) {
  case INTSXP:
    if (XLENGTH(x) != 1) Rf_error("`%s` must be a single number", name);
    v = INTEGER(x)[0] == NA_INTEGER ? NA_REAL : (double)INTEGER(x)[0];
    break;
  case REALSXP:
    if (XLENGTH(x) != 1) Rf_error("`%s` must be a single number", name);
    v = REAL(x)[0];
    break;
  case LGLSXP:
    if (XLENGTH(x) != 1) Rf_error("`%s` must be a single number", name);
    v = LOGICAL(x)[0] == NA_LOGICAL ? NA_REAL : (double)LOGICAL(x)[0];
    break;
  default:
    Rf_error("`%s` must be a single number", name);
  }
  if (ISNAN(v)) Rf_error("`%s` must not be NA", name);
  return v;
}

SEXP rzmq_named(SEXPTYPE type, const char **names) {
  return Rf_mkNamed(type, names);
}

int rzmq_has_attributes(SEXP x) {
  /* ANY_ATTRIB is R's API from 4.5.0 on; ATTRIB is not API there */
#if R_VERSION >= R_Version(4, 5, 0)
  return ANY_ATTRIB(x);
#else
  return ATTRIB(x) != R_NilValue;
#endif
}

int rzmq_valid_utf8(const unsigned char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    size_t k, need;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) need = 2;
    else if (c >= 0xF0 && c <= 0xF4) need = 3;
    else return 0;
    if (n - i - 1 < need) return 0;
    for (k = 1; k <= need; k++)
      if ((p[i + k] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[i + 1] < 0xA0) return 0;        /* overlong */
    if (c == 0xED && p[i + 1] > 0x9F) return 0;        /* surrogates */
    if (c == 0xF0 && p[i + 1] < 0x90) return 0;        /* overlong */
    if (c == 0xF4 && p[i + 1] > 0x8F) return 0;        /* > U+10FFFF */
    i += need + 1;
  }
  return 1;
}
