/* args.c: checks of R arguments. Each failure is an R error that names the
 * argument, so misuse reads as misuse, not as a libzmq failure. */
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
