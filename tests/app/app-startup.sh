#!/bin/bash
# app-startup.sh — how long `melodist` takes from launch to its window, and to
# the filled song list (embedded corpus), measured N times.
#
#   xvfb-run -a -s "-screen 0 1280x800x24" tests/app/app-startup.sh BUILD_DIR [N]
#
# Wall times are polled from outside (launch → the app's own debug lines, 5 ms
# resolution); the app's log adds its own clock and the process CPU time,
# which does not depend on what else loads the machine.
set -u
build=${1:?usage: $0 BUILD_DIR [N]}
runs=${2:-5}
export GSETTINGS_SCHEMA_DIR="$build/data" GSETTINGS_BACKEND=memory GTK_A11Y=none
export GSK_RENDERER=${GSK_RENDERER:-cairo} G_MESSAGES_DEBUG=Melodist
export XDG_DATA_HOME=$(mktemp -d)
trap 'rm -rf "$XDG_DATA_HOME"' EXIT

for i in $(seq 1 "$runs"); do
  log=$(mktemp)
  start=$(date +%s%N)
  "$build/src/app/melodist" >"$log" 2>&1 &
  pid=$!
  mapped="" listed=""
  for _ in $(seq 1 2000); do
    now=$(date +%s%N)
    if [ -z "$mapped" ] && grep -q "window mapped" "$log"; then mapped=$(( (now - start) / 1000000 )); fi
    if [ -z "$listed" ] && grep -q "songs listed" "$log"; then listed=$(( (now - start) / 1000000 )); fi
    [ -n "$mapped" ] && [ -n "$listed" ] && break
    sleep 0.005
  done
  echo "run $i: window mapped ${mapped:-?} ms, songs listed ${listed:-?} ms after launch;" \
       "$(grep -o 'startup: .*' "$log" | sed 's/startup: //' | tr '\n' ' ')"
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rm -f "$log"
done
