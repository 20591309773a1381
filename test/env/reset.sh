#!/usr/bin/env bash
# Undoes test/env/setup.sh: untags the seeded base images in dockerd, stops the
# registries and the dockerd that setup.sh started, and removes
# /var/lib/drydock-test. Keeps the debootstrap cache (/var/cache/drydock-test),
# the logs (/var/log/drydock-test) and /etc/docker/daemon.json.
set -euo pipefail

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "test/env/reset.sh must run as root"

RUN=/run/drydock-test
DOCKER=/usr/bin/docker

stop_pidfile() { # name expected-command
  local name=$1 cmd=$2 pid
  pid=$(cat "$RUN/$name.pid" 2>/dev/null || true)
  rm -f "$RUN/$name.pid"
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  # guard against a recycled pid: only stop what setup.sh started
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$cmd" || return 0
  log "stopping $name (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  log "$name (pid $pid) ignored SIGTERM for 30 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

if "$DOCKER" info >/dev/null 2>&1; then
  # Local copies of the seeded images would outlive the registry they came from.
  "$DOCKER" rmi busybox:latest busybox:1.35 debian:bookworm-slim debian:bookworm \
    node:20-slim node:20 python:3.11-slim python:3.11 golang:1.19 golang:1.19-bookworm >/dev/null 2>&1 || true
fi
stop_pidfile dockerd dockerd
stop_pidfile registry docker-registry
stop_pidfile registry-auth docker-registry
stop_pidfile registry-tls docker-registry
rm -rf /var/lib/drydock-test
log "reset done (kept /var/cache/drydock-test, /var/log/drydock-test, /etc/docker/daemon.json)"
