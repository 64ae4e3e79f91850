#!/usr/bin/env bash
# callgrind.sh counts the user-space instructions per request of a whole
# server under load: the server runs under valgrind's callgrind on CPU 0,
# `pinion load` on CPU 1 with one connection, so that every tick of the
# server is one batch of PIPE requests (as at 100 connections without
# valgrind). The counters are zeroed when the load starts measuring and
# dumped when it ends; instructions are counted, not timed, so a run
# repeats within a fraction of a percent however busy the machine is.
#
#   bench/callgrind.sh SERVER_BIN [OUT]
#
# SERVER_BIN is a pinion binary (served as `serve -proto $PROTO -model loop
# -loops 1 -io $IO`) or, when its name says cserve, bench/c's C server
# (`-proto $PROTO -threads 1`; cc -O2 -g bench/c/cserve.c -o cserve). It
# prints the instructions per request and the top functions, inclusive,
# per request; the callgrind file is OUT (default
# /tmp/callgrind.<pid>.out), for callgrind_annotate.
# Environment: PROTO (http), PIPE (16), SECS (8), IO (epoll), PORT (19111),
# LOAD (the pinion binary that loads: SERVER_BIN if it is one, else
# bin/pinion), TOP (25 functions).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bin=${1:?usage: bench/callgrind.sh SERVER_BIN [OUT]}
out=${2:-/tmp/callgrind.$$.out}
PROTO=${PROTO:-http} PIPE=${PIPE:-16} SECS=${SECS:-8} IO=${IO:-epoll}
PORT=${PORT:-19111} TOP=${TOP:-25}
for t in valgrind callgrind_control callgrind_annotate taskset; do
	command -v "$t" >/dev/null || { echo "callgrind.sh: $t is missing (apt-get install valgrind util-linux)" >&2; exit 1; }
done
case ${bin##*/} in
*cserve*)
	args=(-proto "$PROTO" -threads 1 -addr "127.0.0.1:$PORT")
	load=${LOAD:-bin/pinion}
	;;
*)
	args=(serve -proto "$PROTO" -model loop -loops 1 -io "$IO" -addr "127.0.0.1:$PORT")
	load=${LOAD:-$bin}
	;;
esac
tmp=$(mktemp -d)
srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# asyncpreemptoff: the runtime's preemption signals would count as work.
GODEBUG=asyncpreemptoff=1 taskset -c 0 valgrind --tool=callgrind \
	--callgrind-out-file="$out" "$bin" "${args[@]}" >"$tmp/serve.log" 2>&1 &
srv=$!
waitline "$tmp/serve.log" "listening on 127.0.0.1:$PORT" 60
taskset -c 1 "$load" load -addr "127.0.0.1:$PORT" -proto "$PROTO" -path /plaintext \
	-conns 1 -pipeline "$PIPE" -warmup 2s -duration "${SECS}s" -json \
	>"$tmp/load.json" 2>"$tmp/load.err" &
ld=$!
waitline "$tmp/load.err" 'pinion load: measuring' 60
callgrind_control -z "$srv" >/dev/null
waitline "$tmp/load.err" 'pinion load: measured' $((SECS + 60))
callgrind_control -d "$srv" >/dev/null
wait "$ld"
kill "$srv"
wait "$srv" 2>/dev/null || true
srv=
dump=$(ls -t "$out".* | head -1)
reqs=$(sed -n 's/.*"requests":\([0-9]*\).*/\1/p' "$tmp/load.json")
total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "# $bin, $PROTO pipeline $PIPE, 1 connection, ${SECS}s: $reqs requests"
awk -v t="$total" -v r="$reqs" 'BEGIN {printf "instructions per request: %.0f\n", t / r}'
echo "# inclusive instructions per request, top $TOP functions (each once: an inlined one is listed under several files) ($dump)"
callgrind_annotate --inclusive=yes --show-percs=no "$dump" 2>/dev/null |
	awk -v r="$reqs" -v n="$TOP" '/file:function/ {on = 1; next}
		on && NF >= 2 && $1 ~ /^[0-9,]+$/ {gsub(",", "", $1); f = $2; sub(/.*:/, "", f); if (seen[f]++) next; printf "%8.0f  %s\n", $1 / r, f; if (++k == n) exit}'
