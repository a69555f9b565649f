#!/usr/bin/env bash
# Runs the README's "A local ring" lines, as written, in a fresh copy of the checkout (its tracked files only, so
# no local-ring/ folder and no credentials), the way a newcomer would after building.
#   Tests/Readme/local-ring.sh [BINARY]   BINARY: the trapline to run as .build/release/trapline
#                                         (default: .build/debug/trapline, which scripts/test.sh has just built)
# Two liberties, both where the README says what a person does by hand: "likewise pi3 and pi2" runs those two
# nodes too, and the head, which the README runs in a terminal of its own, runs in the background so the later
# lines can follow. The ring uses the fixed ports of Configs/local-ring.yaml (7401-7404, 7501-7504).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
binary=$(realpath "${1:-$repo/.build/debug/trapline}")
[[ -x $binary ]] || { echo "local-ring.sh: no trapline binary at $binary (build first)" >&2; exit 1; }

work=$(mktemp -d /tmp/trapline-readme-ring.XXXXXX)
pids=()
# shellcheck source=Tests/Shell/nodes.sh
source "$repo/Tests/Shell/nodes.sh"
cleanup() {
  # A node gets 15 s to finish its batch and exit; then it is killed.
  stop_nodes 15 "${pids[@]}"
  rm -rf "$work"
}
trap cleanup EXIT
(cd "$repo" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$work"
mkdir -p "$work/.build/release"
ln -s "$binary" "$work/.build/release/trapline"
cd "$work"
export OPENBLAS_NUM_THREADS=1

# The indented lines of the README section, without the indent.
mapfile -t lines < <(awk '/^## A local ring/ { inside = 1; next } inside && /^## / { exit }
  inside && /^    [^ ]/ { print substr($0, 5) }' README.md)
((${#lines[@]} >= 5)) || { echo "local-ring.sh: found ${#lines[@]} command lines in the README section" >&2; exit 1; }

fail() {
  echo "local-ring.sh: FAILED at: $1" >&2
  for log in "$work"/node-*.log; do [[ -e $log ]] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }; done
  exit 1
}

images=$(compgen -G '/usr/share/darknet/data/*.jpg' | wc -l || true)
((images > 0)) || fail "no darknet photos (scripts/setup.sh --test installs darknet)"
for port in 7401 7402 7403 7404 7501 7502 7503 7504; do
  if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
    fail "port $port is taken (another local ring running?): the README's ring uses 7401-7404 and 7501-7504"
  fi
done
started=0
for line in "${lines[@]}"; do
  command=${line%%#*}
  command=${command%"${command##*[![:space:]]}"}
  echo "\$ $line"
  if [[ $command == *"&" || $command == *" run "* ]]; then
    # A node: every one runs in the background here; "likewise a and b" repeats the line for those nodes.
    command=${command%&}
    node=$(sed -E 's/.*--node ([^ ]+).*/\1/' <<<"$command")
    others=$(sed -nE 's/.*likewise (.*)/\1/p' <<<"$line" | sed 's/ and / /g')
    for name in "$node" $others; do
      bash -c "${command//--node $node/--node $name}" >"node-$name.log" 2>&1 &
      pids+=($!)
      started=$((started + 1))
    done
    continue
  fi
  if [[ $command == cp* ]]; then
    # A person copies once the head is up: its watch folder made and its start-up scan begun.
    for _ in $(seq 120); do
      [[ -d local-ring/inbox ]] && grep -q "scanning" node-pi1.log 2>/dev/null && break
      sleep 1
    done
  fi
  if [[ $command == sqlite3* ]]; then
    # Wait (up to 5 minutes) until the ring has labelled every photo.
    for _ in $(seq 300); do
      labelled=$(sqlite3 local-ring/catalog.db "select count(*) from media where status = 'labeled'" 2>/dev/null || echo 0)
      ((labelled >= images)) && break
      sleep 1
    done
    ((labelled >= images)) || fail "only $labelled of $images photos labelled within 5 minutes"
  fi
  output=$(bash -c "$command" 2>&1) || { echo "$output" >&2; fail "$line"; }
  echo "$output" | head -n 30
  if [[ $command == sqlite3* || $command == *"ring status"* || $command == *" timings "* ]]; then
    [[ -n $output ]] || fail "$line printed nothing"
  fi
done
((started == 4)) || fail "the README started $started nodes, not 4"
for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || fail "a node exited early (pid $pid)"; done
[[ $(stat -c %a local-ring/credentials) == 700 ]] || fail "local-ring/credentials is not mode 700"
echo "local-ring.sh: the README's local ring works as written from a fresh checkout ($images photos labelled)"
