#!/usr/bin/env bash
# ab.sh OLD NEW [CONNS] [PIPELINE] [REPEAT] [PROTO] compares the server CPU
# per request of two pinion binaries (-model loop, -proto PROTO: echo with
# 64-byte requests by default, or http: GET /plaintext), interleaving them
# REPEAT times. The server runs on CPU 0 with
# one loop, the load generator (NEW's) on CPU 1. CPU is the server's
# utime+stime from /proc over its whole run, connects included, divided by
# the requests completed: fine for comparing two builds, not a report.
set -euo pipefail
old=$1 new=$2 conns=${3:-100} pipe=${4:-1} rep=${5:-5} proto=${6:-echo}
tck=$(getconf CLK_TCK)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

one() {
	local bin=$1 spid addr s0 s1 reqs
	taskset -c 0 "$bin" serve -addr 127.0.0.1:0 -proto "$proto" -model loop -loops 1 -pin=false \
		-max-conns 20000 -idle-timeout 0 >"$out" 2>/dev/null &
	spid=$!
	for _ in $(seq 100); do grep -q 'listening on' "$out" && break; sleep 0.05; done
	addr=$(sed -n 's/.*listening on \([^ ]*\) .*/\1/p' "$out")
	s0=$(awk '{print $14+$15}' "/proc/$spid/stat")
	reqs=$(taskset -c 1 "$new" load -addr "$addr" -proto "$proto" -conns "$conns" -pipeline "$pipe" \
		-size 64 -warmup 0 -duration 5s -json 2>/dev/null | sed -n 's/.*"requests": *\([0-9]*\).*/\1/p')
	s1=$(awk '{print $14+$15}' "/proc/$spid/stat")
	kill -INT "$spid"
	wait "$spid" || true
	awk -v d=$((s1 - s0)) -v t="$tck" -v r="$reqs" 'BEGIN { printf "%.3f", d * 1e6 / t / r }'
}

printf '%s, conns %s pipeline %s: server µs/request\n' "$proto" "$conns" "$pipe"
for i in $(seq "$rep"); do
	printf 'run %d  old %s  new %s\n' "$i" "$(one "$old")" "$(one "$new")"
done
