#!/usr/bin/env bash
# scrape.sh BIN [CONNS] [REPEAT] [INTERVAL] measures what being scraped
# costs the server: server CPU per request of `pinion serve -admin`
# (-model loop, -proto echo, 64-byte requests, one loop on CPU 0) under
# `pinion load` with CONNS connections (CPU 1), without and with a client
# fetching /metrics every INTERVAL seconds (default 0.1, also on CPU 1),
# interleaved REPEAT times. CPU is the server's utime+stime from /proc over
# the load's run divided by the requests completed. A report, not a test.
set -euo pipefail
bin=$1 conns=${2:-1000} rep=${3:-5} every=${4:-0.1}
tck=$(getconf CLK_TCK)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

one() {
	local scrape=$1 spid addr admin s0 s1 reqs scraper="" n=0
	taskset -c 0 "$bin" serve -addr 127.0.0.1:0 -proto echo -model loop -loops 1 -pin=false \
		-max-conns 20000 -idle-timeout 0 -admin 127.0.0.1:0 >"$out" 2>/dev/null &
	spid=$!
	for _ in $(seq 100); do grep -q 'listening on' "$out" && break; sleep 0.05; done
	addr=$(sed -n 's/.*listening on \([^ ]*\) .*/\1/p' "$out")
	admin=$(sed -n 's/.*, admin \([^ ]*\)$/\1/p' "$out")
	if [ "$scrape" = yes ]; then
		taskset -c 1 bash -c "while :; do curl -s -o /dev/null http://$admin/metrics; sleep $every; done" &
		scraper=$!
	fi
	s0=$(awk '{print $14+$15}' "/proc/$spid/stat")
	reqs=$(taskset -c 1 "$bin" load -addr "$addr" -proto echo -conns "$conns" -pipeline 1 \
		-size 64 -warmup 0 -duration 5s -json 2>/dev/null | sed -n 's/.*"requests": *\([0-9]*\).*/\1/p')
	s1=$(awk '{print $14+$15}' "/proc/$spid/stat")
	if [ -n "$scraper" ]; then kill "$scraper"; wait "$scraper" 2>/dev/null || true; fi
	kill -INT "$spid"
	wait "$spid" || true
	awk -v d=$((s1 - s0)) -v t="$tck" -v r="$reqs" 'BEGIN { printf "%.3f", d * 1e6 / t / r }'
}

printf 'conns %s, /metrics every %ss: server µs/request\n' "$conns" "$every"
for i in $(seq "$rep"); do
	a=$(one no)
	b=$(one yes)
	printf 'run %d  unscraped %s  scraped %s  change %s%%\n' "$i" "$a" "$b" \
		"$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%+.2f", (b - a) / a * 100 }')"
done
