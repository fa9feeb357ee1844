#!/usr/bin/env bash
# c-deps.sh: which C file of src/ uses which (from the compiled objects'
# symbols), and whether any of them use each other in a circle (none may).
#   bash tools/c-deps.sh        (after R CMD INSTALL . has built src/*.o, or
#                                it compiles them itself into a temp dir)
set -euo pipefail
cd "$(dirname "$0")/../src"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cflags="$(R CMD config --cppflags) $(pkg-config --cflags libzmq 2>/dev/null || true)"
for f in *.c; do gcc $cflags -fpic -c "$f" -o "$tmp/${f%.c}.o"; done
# symbol -> defining file
for o in "$tmp"/*.o; do
  nm -g --defined-only "$o" | awk -v f="$(basename "${o%.o}")" '{print $3, f}'
done | sort > "$tmp/defs"
# file -> file edges
for o in "$tmp"/*.o; do
  f=$(basename "${o%.o}")
  nm -u "$o" | awk '{print $2}' | sort | join - "$tmp/defs" | awk -v f="$f" '$2 != f {print f, $2}'
done | sort -u > "$tmp/edges"
echo "uses (file -> files whose functions it calls):"
awk '{a[$1] = a[$1] " " $2} END {for (k in a) print "  " k ".c ->" a[k]}' "$tmp/edges" | sort
# circles: tsort reports them
if tsort "$tmp/edges" >/dev/null 2>"$tmp/cycles"; then
  echo "no circle"
else
  echo "circle among C files:" >&2; cat "$tmp/cycles" >&2; exit 1
fi
