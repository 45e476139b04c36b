#!/bin/sh
# check-potfiles.sh — fail when a file with translatable strings is missing
# from po/POTFILES.in, when POTFILES.in names a file that does not exist, or
# when it is not sorted.
#
#   check-potfiles.sh SOURCE_ROOT
#
# Translatable strings are _("…"), N_("…"), C_(…), NC_(…) in C files (.c, .h) under
# src/ (GNU style allows a space before the parenthesis) and
# translatable="yes" in GtkBuilder files under data/ui/.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 SOURCE_ROOT" >&2
  exit 2
fi
cd "$1"

listed=$(mktemp) found=$(mktemp)
trap 'rm -f "$listed" "$found"' EXIT INT TERM

sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' po/POTFILES.in >"$listed"

{
  if [ -d src ]; then
    find src \( -name '*.c' -o -name '*.h' \) -type f -print0 |
      xargs -0 -r grep -lE '(^|[^A-Za-z0-9_])(NC_|C_|N_|_)[[:space:]]*\([[:space:]]*"' || true
  fi
  if [ -d data/ui ]; then
    find data/ui -name '*.ui' -type f -print0 |
      xargs -0 -r grep -l 'translatable="yes"' || true
  fi
} | LC_ALL=C sort -u >"$found"

status=0
missing=$(LC_ALL=C sort -u "$listed" | LC_ALL=C comm -23 "$found" -)
if [ -n "$missing" ]; then
  echo "These files have translatable strings but are not in po/POTFILES.in:" >&2
  printf '  %s\n' $missing >&2
  status=1
fi

while IFS= read -r f; do
  if [ ! -f "$f" ]; then
    echo "po/POTFILES.in names $f, which does not exist" >&2
    status=1
  fi
done <"$listed"

if ! LC_ALL=C sort -c -u "$listed" 2>/dev/null; then
  echo "po/POTFILES.in is not sorted (LC_ALL=C sort) or lists a file twice" >&2
  status=1
fi

if [ "$status" -eq 0 ]; then
  echo "po/POTFILES.in lists all $(wc -l <"$found") files with translatable strings"
fi
exit "$status"
