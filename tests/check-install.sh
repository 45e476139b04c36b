#!/bin/sh
# check-install.sh — install the build into a temporary DESTDIR and check that
# everything a user needs ends up in the right place.
#
#   check-install.sh BUILDDIR PREFIX BINDIR DATADIR LOCALEDIR APP_ID LINGUAS
#
# BINDIR, DATADIR and LOCALEDIR are relative to PREFIX (or absolute), as in
# meson's options.  Run by `meson test --suite data` (test "install").
set -eu

if [ $# -ne 7 ]; then
  echo "usage: $0 BUILDDIR PREFIX BINDIR DATADIR LOCALEDIR APP_ID LINGUAS" >&2
  exit 2
fi
builddir=$1 prefix=$2 bindir=$3 datadir=$4 localedir=$5 app_id=$6 linguas=$7

under_prefix () {
  case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$prefix" "$1" ;;
  esac
}
bindir=$(under_prefix "$bindir")
datadir=$(under_prefix "$datadir")
localedir=$(under_prefix "$localedir")

destdir=$(mktemp -d "${TMPDIR:-/tmp}/melodist-install.XXXXXX")
trap 'rm -rf "$destdir"' EXIT INT TERM

# --no-rebuild: meson test has already built everything, and a rebuild from
# inside a test would race with the build tree.
if ! meson install -C "$builddir" --destdir "$destdir" --no-rebuild --quiet \
       >"$destdir.log" 2>&1; then
  cat "$destdir.log" >&2
  rm -f "$destdir.log"
  echo "FAIL: meson install failed" >&2
  exit 1
fi
rm -f "$destdir.log"

failures=0
expect () {  # expect TEST PATH DESCRIPTION
  if [ "$1" "$destdir$2" ]; then
    echo "ok   $3: $2"
  else
    echo "FAIL $3 missing: $2" >&2
    failures=$((failures + 1))
  fi
}

expect -x "$bindir/melodist" "application binary"
expect -x "$bindir/melodist-cli" "command-line tool"
expect -f "$datadir/applications/$app_id.desktop" "desktop file"
expect -f "$datadir/metainfo/$app_id.metainfo.xml" "AppStream metainfo"
expect -f "$datadir/glib-2.0/schemas/$app_id.gschema.xml" "GSettings schema"
expect -f "$datadir/icons/hicolor/scalable/apps/$app_id.svg" "application icon"
expect -f "$datadir/icons/hicolor/symbolic/apps/$app_id-symbolic.svg" "symbolic icon"

# One message catalogue per language listed in po/LINGUAS.
for lang in $(sed -e 's/#.*//' "$linguas"); do
  expect -f "$localedir/$lang/LC_MESSAGES/melodist.mo" "translation ($lang)"
done

# The installed files must be usable, not merely present.
desktop="$destdir$datadir/applications/$app_id.desktop"
if [ -f "$desktop" ]; then
  if ! grep -qx "Icon=$app_id" "$desktop"; then
    echo "FAIL desktop file does not name the icon $app_id" >&2
    failures=$((failures + 1))
  fi
  exec_name=$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$desktop")
  if [ ! -x "$destdir$bindir/$exec_name" ]; then
    echo "FAIL desktop file runs '$exec_name', which is not installed in $bindir" >&2
    failures=$((failures + 1))
  fi
  if grep -q '^Name\[de\]=' "$desktop" || ! grep -qw de "$linguas"; then
    :
  else
    echo "FAIL desktop file has no German translation merged" >&2
    failures=$((failures + 1))
  fi
fi
schemadir="$destdir$datadir/glib-2.0/schemas"
if [ -d "$schemadir" ] && ! glib-compile-schemas --strict --dry-run "$schemadir"; then
  echo "FAIL installed schemas do not compile" >&2
  failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures installed file(s) missing or broken" >&2
  exit 1
fi
echo "install check passed"
