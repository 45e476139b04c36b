#!/usr/bin/env bash
# bootstrap.sh — set up a Debian 12 machine for Melodist, build it, and run it.
#
#   ./bootstrap.sh run     install what is missing, build, run the main job
#   ./bootstrap.sh test    install what is missing, build, run every test
#   ./bootstrap.sh asan    the tests again in an ASan + UBSan build
#   ./bootstrap.sh deps    only install the Debian packages
#
# Installing needs root (apt-get); it is skipped when everything is present.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  # build
  build-essential clang meson ninja-build pkg-config gettext
  # libraries
  libglib2.0-dev libjson-glib-dev libgtk-4-dev libadwaita-1-dev libopenblas-dev
  libfluidsynth-dev libsndfile1-dev libcairo2-dev libpango1.0-dev libxml2-dev
  # runtime data: a GM SoundFont and the Noto Music font for engraving
  timgm6mb-soundfont fonts-noto-core
  # tests: Xvfb for the GUI, validators, sanitizer runtime, audio tools
  xvfb xauth desktop-file-utils appstream libxml2-utils libclang-rt-14-dev
  libgtk-4-media-gstreamer gstreamer1.0-plugins-good fluidsynth sox midicsv
  # optional: data-parallel training over MPI
  libopenmpi-dev openmpi-bin
)

install_deps () {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "bootstrap: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: run as root (or with sudo) to install packages" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# configure BUILDDIR [meson options…]
configure () {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@"
  fi
}

build () {
  configure build ${MELODIST_MESON_OPTIONS:-}
  ninja -C build
}

# The main job: the whole journey on the embedded default corpus — train a
# small GRU, let it write a melody, and hear, see and export it (in out/).
run_main_job () {
  build
  local cli=./build/src/cli/melodist-cli
  mkdir -p out
  "$cli" corpus stats
  "$cli" train --model gru --hidden 128 --layers 1 --epochs 80 --lr 0.005 --threads 2 \
    --seed 1 -o out/run.ckpt
  "$cli" generate out/run.best.ckpt --seed-melody "67 _ 67 _ 67 _ _ 65 64 _ 64 _ 64 _ _" \
    --bars 8 --temperature 0.9 --top-k 8 --rng-seed 1 -o out/melody.krn
  "$cli" export out/melody.krn -o out/melody.mid
  "$cli" export out/melody.krn -o out/melody.musicxml
  "$cli" engrave out/melody.krn -o out/melody.png
  "$cli" render out/melody.krn -o out/melody.wav
  echo "bootstrap: wrote out/melody.krn, .mid, .musicxml, .png and .wav"
}

run_tests () {
  build
  # GUI tests need a display: run the whole suite under a virtual X server.
  xvfb-run -a -s "-screen 0 1280x1024x24" \
    meson test -C build --print-errorlogs --num-processes 2
}

run_asan_tests () {
  configure build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized ${MELODIST_MESON_OPTIONS:-}
  ninja -C build-asan
  # Mesa's EGL leaks when a display opens; GUI tests draw with cairo under ASan.
  GDK_DEBUG=gl-disable \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp" \
    xvfb-run -a -s "-screen 0 1280x1024x24" \
    meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 4
}

case "${1:-run}" in
  deps) install_deps ;;
  run)  install_deps; run_main_job ;;
  test) install_deps; run_tests ;;
  asan) install_deps; run_asan_tests ;;
  *) echo "usage: $0 [run|test|asan|deps]" >&2; exit 2 ;;
esac
