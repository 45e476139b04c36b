#!/bin/sh
# check-corpus-list.sh — the embedded corpus is listed consistently:
# every data/corpus/*.krn is compiled in (corpus.gresource.xml) and vice
# versa, every song has a unique !!!SCT id, and data/corpus/README.md has a
# row for every id (its source and public-domain status).
#
#   check-corpus-list.sh SOURCE_ROOT
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 SOURCE_ROOT" >&2
  exit 2
fi
cd "$1/data/corpus"

status=0
on_disk=$(ls -- *.krn | LC_ALL=C sort)
listed=$(sed -n 's|.*<file>\(.*\.krn\)</file>.*|\1|p' corpus.gresource.xml | LC_ALL=C sort)

if [ "$on_disk" != "$listed" ]; then
  echo "corpus.gresource.xml and data/corpus/*.krn differ:" >&2
  printf '%s\n' "$on_disk" >"${TMPDIR:-/tmp}/mel-disk.$$"
  printf '%s\n' "$listed" | diff "${TMPDIR:-/tmp}/mel-disk.$$" - >&2 || true
  rm -f "${TMPDIR:-/tmp}/mel-disk.$$"
  status=1
fi

ids=$(for f in $on_disk; do
        id=$(sed -n 's/^!!!SCT: *//p' "$f")
        if [ -z "$id" ]; then
          echo "$f has no !!!SCT id" >&2
          echo "MISSING"
        else
          echo "$id"
        fi
      done)
dups=$(printf '%s\n' "$ids" | LC_ALL=C sort | uniq -d)
if [ -n "$dups" ]; then
  echo "duplicate or missing song ids: $dups" >&2
  status=1
fi
for id in $ids; do
  if ! grep -q "^| $id |" README.md; then
    echo "README.md has no row for $id" >&2
    status=1
  fi
done

if [ "$status" -eq 0 ]; then
  echo "$(printf '%s\n' "$on_disk" | wc -l) songs, all compiled in, ids unique, all in README.md"
fi
exit "$status"
