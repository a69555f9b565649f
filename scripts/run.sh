#!/usr/bin/env bash
# The appliance on this machine: installs what is missing, builds trapline (release), seeds ./inbox with a few
# real photos the first time, and runs `trapline run` on it with the bundled model and the embedded defaults.
# Labels land in ./trapline-catalog.db; read them from another terminal with sqlite3 (see README.md).
# Ctrl-C stops it cleanly. Extra arguments go to `trapline run` (for example --level 0.5).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --run
swift build -c release --quiet --product trapline

if [[ ! -d inbox ]]; then
  # Real photos from Debian's darknet package (licence: GPL-3.0+ or MIT or WTFPL, /usr/share/doc/darknet/copyright),
  # in two "camera" folders, so two deployments appear.
  mkdir -p inbox/A05 inbox/B01
  cp /usr/share/darknet/data/dog.jpg /usr/share/darknet/data/horses.jpg inbox/A05/
  cp /usr/share/darknet/data/eagle.jpg /usr/share/darknet/data/giraffe.jpg inbox/B01/
  echo "run.sh: seeded ./inbox with 4 sample photos (A05: dog, horses; B01: eagle, giraffe)"
fi

cat <<'TEXT'
run.sh: trapline is watching ./inbox; copy JPEGs into a folder under it (one folder per camera).
run.sh: in another terminal:  sqlite3 -header -column trapline-catalog.db 'select * from latest_observations'
TEXT
exec .build/release/trapline run --watch inbox --catalog trapline-catalog.db "$@"
