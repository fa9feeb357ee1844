## Build the pkgdown site from the installed rzmq:
##   apt-get install -y r-cran-pkgdown && R CMD INSTALL . && Rscript tools/site.R [destination]
## The destination defaults to docs/ (not committed). An installed pkgdown
## that loads (Debian's r-cran-pkgdown 2.0.7 with its own dependencies) is
## used as it is. Only without one are pkgdown and whatever of its
## dependencies is missing, or older than it needs, installed from CRAN into
## a private library (RZMQ_PKGDOWN_LIB, by default ~/.cache/rzmq-pkgdown-lib),
## so the system's R packages stay as they are; CRAN's pkgdown then needs
## the -dev packages of curl and ragg (CONTRIBUTING.md).
args <- commandArgs(trailingOnly = TRUE)
dest <- if (length(args)) args[1] else "docs"
lib <- path.expand(Sys.getenv("RZMQ_PKGDOWN_LIB", "~/.cache/rzmq-pkgdown-lib"))
dir.create(lib, recursive = TRUE, showWarnings = FALSE)
.libPaths(c(lib, .libPaths()))
Sys.setenv(R_LIBS = paste(.libPaths(), collapse = .Platform$path.sep))
if (!file.exists("_pkgdown.yml")) stop("run this from the package's root directory")
if (!requireNamespace("rzmq", quietly = TRUE)) stop("install rzmq first: R CMD INSTALL .")

# The versions pkgdown's dependencies need (on CRAN now), walked recursively;
# plus evaluate >= 1.0, which downlit needs without saying so.
needed <- function() {
  if (is.null(getOption("repos")) || getOption("repos")[["CRAN"]] == "@CRAN@") {
    options(repos = c(CRAN = "https://cloud.r-project.org"))
  }
  db <- available.packages()
  base <- rownames(installed.packages(priority = "base"))
  want <- c(pkgdown = "0.0", evaluate = "1.0.0")
  todo <- "pkgdown"
  seen <- character()
  while (length(todo)) {
    p <- todo[1]
    todo <- todo[-1]
    if (p %in% seen || p %in% base || !p %in% rownames(db)) next
    seen <- c(seen, p)
    fields <- db[p, c("Depends", "Imports", "LinkingTo")]
    for (d in trimws(unlist(strsplit(gsub("\n", " ", fields[!is.na(fields)]), ",")))) {
      name <- trimws(sub("\\(.*", "", d))
      if (!nzchar(name) || name == "R") next
      v <- if (grepl(">=", d)) trimws(sub(".*>=\\s*([^)]*)\\).*", "\\1", d)) else "0.0"
      if (is.na(want[name]) || package_version(v) > package_version(want[[name]])) want[name] <- v
      todo <- c(todo, name)
    }
  }
  want <- want[!names(want) %in% base]
  have <- installed.packages()
  stale <- vapply(names(want), function(p) {
    v <- have[have[, "Package"] == p, "Version"]
    !length(v) || max(package_version(v)) < package_version(want[[p]])
  }, NA)
  names(want)[stale]
}
# A pkgdown that loads with the dependencies installed beside it is used as
# it is; a CRAN pkgdown in the private library also needs evaluate >= 1.0.
ready <- tryCatch(requireNamespace("pkgdown", quietly = TRUE) &&
                    (packageVersion("pkgdown") < "2.1.0" ||
                       packageVersion("evaluate") >= "1.0.0"),
                  error = function(e) FALSE)
if (!ready) {
  stale <- needed()
  message("installing into ", lib, ": ", paste(stale, collapse = " "))
  install.packages(stale, lib = lib)
}
pkgdown::build_site(install = FALSE, new_process = FALSE,
                    override = list(destination = dest))
