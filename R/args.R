# args.R: checks of R arguments, the contract of args.c, for the arguments
# R code checks itself (those that never reach C, or must be checked before
# anything is started). The same values are accepted and refused, with the
# same messages, whichever side checks:
#   flag:   TRUE/FALSE, or a single number (integer or double) that is not
#           NA: 0 is FALSE, anything else TRUE            (rzmq_arg_flag)
#   number: a single integer, double or logical that is not NA
#                                                         (rzmq_arg_number)
#   string: a single string that is not NA (nor "", unless allowed)
#                                                         (rzmq_arg_string)
# Functions with their own message for a bad value (a range, "seconds", ...)
# use the is_*() predicates or as_number() and say more. As in C, the type
# decides, not the class: a factor is its integer codes.

# Whether `x` is a single non-NA value of one of `types` (typeof(), as C's
# TYPEOF: a factor is an integer).
is_scalar_of <- function(x, types) {
  typeof(x) %in% types && length(x) == 1L && !is.na(x)
}

is_flag <- function(x) is_scalar_of(x, c("logical", "integer", "double"))

is_number <- function(x) is_scalar_of(x, c("integer", "double", "logical"))

is_string <- function(x, allow_empty = FALSE) {
  is_scalar_of(x, "character") && (allow_empty || nzchar(x))
}

# `x` as TRUE or FALSE; an R error naming `name` if it is not a flag.
arg_flag <- function(x, name) {
  if (!is_flag(x)) stop(sprintf("`%s` must be TRUE or FALSE", name), call. = FALSE)
  isTRUE(unclass(x) != 0)
}

# `x` as a plain double if it is a number, else NA (for the caller's message).
as_number <- function(x) if (is_number(x)) as.double(unclass(x)) else NA_real_
