#!/usr/bin/env bash
# The launchers against real daemons: an OpenSSH server and a single-node
# SLURM on this machine, started here and stopped again, pass or fail.
#
#   bash tests/daemons/run.sh            # both (as root)
#   bash tests/daemons/run.sh ssh        # or only test-ssh.R / test-slurm.R
#
# Tests the rzmq that R finds (set R_LIBS to test a private library). Needs
# openssh-server, slurm-wlm and munge installed, and testthat. Exits
# non-zero if any test fails, errors or is skipped, or if a daemon does not
# start or stop. RZMQ_DAEMONS_TIMEOUT (default 300) limits the R run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
need_root

which=${1:-all}
case "$which" in all|ssh|slurm) ;; *) die "usage: $0 [all|ssh|slurm]" ;; esac

RZMQ_DAEMONS_DIR=$(mktemp -d /tmp/rzmq-daemons.XXXXXX) || die "mktemp failed"
export RZMQ_DAEMONS_DIR

stop_all() {
  local rc=0
  bash "$here/sshd.sh" stop || rc=1
  bash "$here/slurm.sh" stop || rc=1
  # daemons and workers of this run: none may still run
  local left
  left=$(ps -eo pid=,stat=,args= | awk '$2 !~ /^Z/' | grep -F "$RZMQ_DAEMONS_DIR" | grep -v -e grep -e awk)
  if [ -n "$left" ]; then
    echo "still running after the daemons stopped:" >&2
    echo "$left" >&2
    rc=1
  fi
  return $rc
}
trap 'stop_all; rm -rf "$RZMQ_DAEMONS_DIR"' EXIT
trap 'exit 130' INT TERM

filter=""
if [ "$which" = all ] || [ "$which" = ssh ]; then
  RZMQ_SSH_CONFIG=$(bash "$here/sshd.sh" start) || die "sshd did not start"
  export RZMQ_SSH_CONFIG
fi
if [ "$which" = all ] || [ "$which" = slurm ]; then
  SLURM_CONF=$(bash "$here/slurm.sh" start) || die "SLURM did not start"
  export SLURM_CONF
fi
[ "$which" = all ] || filter=$which

cd "$here" || exit 1
timeout -k 10 "${RZMQ_DAEMONS_TIMEOUT:-300}" Rscript -e '
  filter <- commandArgs(TRUE)[1]
  if (is.na(filter) || !nzchar(filter)) filter <- NULL
  res <- as.data.frame(testthat::test_dir(".", filter = filter, reporter = "summary",
                                          stop_on_failure = FALSE, load_package = "none"))
  bad <- res$failed + res$error + res$skipped
  cat(sprintf("daemon tests: %d tests, %d expectations, %d failed, %d errors, %d skipped\n",
              nrow(res), sum(res$nb), sum(res$failed), sum(res$error), sum(res$skipped)))
  if (!nrow(res) || any(bad > 0)) quit(status = 1)
' "$filter"
rc=$?
[ $rc = 124 ] && echo "the daemon tests did not finish within ${RZMQ_DAEMONS_TIMEOUT:-300} s" >&2
stop_all || rc=1
trap - EXIT
if [ $rc = 0 ]; then
  rm -rf "$RZMQ_DAEMONS_DIR"
else
  # the daemons' logs and the workers' output, for a look
  echo "failed; logs kept in $RZMQ_DAEMONS_DIR" >&2
  for f in $(find "$RZMQ_DAEMONS_DIR" -name '*.log' -size +0 | sort); do
    echo "---- $f (last 15 lines)" >&2
    tail -n 15 "$f" >&2
  done
fi
exit $rc
