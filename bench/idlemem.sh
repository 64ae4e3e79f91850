#!/usr/bin/env bash
# idlemem.sh measures pinion's memory per idle connection: KiB of server RSS
# per connection at CONNS idle echo connections, for each I/O backend
# (epoll, uring) and loop count (1, 2), the binaries interleaved round by
# round. docs/benchmarks-analysis.md quotes what it prints.
#
# Usage: bench/idlemem.sh [CONNS] [ROUNDS]
#   CONNS   idle connections (default 10000; the server's fd limit and the
#           load generator's must allow it, each runs in its own process)
#   ROUNDS  rounds of every configuration (default 2)
#   BINS    (environment) "NAME=PATH ..." pinion binaries to compare;
#           default: "this=" plus a build of this checkout
#   IOS, LOOPS  (environment) the backends and loop counts, default
#           "epoll uring" and "1 2"
#
# Each run starts a fresh `pinion serve -proto echo -io IO -loops L` with
# every other flag at its default (-max-conns 10000, -idle-timeout 2m)
# plus an admin socket, reads its RSS once it stays put (rss0), then
# `pinion load -idle` opens CONNS connections as fast as it can, each
# exchanges one 64-byte message and idles. RSS is read twice more:
#   soon     the moment the load generator says "ready": no time for a
#            garbage collection or the scavenger, so garbage made while
#            accepting still counts
#   settled  once RSS stays within 16 KiB over three readings 200 ms apart
# KiB/conn is (RSS - rss0) / CONNS for each. Then the admin's heap profile,
# taken after a forced collection (gc=1), gives the live heap: heap/conn
# is (HeapAlloc - HeapAlloc of a fresh server) / CONNS in bytes, and gcs
# the collections that ran during the ramp. Raw lines go to $OUT/raw.txt.
set -euo pipefail
conns=${1:-10000} rounds=${2:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/pinion-idlemem}
mkdir -p "$out"
if [[ -z ${BINS:-} ]]; then
	(cd "$root" && CGO_ENABLED=0 go build -o "$out/pinion" ./cmd/pinion)
	BINS="this=$out/pinion"
fi
read -r -a bins <<<"$BINS"
load=${bins[-1]#*=} # the last binary's load generator holds the connections

spid= lpid=
cleanup() {
	if [[ -n $lpid ]]; then kill "$lpid" 2>/dev/null || true; fi
	if [[ -n $spid ]]; then kill "$spid" 2>/dev/null || true; fi
	rm -f "$out/hold"
}
trap cleanup EXIT
# The holders' stdin: a FIFO this script keeps open, so that it never ends.
rm -f "$out/hold"
mkfifo "$out/hold"
exec 3<>"$out/hold"

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# settle prints the RSS of $1 (KiB) once three readings in a row each
# differ from the one before by at most 16 KiB, or after 10 s.
settle() {
	local prev cur stable=0
	prev=$(rss "$1")
	for _ in $(seq 50); do
		sleep 0.2
		cur=$(rss "$1")
		if ((cur - prev <= 16 && prev - cur <= 16)); then
			stable=$((stable + 1))
			((stable >= 3)) && break
		else
			stable=0
		fi
		prev=$cur
	done
	echo "$cur"
}

# memstats saves the heap profile of the server with admin address $1,
# taken after a forced collection; field prints runtime.MemStats field $1
# from it.
memstats() { curl -sf "http://$1/debug/pprof/heap?debug=1&gc=1" >"$out/heap.txt"; }
field() { sed -n "s/^# $1 = \([0-9]*\).*/\1/p" "$out/heap.txt"; }

# start runs `$bin serve` with the io and loops given, setting spid and the
# addresses addr and admin.
start() {
	local bin=$1 io=$2 loops=$3
	"$bin" serve -addr 127.0.0.1:0 -admin 127.0.0.1:0 -proto echo -io "$io" -loops "$loops" \
		>"$out/server.log" 2>&1 &
	spid=$!
	for _ in $(seq 200); do
		grep -q 'listening on' "$out/server.log" && break
		sleep 0.05
	done
	addr=$(sed -n 's/.*listening on \([^ ]*\) .*/\1/p' "$out/server.log")
	admin=$(sed -n 's/.*admin \([^ ]*\)$/\1/p' "$out/server.log")
	[[ -n $addr && -n $admin ]] || { echo "idlemem.sh: server did not start:" >&2; cat "$out/server.log" >&2; exit 1; }
}

stop() {
	kill -INT "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

: >"$out/raw.txt"
printf '%-8s %-5s %5s %6s %9s %9s %9s %6s %4s\n' binary io loops conns soon settled heap/conn rss0 gcs
for round in $(seq "$rounds"); do
	for io in ${IOS:-epoll uring}; do
		for loops in ${LOOPS:-1 2}; do
			for b in "${bins[@]}"; do
				name=${b%%=*} bin=${b#*=}
				# The live heap of a fresh server, from a server of its own:
				# the profile's garbage must not count in the run below.
				start "$bin" "$io" "$loops"
				sleep 0.5
				memstats "$admin"
				heap0=$(field HeapAlloc)
				stop "$spid"
				spid=

				start "$bin" "$io" "$loops"
				rss0=$(settle "$spid")
				"$load" load -idle -addr "$addr" -proto echo -conns "$conns" -size 64 -timeout 60s \
					>"$out/load.log" 2>"$out/load.err" <"$out/hold" &
				lpid=$!
				for _ in $(seq 1200); do
					grep -q "^ready $conns" "$out/load.log" && break
					if ! kill -0 "$lpid" 2>/dev/null; then
						cat "$out/load.err" >&2
						exit 1
					fi
					sleep 0.05
				done
				soon=$(rss "$spid")
				settled=$(settle "$spid")
				memstats "$admin"
				heapN=$(field HeapAlloc) gcs=$(($(field NumGC) - 1))
				kill "$lpid" 2>/dev/null || true
				wait "$lpid" 2>/dev/null || true
				lpid=
				stop "$spid"
				spid=
				line=$(awk -v n="$name" -v io="$io" -v l="$loops" -v c="$conns" -v r0="$rss0" -v s="$soon" \
					-v st="$settled" -v h0="$heap0" -v h="$heapN" -v g="$gcs" 'BEGIN {
					printf "%-8s %-5s %5d %6d %9.3f %9.3f %9.1f %6d %4d", n, io, l, c,
						(s - r0) / c, (st - r0) / c, (h - h0) / c, r0, g }')
				echo "$line"
				echo "round $round $line" >>"$out/raw.txt"
			done
		done
	done
done

# Medians over the rounds of each binary, io and loop count.
echo
echo "medians of $rounds round(s): soon and settled in KiB/conn, heap in bytes/conn"
awk '{ k = $3 " " $4 " " $5; keys[k] = 1; n[k]++; soon[k, n[k]] = $7; st[k, n[k]] = $8; hp[k, n[k]] = $9 }
function med(a, k, m,   i, j, t, v) {
	for (i = 1; i <= m; i++) v[i] = a[k, i]
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
	return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
}
END { for (k in keys) printf "%-22s soon %.3f  settled %.3f  heap %.1f\n", k, med(soon, k, n[k]), med(st, k, n[k]), med(hp, k, n[k]) }' \
	"$out/raw.txt" | sort
