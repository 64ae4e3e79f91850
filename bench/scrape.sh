#!/usr/bin/env bash
# scrape.sh BIN [CONNS] [REPEAT] [INTERVAL] measures what being scraped
# costs the server: server CPU per request of `pinion serve -admin`
# (-model loop, -proto echo, 64-byte requests, one loop on CPU 0) under
# `pinion load` with CONNS connections (CPU 1), without and with a client
# fetching /metrics every INTERVAL seconds (default 0.1, also on CPU 1),
# interleaved REPEAT times. CPU is the server's utime+stime from /proc over
# the load's run divided by the requests completed. A report, not a test.
#
# On a shared machine the A/B figures vary by more than the effect, so the
# script also measures the effect directly: the server's CPU time
# (/proc/PID/task/*/schedstat, nanoseconds, every thread) spent answering 2,000 scrapes of
# /metrics back to back over one keep-alive connection, times the scrapes
# per second, divided by the CPU the unscraped runs spent per second.
#
# With REPORT=FILE it also writes the figures as a markdown page (the
# bench report's docs/benchmarks-observability.md).
set -euo pipefail
bin=$1 conns=${2:-1000} rep=${3:-5} every=${4:-0.1}
tck=$(getconf CLK_TCK)
out=$(mktemp)
trap 'rm -f "$out" "$out.us" "$out.reqs" "$out.load"' EXIT

# started waits up to 60s for the server's listening line; on a busy
# machine a start can take seconds. SIGTERM, not SIGINT, stops servers: a
# background job of a script starts with SIGINT ignored, so a SIGINT sent
# before the server listens would be lost.
started() {
	for _ in $(seq 1200); do grep -q 'listening on' "$out" && return; sleep 0.05; done
	echo "scrape.sh: the server did not start" >&2
	kill -TERM "$1"
	exit 1
}

one() {
	local scrape=$1 spid addr admin s0 s1 reqs scraper="" n=0
	taskset -c 0 "$bin" serve -addr 127.0.0.1:0 -proto echo -model loop -loops 1 -pin=false \
		-max-conns 20000 -idle-timeout 0 -admin 127.0.0.1:0 >"$out" 2>/dev/null &
	spid=$!
	started "$spid"
	addr=$(sed -n 's/.*listening on \([^ ]*\) .*/\1/p' "$out")
	admin=$(sed -n 's/.*, admin \([^ ]*\)$/\1/p' "$out")
	if [ -z "$addr" ] || [ -z "$admin" ]; then
		echo "scrape.sh: no addresses in the server's line:" >&2
		cat "$out" >&2
		kill -TERM "$spid"
		exit 1
	fi
	if [ "$scrape" = yes ]; then
		taskset -c 1 bash -c "while :; do curl -s -o /dev/null http://$admin/metrics; sleep $every; done" &
		scraper=$!
	fi
	s0=$(awk '{print $14+$15}' "/proc/$spid/stat")
	reqs=$(taskset -c 1 "$bin" load -addr "$addr" -proto echo -conns "$conns" -pipeline 1 \
		-size 64 -warmup 0 -duration 5s -json 2>"$out.load" | sed -n 's/.*"requests": *\([0-9]*\).*/\1/p') || true
	s1=$(awk '{print $14+$15}' "/proc/$spid/stat")
	if [ -n "$scraper" ]; then kill "$scraper"; wait "$scraper" 2>/dev/null || true; fi
	kill -TERM "$spid"
	wait "$spid" || true
	if [ -z "$reqs" ]; then
		echo "scrape.sh: the load failed:" >&2
		tail -3 "$out.load" >&2
		exit 1
	fi
	awk -v d=$((s1 - s0)) -v t="$tck" -v r="$reqs" 'BEGIN { printf "%.3f", d * 1e6 / t / r }'
	echo " $reqs" >>"$out.reqs"
}

# perScrape prints the server's CPU nanoseconds per scrape.
perScrape() {
	local spid admin c0 c1 urls=()
	taskset -c 0 "$bin" serve -addr 127.0.0.1:0 -proto echo -model loop -loops 1 -pin=false \
		-admin 127.0.0.1:0 >"$out" 2>/dev/null &
	spid=$!
	started "$spid"
	admin=$(sed -n 's/.*, admin \([^ ]*\)$/\1/p' "$out")
	for _ in $(seq 2000); do urls+=("http://$admin/metrics" -o /dev/null); done
	curl -s "http://$admin/metrics" -o /dev/null
	c0=$(cat /proc/"$spid"/task/*/schedstat | awk '{s += $1} END {print s}')
	taskset -c 1 curl -s "${urls[@]}"
	c1=$(cat /proc/"$spid"/task/*/schedstat | awk '{s += $1} END {print s}')
	kill -TERM "$spid"
	wait "$spid" || true
	echo $(((c1 - c0) / 2000))
}

main() {
printf 'conns %s, /metrics every %ss: server µs/request\n' "$conns" "$every"
for i in $(seq "$rep"); do
	a=$(one no)
	b=$(one yes)
	printf 'run %d  unscraped %s  scraped %s  change %s%%\n' "$i" "$a" "$b" \
		"$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%+.2f", (b - a) / a * 100 }')"
	echo "$a" >>"$out.us"
done
ns=$(perScrape)
# Requests per second and µs per request of the unscraped runs (every
# other line of .reqs), then the scrapes' share of the CPU per request.
awk -v ns="$ns" -v every="$every" '
	FNR == NR { us += $1; n++; next }
	FNR % 2 == 1 { reqs += $1; m++ }
	END {
		rps = reqs / m / 5; usr = us / n
		extra = ns / 1e3 / every / rps
		printf "server CPU per scrape %.1f µs; at %.0f requests/s and %.3f µs/request, one scrape every %ss adds %.4f µs/request: %.3f%%\n", ns / 1e3, rps, usr, every, extra, extra / usr * 100
	}' "$out.us" "$out.reqs"
rm -f "$out.us" "$out.reqs"
}

if [ -z "${REPORT:-}" ]; then
	main
	exit
fi
main | tee "$out.figures"
{
	echo "# Benchmarks: what scraping /metrics costs"
	echo
	echo "Written by \`REPORT=$REPORT bench/scrape.sh BIN $conns $rep $every\` on $(date -u +%Y-%m-%d)"
	echo "($(nproc) CPUs, $(uname -sr)). The server, \`pinion serve -proto echo -loops 1 -admin\`,"
	echo "runs on CPU 0; \`pinion load\` ($conns connections, 64-byte echo) and the scraper"
	echo "on CPU 1. Each run line is server CPU per request without and with a"
	echo "\`curl\` of \`/metrics\` every ${every}s, interleaved; the last line measures a"
	echo "scrape's server CPU directly (every thread's schedstat over 2,000 scrapes)"
	echo "and gives its share of the CPU per request at the unscraped request rate."
	echo "How to read the metrics: [observability.md](observability.md)."
	echo
	echo '```'
	cat "$out.figures"
	echo '```'
	echo
	echo "Goal: scraping every 100 ms changes server CPU per request by less than 1%."
	echo "On a shared machine the A/B lines vary by more than the effect; the direct"
	echo "measurement in the last line is the figure to judge."
} >"$REPORT"
rm -f "$out.figures"
