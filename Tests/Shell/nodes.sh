# Shared by the shell tests that start trapline nodes (sourced).
# shellcheck shell=bash

# stop_nodes SECONDS PID...: asks each node to stop (SIGTERM), gives them SECONDS to finish their batch and
# exit, then kills what is left, so that a stuck node cannot hang the test run.
stop_nodes() {
  local seconds=$1 pid alive
  shift
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq "$seconds"); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 1
  done
  for pid in "$@"; do kill -9 "$pid" 2>/dev/null || true; done
}
