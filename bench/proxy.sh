#!/usr/bin/env bash
# proxy.sh measures the CPU a TCP proxy spends per request: pinion serve
# -proto proxy on -model loop and on -model goroutine, and HAProxy (the
# distribution's, `mode tcp`, `nbthread 1`), relaying pinion load's 64-byte
# echo requests to pinion's echo server. It writes docs/benchmarks-proxy.md.
#
# The proxy runs on CPU 0 (one loop; GOMAXPROCS follows the affinity for
# the goroutine model; one thread for HAProxy); the load generator and the
# echo backend share CPU 1. The figure is requests per proxy CPU-second:
# the requests pinion load completed in its measured window, over the
# proxy's utime+stime (/proc/PID/stat) across that same window (sampled
# when load prints "measuring" and "measured", so connects and warm-up are
# left out). Each cell is run REPEAT times, the proxies interleaved, and
# reported as the median with its range.
#
# Usage: bench/proxy.sh [-r REPEAT] [-d SECONDS] [-o REPORT]
# (or REPEAT, DURATION, REPORT in the environment). Needs taskset, go and
# haproxy (apt-get install -y haproxy).
set -euo pipefail

repeat=${REPEAT:-3} dur=${DURATION:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
report=${REPORT:-$root/docs/benchmarks-proxy.md}
while getopts r:d:o: opt; do
	case $opt in
	r) repeat=$OPTARG ;;
	d) dur=$OPTARG ;;
	o) report=$OPTARG ;;
	*) exit 2 ;;
	esac
done
for tool in taskset go haproxy; do
	command -v "$tool" >/dev/null || { echo "proxy.sh: $tool not found" >&2; exit 1; }
done
tck=$(getconf CLK_TCK)
tmp=$(mktemp -d)
bpid= ppid=
cleanup() {
	for p in $ppid $bpid; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "building pinion into $tmp" >&2
(cd "$root" && CGO_ENABLED=0 go build -o "$tmp/pinion" ./cmd/pinion)
pinion=$tmp/pinion

# freeport prints a loopback port nobody listens on.
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The echo backend, on CPU 1 with the load, for the whole run.
taskset -c 1 "$pinion" serve -addr 127.0.0.1:0 -proto echo -model loop -loops 1 -pin=false \
	-max-conns -1 -idle-timeout 0 >"$tmp/backend.log" 2>&1 &
bpid=$!
waitline "$tmp/backend.log" 'listening on'
backend=$(sed -n 's/.*listening on \([^ ]*\) .*/\1/p' "$tmp/backend.log")

# start NAME starts proxy NAME on CPU 0; sets ppid and paddr.
start() {
	local log=$tmp/proxy.log
	: >"$log"
	case $1 in
	loop | goroutine)
		taskset -c 0 "$pinion" serve -addr 127.0.0.1:0 -proto proxy -model "$1" -loops 1 -pin=false \
			-upstream "$backend" -max-conns -1 -idle-timeout 0 >"$log" 2>&1 &
		ppid=$!
		waitline "$log" 'listening on'
		paddr=$(sed -n 's/.*listening on \([^ ]*\) .*/\1/p' "$log")
		;;
	haproxy)
		paddr=127.0.0.1:$(freeport)
		cat >"$tmp/haproxy.cfg" <<-EOF
			global
			    nbthread 1
			    maxconn 4000
			defaults
			    mode tcp
			    timeout connect 5s
			    timeout client 60s
			    timeout server 60s
			frontend f
			    bind $paddr
			    default_backend b
			backend b
			    server echo $backend
		EOF
		taskset -c 0 haproxy -f "$tmp/haproxy.cfg" -db >"$log" 2>&1 &
		ppid=$!
		for _ in $(seq 1000); do
			(exec 3<>"/dev/tcp/${paddr%:*}/${paddr#*:}") 2>/dev/null && break
			sleep 0.01
		done
		;;
	esac
}

# stop PID ends a proxy: SIGTERM (a non-interactive shell starts its
# background jobs with SIGINT ignored, and HAProxy keeps it so), then
# SIGKILL if it is still there after 10 s.
stop() {
	kill -TERM "$1" 2>/dev/null || true
	for _ in $(seq 500); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.02
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# one NAME CONNS PIPELINE prints requests per proxy CPU-second, or "err".
one() {
	local name=$1 conns=$2 pipe=$3 lerr=$tmp/load.err lout=$tmp/load.out lpid w u0 k0 u1 k1 reqs
	start "$name"
	: >"$lerr"
	taskset -c 1 "$pinion" load -addr "$paddr" -proto echo -size 64 -conns "$conns" -pipeline "$pipe" \
		-warmup 1s -duration "${dur}s" -json >"$lout" 2>"$lerr" &
	lpid=$!
	w=$(measurewindow "$ppid" "$lerr" $((dur + 10))) || w=
	read -r u0 k0 u1 k1 <<<"$w"
	if ! wait "$lpid" || [[ -z $w ]]; then
		echo "proxy.sh: load through $name failed:" >&2
		cat "$lerr" >&2
		echo err
	else
		reqs=$(sed -n 's/.*"requests": *\([0-9]*\).*/\1/p' "$lout")
		awk -v r="$reqs" -v d=$((u1 + k1 - u0 - k0)) -v t="$tck" 'BEGIN { if (d == 0) d = 1; printf "%.0f %d %.2f\n", r * t / d, r, d / t }'
	fi
	stop "$ppid"
	ppid=
}

# median and range of a list of numbers.
stats() { tr ' ' '\n' | awk NF | sort -n | awk '{ v[NR] = $1 } END { printf "%d (%d–%d)", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

proxies=(loop haproxy goroutine)
cells=("100 1" "100 16" "1000 1" "1000 16")
declare -A res rate
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for rep in $(seq "$repeat"); do
	for cell in "${cells[@]}"; do
		read -r conns pipe <<<"$cell"
		for p in "${proxies[@]}"; do
			r=$(one "$p" "$conns" "$pipe")
			if [[ $r == err ]]; then
				echo "proxy.sh: stopping: a run through $p failed" >&2
				exit 1
			fi
			echo "run $rep: $p, $conns conns, pipeline $pipe: $r (req/CPU-s, requests, CPU s)" >&2
			res[$p,$cell]+="${r%% *} "
			read -r _ n _ <<<"$r"
			rate[$p,$cell]+="$((n / dur)) "
		done
	done
done

{
	echo "# Proxy benchmark"
	echo
	echo "Requests per proxy CPU-second (higher is better), pinion load's 64-byte echo"
	echo "through each proxy to pinion's echo server; median of $repeat interleaved runs"
	echo "of ${dur} s each, range in brackets. Generated by \`bench/proxy.sh -r $repeat -d $dur\`"
	echo "on $(date -u +%Y-%m-%d), $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)),"
	echo "$(haproxy -v | head -1 | cut -d' ' -f1-3), $(go version | cut -d' ' -f3)."
	echo
	echo "| connections | pipeline | pinion loop | HAProxy (nbthread 1) | pinion goroutine | loop / HAProxy |"
	echo "|---:|---:|---:|---:|---:|---:|"
	for cell in "${cells[@]}"; do
		read -r conns pipe <<<"$cell"
		l=$(stats <<<"${res[loop,$cell]}") h=$(stats <<<"${res[haproxy,$cell]}") g=$(stats <<<"${res[goroutine,$cell]}")
		ratio=$(awk -v a="${l%% *}" -v b="${h%% *}" 'BEGIN { printf "%.2f", a / b }')
		echo "| $conns | $pipe | $l | $h | $g | $ratio |"
	done
	echo
	echo "Requests per second completed (the same runs; medians). Where the proxy is"
	echo "far from one CPU-second per second, the load generator and the backend on"
	echo "CPU 1 set the pace, and the figure above is the proxy's cost per request at"
	echo "that pace, with less batching per system call than under saturation."
	echo
	echo "| connections | pipeline | pinion loop | HAProxy | pinion goroutine |"
	echo "|---:|---:|---:|---:|---:|"
	for cell in "${cells[@]}"; do
		read -r conns pipe <<<"$cell"
		l=$(stats <<<"${rate[loop,$cell]}") h=$(stats <<<"${rate[haproxy,$cell]}") g=$(stats <<<"${rate[goroutine,$cell]}")
		echo "| $conns | $pipe | ${l%% *} | ${h%% *} | ${g%% *} |"
	done
	echo
	echo "Load average (1, 5, 15 min) at the start: $load0; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "Setup: the proxy on CPU 0 (\`taskset -c 0\`; pinion with \`-loops 1 -pin=false\`,"
	echo "HAProxy \`mode tcp\`, \`nbthread 1\`); \`pinion load\` and the echo backend"
	echo "(\`pinion serve -proto echo -loops 1\`) on CPU 1. CPU is the proxy's utime+stime"
	echo "from /proc/PID/stat over load's measured window (after a 1 s warm-up)."
} >"$report.tmp"
mv "$report.tmp" "$report"
echo "wrote $report" >&2
