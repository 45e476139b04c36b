#!/bin/sh
# check-translations.sh — fail when a translation is broken, incomplete or
# out of date with the sources.
#
#   check-translations.sh SOURCE_ROOT [MELODIST_CLI LOCALEDIR]
#
# For every language in po/LINGUAS:
#   * msgfmt -c --check-format must accept po/LANG.po without a single
#     warning, and it must have no fuzzy and no untranslated messages;
#   * every message the sources hold must be in it: a fresh template is
#     extracted with xgettext from po/POTFILES.in (the keywords of meson's
#     'glib' gettext preset) and compared with msgcmp;
#   * with MELODIST_CLI and LOCALEDIR (the build's po/ folder): the program
#     speaks the language when run with LANGUAGE=LANG, LANG=C.UTF-8 and
#     MELODIST_LOCALEDIR=LOCALEDIR (the compiled catalogue is found and used).
set -eu

if [ $# -ne 1 ] && [ $# -ne 3 ]; then
  echo "usage: $0 SOURCE_ROOT [MELODIST_CLI LOCALEDIR]" >&2
  exit 2
fi
cli=${2:-} localedir=${3:-}
# Both may be relative to where we were started (meson: the build root).
case "$cli" in ''|/*) ;; *) cli=$PWD/$cli ;; esac
case "$localedir" in ''|/*) ;; *) localedir=$PWD/$localedir ;; esac
cd "$1"

for tool in msgfmt msgcmp xgettext; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool not found (Debian package gettext)" >&2
    exit 1
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# The same options as meson's i18n.gettext (preset: 'glib'), so the template
# holds exactly what `ninja melodist-pot` would write.
sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' po/POTFILES.in >"$tmp/POTFILES"
xgettext --package-name=melodist --from-code=UTF-8 --add-comments \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
  --flag=g_markup_printf_escaped:1:c-format --flag=g_log:3:c-format \
  --flag=g_print:1:c-format --flag=g_printerr:1:c-format --flag=g_printf:1:c-format \
  --flag=g_fprintf:2:c-format --flag=g_sprintf:2:c-format --flag=g_snprintf:3:c-format \
  --directory=. --files-from="$tmp/POTFILES" \
  --output="$tmp/melodist.pot" 2>"$tmp/xgettext.log" || {
    cat "$tmp/xgettext.log" >&2
    echo "xgettext could not extract the messages" >&2
    exit 1
  }
# A msgid cut short by a macro (e.g. "%" G_GUINT64_FORMAT) cannot be
# translated: use PRIu64 from <inttypes.h>, which gettext understands.
if grep -q 'warning' "$tmp/xgettext.log"; then
  cat "$tmp/xgettext.log" >&2
  echo "xgettext warns about the sources" >&2
  exit 1
fi
total=$(msgattrib --no-obsolete "$tmp/melodist.pot" | grep -c '^msgid ' || true)
total=$((total - 1))

status=0
languages=$(sed -e 's/#.*//' po/LINGUAS)
if [ -z "$(echo $languages)" ]; then
  echo "po/LINGUAS names no language" >&2
  exit 1
fi
for lang in $languages; do
  po="po/$lang.po"
  if [ ! -f "$po" ]; then
    echo "$po is listed in po/LINGUAS but does not exist" >&2
    status=1
    continue
  fi
  if ! LC_ALL=C msgfmt -c --check-format --statistics -o /dev/null "$po" 2>"$tmp/msgfmt.log"; then
    cat "$tmp/msgfmt.log" >&2
    echo "$po: msgfmt -c rejects it" >&2
    status=1
    continue
  fi
  # The statistics line is the only thing msgfmt may say.
  stats=$(grep 'translated message' "$tmp/msgfmt.log" || true)
  if grep -v 'translated message' "$tmp/msgfmt.log" | grep -q .; then
    cat "$tmp/msgfmt.log" >&2
    echo "$po: msgfmt -c warns" >&2
    status=1
  fi
  case "$stats" in
    *fuzzy*|*untranslated*)
      echo "$po: $stats — every message must be translated, none fuzzy" >&2
      status=1 ;;
  esac
  if ! LC_ALL=C msgcmp "$po" "$tmp/melodist.pot" 2>"$tmp/msgcmp.log"; then
    head -n 40 "$tmp/msgcmp.log" >&2
    echo "$po: messages of the sources are missing; update it with" >&2
    echo "  ninja -C BUILDDIR melodist-update-po   (then translate the new messages)" >&2
    status=1
  fi
  if [ -n "$cli" ]; then
    # The first line of the usage, as the catalogue and as the program say it.
    usage='Usage: melodist-cli COMMAND [OPTIONS…]

Commands:
'
    expected=$(LANG=C.UTF-8 LC_ALL= LANGUAGE=$lang TEXTDOMAINDIR=$localedir gettext -d melodist "$usage" | head -n 1)
    said=$(LANG=C.UTF-8 LC_ALL= LANGUAGE=$lang MELODIST_LOCALEDIR=$localedir "$cli" --help | head -n 1)
    if [ "$expected" = "Usage: melodist-cli COMMAND [OPTIONS…]" ]; then
      echo "$localedir/$lang/LC_MESSAGES/melodist.mo is missing or does not translate the usage" >&2
      status=1
    elif [ "$said" != "$expected" ]; then
      echo "melodist-cli with LANGUAGE=$lang says '$said', expected '$expected'" >&2
      status=1
    fi
  fi
  if [ "$status" -eq 0 ]; then
    echo "$po: $stats (the sources hold $total)${cli:+; melodist-cli speaks it}"
  fi
done
exit "$status"
