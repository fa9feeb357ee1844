#' What libzmq was built with
#'
#' @param capability a character vector of capability names: `"curve"`
#'   (CURVE encryption and authentication), `"ipc"`, `"pgm"`, `"tipc"`,
#'   `"norm"`, `"gssapi"`, `"draft"` (the draft API).
#' @return A logical vector, one element per capability, named by it.
#' @examples
#' zmq.has(c("curve", "ipc", "draft"))
#' @export
zmq.has <- function(capability) {
  stats::setNames(.Call(c_rzmq_has, capability), capability)
}

#' CURVE keys and Z85 text
#'
#' CURVE (ZeroMQ's elliptic-curve encryption and authentication, RFC 26)
#' uses 32-byte keys, usually written as 40 characters of Z85 text (RFC 32).
#' `curve.keypair()` makes a new key pair; keep the secret key secret and
#' give the public key to peers. `curve.public()` gives the public key of a
#' secret key. `z85.encode()` and `z85.decode()` convert between bytes and
#' Z85 text.
#'
#' @param secret a secret key: 40 characters of Z85 text or 32 raw bytes.
#' @param x a raw vector whose length is a multiple of 4.
#' @param s a string whose length is a multiple of 5, of Z85 characters.
#' @return `curve.keypair()`: `list(public =, secret =)`, two 40-character
#'   strings. `curve.public()` and `z85.encode()`: a string.
#'   `z85.decode()`: a raw vector.
#' @seealso [set.curve.server()], [init.authenticator()],
#'   [write.curve.keys()]
#' @examplesIf zmq.has("curve")
#' keys <- curve.keypair()
#' identical(curve.public(keys$secret), keys$public)
#' z85.decode(keys$public)
#' z85.encode(as.raw(c(0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b)))
#' @export
curve.keypair <- function() .Call(c_rzmq_curve_keypair)

#' @rdname curve.keypair
#' @export
curve.public <- function(secret) .Call(c_rzmq_curve_public, secret)

#' @rdname curve.keypair
#' @export
z85.encode <- function(x) .Call(c_rzmq_z85_encode, x)

#' @rdname curve.keypair
#' @export
z85.decode <- function(s) .Call(c_rzmq_z85_decode, s)

#' Encrypted and authenticated sockets: CURVE and PLAIN
#'
#' A CURVE server holds a secret key and publishes its public key; a CURVE
#' client needs the server's public key and a key pair of its own. All
#' traffic between them is encrypted, and the server knows each client by
#' its public key: an [init.authenticator()] on the server's context decides
#' which keys (and addresses) may connect. Without an authenticator any
#' client that knows the server's public key is let in.
#'
#' PLAIN sends a user name and password in clear text, for networks that are
#' already trusted; the server's authenticator checks them. A PLAIN server
#' needs an [init.authenticator()] on its context: without one libzmq lets no
#' PLAIN client in.
#'
#' Call these after [init.socket()] and before [bind.socket()] or
#' [connect.socket()]: libzmq applies them to connections as they are made,
#' so a later call is an R error, and so is setting any security option
#' through [set.sockopt()] (`ZMQ_CURVE_*`, `ZMQ_PLAIN_*`, `ZMQ_ZAP_DOMAIN`):
#' the socket stays as it was rather than claim a protection its endpoints
#' lack. Once every endpoint is unbound or disconnected they may be set
#' again. A socket can be either side for any socket type (a REP server, a
#' REQ client, or the other way round).
#'
#' Input that could never work is refused at once: a key of 40 Z85
#' characters that does not decode to 32 bytes (`strrep("#", 40)`), an
#' empty user name or password.
#'
#' @param socket a zmq socket, not yet bound or connected.
#' @param secret the server's secret key: 40 characters of Z85 text or 32
#'   raw bytes.
#' @param server.public the server's public key.
#' @param keys the client's own key pair: a list with `public` and `secret`,
#'   as [curve.keypair()] returns (the default makes a fresh one).
#' @param username,password the PLAIN credentials (1 to 255 bytes each).
#' @return `TRUE`, invisibly. An R error if the socket is already bound or
#'   connected, a key is malformed, or libzmq lacks CURVE
#'   (`zmq.has("curve")`).
#' @seealso [curve.keypair()], [init.authenticator()]
#' @examplesIf zmq.has("curve")
#' ctx <- init.context()
#' server_keys <- curve.keypair()
#' server <- init.socket(ctx, "ZMQ_REP")
#' set.curve.server(server, server_keys$secret)
#' bind.socket(server, "tcp://127.0.0.1:*")
#' client <- init.socket(ctx, "ZMQ_REQ")
#' set.curve.client(client, server_keys$public)
#' connect.socket(client, get.last.endpoint(server))
#' send.socket(client, "hello, encrypted")
#' receive.socket(server)
#' destroy.context(ctx, linger = 0)
#' @export
set.curve.server <- function(socket, secret) {
  invisible(.Call(c_rzmq_curve_server, socket, secret))
}

#' @rdname set.curve.server
#' @export
set.curve.client <- function(socket, server.public, keys = curve.keypair()) {
  if (!is.list(keys) || is.null(keys$public) || is.null(keys$secret)) {
    stop("`keys` must be a list with `public` and `secret`, as curve.keypair() returns",
         call. = FALSE)
  }
  invisible(.Call(c_rzmq_curve_client, socket, server.public, keys$public, keys$secret))
}

#' @rdname set.curve.server
#' @export
set.plain.server <- function(socket) {
  invisible(.Call(c_rzmq_plain_server, socket))
}

#' @rdname set.curve.server
#' @export
set.plain.client <- function(socket, username, password) {
  invisible(.Call(c_rzmq_plain_client, socket, username, password))
}

#' Save and load CURVE keys as certificate files
#'
#' The files are ZeroMQ certificates in the text format (ZPL) that czmq's
#' `zcert_save()` writes and that pyzmq's `zmq.auth.load_certificate()` and
#' czmq read: the public certificate at `path`, and the secret one, which
#' holds both keys, at `paste0(path, "_secret")`. Give the public file to
#' peers; keep the secret file. Writing a public key alone where a secret
#' file of another key pair exists is an R error (it is never deleted for
#' you).
#'
#' `write.curve.keys()` makes the public certificate readable by everyone
#' and writable by its owner (mode 0644) and the secret one readable and
#' writable by its owner only (0600), whatever the umask.
#' `read.curve.keys()` takes the keys from the `curve` section of the file
#' (`public-key` and `secret-key`, by their exact names; entries such as a
#' `metadata` section's `public-key-previous` are not keys), and accepts
#' either file's name: given the secret certificate's own path it reads both
#' keys from it. Reading a secret certificate that group or others may read
#' gives a warning that says so (`chmod 600` the file). A `path` that is a
#' directory is an R error.
#'
#' @param keys a key pair: a list with `public` and, to write the secret
#'   file too, `secret` (as [curve.keypair()] returns). Keys are 40
#'   characters of Z85 text or 32 raw bytes.
#' @param path the public certificate's file name (for
#'   `read.curve.keys()`, that of the secret certificate also works).
#' @return `write.curve.keys()`: the file names written, invisibly.
#'   `read.curve.keys()`: `list(public =, secret =)`, with `secret = NULL`
#'   when there is no secret file (or it holds no secret key).
#' @seealso [curve.keypair()], [set.curve.server()]
#' @examplesIf zmq.has("curve")
#' path <- file.path(tempdir(), "server.key")
#' keys <- curve.keypair()
#' write.curve.keys(keys, path)
#' identical(read.curve.keys(path), keys)
#' identical(read.curve.keys(paste0(path, "_secret")), keys)
#' readLines(path)
#' unlink(c(path, paste0(path, "_secret")))
#' @export
write.curve.keys <- function(keys, path) {
  if (!is.list(keys) || is.null(keys$public)) {
    stop("`keys` must be a list with `public` (and `secret`), as curve.keypair() returns",
         call. = FALSE)
  }
  check_cert_path(path)
  public <- .Call(c_rzmq_curve_key_z85, keys$public, "keys$public")
  secret <- if (!is.null(keys$secret)) .Call(c_rzmq_curve_key_z85, keys$secret, "keys$secret")
  if (!is.null(secret) && !identical(curve.public(secret), public)) {
    stop("`keys$public` is not the public key of `keys$secret`", call. = FALSE)
  }
  secret_path <- paste0(path, "_secret")
  if (dir.exists(secret_path)) {
    stop("`path`'s secret certificate would be a directory: ", secret_path, call. = FALSE)
  }
  if (is.null(secret) && file.exists(secret_path)) {
    # a secret file of another key pair would make the two files disagree;
    # removing it could destroy a key: refuse instead
    other <- tryCatch(cert_keys(secret_path)[["public-key"]], error = function(e) NULL)
    if (!identical(other, public)) {
      stop("`path` has a secret file of another key pair (", secret_path,
           "): remove it, or give `keys$secret`", call. = FALSE)
    }
  }
  stamp <- format(Sys.time(), "%Y-%m-%d %H:%M:%S")
  head <- function(what, note) {
    c(sprintf("#   ZeroMQ CURVE %s certificate, written by R package rzmq on %s", what, stamp),
      note, "", "metadata", "curve")
  }
  # each file is created with its final mode, then given it for certain (a
  # file that existed keeps its old mode through writeLines)
  old <- Sys.umask("022")
  on.exit(Sys.umask(old), add = TRUE)
  writeLines(c(head("public", "#   Give this file to peers; it holds the public key only."),
               sprintf('    public-key = "%s"', public)), path)
  Sys.chmod(path, "644", use_umask = FALSE)
  written <- path
  if (!is.null(secret)) {
    Sys.umask("077")
    unlink(secret_path)
    writeLines(c(head("**secret**", "#   Keep this file private: it holds the secret key."),
                 sprintf('    public-key = "%s"', public),
                 sprintf('    secret-key = "%s"', secret)), secret_path)
    Sys.chmod(secret_path, "600", use_umask = FALSE)
    written <- c(written, secret_path)
  }
  invisible(written)
}

#' @rdname write.curve.keys
#' @export
read.curve.keys <- function(path) {
  check_cert_path(path)
  if (!file.exists(path)) stop("no certificate file at `path`: ", path, call. = FALSE)
  # the secret certificate's own name: it holds both keys
  if (grepl("_secret$", path)) {
    keys <- cert_keys(path)
    if (is.null(keys[["public-key"]])) stop("`path` holds no public-key: ", path, call. = FALSE)
    if (!is.null(keys[["secret-key"]])) warn_if_readable(path)
    return(cert_pair(keys[["public-key"]], keys[["secret-key"]], path, path))
  }
  public <- cert_keys(path)[["public-key"]]
  if (is.null(public)) stop("`path` holds no public-key: ", path, call. = FALSE)
  secret_path <- paste0(path, "_secret")
  secret <- NULL
  if (file.exists(secret_path) && !dir.exists(secret_path)) {
    secret <- cert_keys(secret_path)[["secret-key"]]
    if (!is.null(secret)) warn_if_readable(secret_path)
  }
  cert_pair(public, secret, path, secret_path)
}

check_cert_path <- function(path) {
  if (!is_string(path)) {
    stop("`path` must be a single file name", call. = FALSE)
  }
  if (dir.exists(path)) {
    stop("`path` is a directory, not a certificate file: ", path, call. = FALSE)
  }
}

cert_pair <- function(public, secret, path, secret_path) {
  if (!is.null(secret) && !identical(curve.public(secret), public)) {
    stop("the secret key in ", secret_path, " does not belong to the public key in ",
         path, call. = FALSE)
  }
  list(public = public, secret = secret)
}

# A secret certificate others can read is no secret: say so.
warn_if_readable <- function(file) {
  if (.Platform$OS.type == "windows") return(invisible())
  mode <- as.integer(file.mode(file))
  if (is.na(mode)) return(invisible())
  who <- c("its group"[bitwAnd(mode, 32L) != 0L], "others"[bitwAnd(mode, 4L) != 0L])
  if (length(who)) {
    warning(sprintf(paste0("the secret certificate %s can be read by %s (mode %s): ",
                           "keep it private with Sys.chmod(\"%s\", \"600\")"),
                    file, paste(who, collapse = " and "), format(as.octmode(mode)), file),
            call. = FALSE)
  }
  invisible()
}

# The keys in the `curve` section of a certificate file (ZPL, as czmq and
# pyzmq write it): a named list with `public-key` and `secret-key`, each
# checked, or NULL where absent. Only entries named exactly so count.
cert_keys <- function(file) {
  lines <- readLines(file, warn = FALSE)
  lines <- sub("\\s+$", "", lines)
  lines <- lines[nzchar(trimws(lines)) & !startsWith(trimws(lines), "#")]
  section <- ""
  out <- list()
  for (line in lines) {
    # a section name starts at column 0 (an entry there, unindented, is
    # taken as one of the section it follows)
    if (!grepl("^\\s", line) && !grepl("=", line, fixed = TRUE)) {
      section <- trimws(line)
      next
    }
    if (section != "curve" || !grepl("=", line, fixed = TRUE)) next
    name <- trimws(sub("=.*$", "", line))
    if (!name %in% c("public-key", "secret-key") || !is.null(out[[name]])) next
    value <- trimws(sub("^[^=]*=", "", line))
    value <- gsub("^[\"']|[\"']$", "", value)
    out[[name]] <- as_z85_key(value, paste0(name, " in ", file))
  }
  out
}

# A key (Z85 text or 32 raw bytes) as Z85 text, checked by C's one check
# of CURVE keys (security.c), whose errors name the key as `what`.
as_z85_key <- function(key, what) .Call(c_rzmq_curve_key_z85, key, what)
