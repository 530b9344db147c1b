#!/bin/bash
# Stop the private Postfix instance started by start-postfix.sh DIR PORT.
#   stop-postfix.sh DIR [--purge]     (--purge also deletes DIR afterwards)
# Harmless when it is not running. Only this instance's master (DIR/spool/pid/master.pid) is
# signalled: SIGTERM, as `postfix stop` does (the master stops its children and exits), but
# polled every 0.05 s (a zombie, which a container's init may reap late, counts as gone)
# instead of `postfix stop`'s 1 s sleeps; after 5 s the master's process group is killed.
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
[ $# -ge 1 ] || { echo "usage: $0 DIR [--purge]" >&2; exit 2; }
BASE=$(cd "$1" 2>/dev/null && pwd -P) || exit 0
pidfile=$BASE/spool/pid/master.pid
pid=$(awk '{print $1; exit}' "$pidfile" 2>/dev/null || true)
alive() {  # any non-zombie process left in the master's process group (its children too)
    local p
    for p in $(pgrep -g "$1" 2>/dev/null); do
        grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null || return 0
    done
    return 1
}
if [ -n "$pid" ] && grep -qx master "/proc/$pid/comm" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        alive "$pid" || break
        sleep 0.05
    done
    if alive "$pid"; then
        echo "postfix master $pid did not stop in 5 s; killing its process group" >&2
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
fi
if [ "${2:-}" = --purge ]; then rm -rf "$BASE"; fi
