#!/usr/bin/env bash
# vsc.sh compares pinion builds with the C reference on one cell: server CPU
# per request over the load generator's measured window, servers
# interleaved and the first one rotating from run to run.
#
# Usage: bench/vsc.sh CSERVE PINION [PINION...]
#   env: PROTO (http), CONNS (100), PIPE (16), REP (5), DUR (5s), WARM (1s)
#
# Each server runs on CPU 0 with one loop (cserve -threads 1), the load
# generator (the first PINION's) on CPU 1. CPU is the server's utime+stime
# from /proc/PID/stat, read when the load prints "pinion load: measuring"
# and again at "pinion load: measured", divided by the requests the load
# completed in that window. Each line gives every server's µs/request and
# each pinion's ratio to C in requests per server CPU-second (C µs / pinion
# µs); the last line the medians of those ratios, paired by run.
set -euo pipefail
if [[ $# -lt 2 ]]; then
	sed -n '2,15p' "$0" >&2
	exit 2
fi
cserve=$1
shift
pinions=("$@")
proto=${PROTO:-http} conns=${CONNS:-100} pipe=${PIPE:-16} rep=${REP:-5}
dur=${DUR:-5s} warm=${WARM:-1s}
tck=$(getconf CLK_TCK)
tmp=$(mktemp -d)
spid= lpid=
cleanup() {
	# Only the processes started here, by PID.
	if [[ -n $lpid ]]; then kill "$lpid" 2>/dev/null || true; fi
	if [[ -n $spid ]]; then kill "$spid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"

# one SERVER-INDEX prints the server's µs/request for one run.
one() {
	local i=$1 w u0 k0 u1 k1 s0 s1 reqs
	# Gone before the processes start, so that no wait below reads a
	# marker of the run before.
	rm -f "$tmp/srv" "$tmp/load.json" "$tmp/load.err"
	if [[ $i -eq 0 ]]; then
		taskset -c 0 "$cserve" -addr 127.0.0.1:0 -proto "$proto" -threads 1 -max-conns 20000 >"$tmp/srv" 2>&1 &
	else
		taskset -c 0 "${pinions[i - 1]}" serve -addr 127.0.0.1:0 -proto "$proto" -model loop -loops 1 \
			-pin=false -max-conns 20000 -idle-timeout 0 >"$tmp/srv" 2>&1 &
	fi
	spid=$!
	waitline "$tmp/srv" 'listening on' 5 || { echo "vsc.sh: server $i did not start" >&2; exit 1; }
	local addr
	addr=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$tmp/srv" | head -1)
	taskset -c 1 "${pinions[0]}" load -addr "$addr" -proto "$proto" -conns "$conns" -pipeline "$pipe" \
		-warmup "$warm" -duration "$dur" -timeout 10s -json >"$tmp/load.json" 2>"$tmp/load.err" &
	lpid=$!
	w=$(measurewindow "$spid" "$tmp/load.err" 60) || { echo "vsc.sh: load did not start" >&2; exit 1; }
	read -r u0 k0 u1 k1 <<<"$w"
	s0=$((u0 + k0)) s1=$((u1 + k1))
	wait "$lpid" || { echo "vsc.sh: load failed on server $i" >&2; cat "$tmp/load.err" "$tmp/load.json" >&2; exit 1; }
	lpid=
	kill -INT "$spid"
	wait "$spid" || true
	spid=
	reqs=$(sed -n 's/.*"requests": *\([0-9]*\).*/\1/p' "$tmp/load.json")
	if [[ -z $reqs || $reqs -eq 0 || $s1 -eq $s0 ]]; then
		echo "vsc.sh: server $i: no requests or no CPU measured" >&2
		exit 1
	fi
	awk -v d=$((u1 - u0)) -v t="$tck" -v r="$reqs" -v i="$i" 'BEGIN { printf "%d %.4f\n", i, d * 1e6 / t / r }' >>"$tmp/user"
	awk -v d=$((s1 - s0)) -v t="$tck" -v r="$reqs" 'BEGIN { printf "%.4f", d * 1e6 / t / r }'
}

n=$((${#pinions[@]} + 1))
printf '%s conns %s pipeline %s, %s runs of %s; load average %s\n' "$proto" "$conns" "$pipe" "$rep" "$dur" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'server µs/request: C'
for p in "${pinions[@]}"; do printf ' | %s' "$(basename "$p")"; done
printf '; then each pinion vs C\n'
for r in $(seq "$rep"); do
	declare -A us=()
	for k in $(seq 0 $((n - 1))); do
		i=$(((k + r) % n))
		us[$i]=$(one "$i")
	done
	line="run $r  ${us[0]}"
	for i in $(seq 1 $((n - 1))); do line+="  ${us[$i]}"; done
	line+="  |"
	for i in $(seq 1 $((n - 1))); do
		line+=" $(awk -v c="${us[0]}" -v p="${us[$i]}" 'BEGIN { printf "%.3f", c / p }')"
	done
	echo "$line"
	unset us
done | tee "$tmp/runs"
awk -v n="$n" '
	{ for (i = 1; i < n; i++) v[i, NR] = $(3 + n + i) }
	END {
		printf "median vs C:"
		for (i = 1; i < n; i++) {
			m = 0
			for (r = 1; r <= NR; r++) a[r] = v[i, r]
			# insertion sort
			for (r = 2; r <= NR; r++) { x = a[r]; j = r - 1; while (j >= 1 && a[j] > x) { a[j + 1] = a[j]; j-- } a[j + 1] = x }
			m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			printf " %.3f (%.3f-%.3f)", m, a[1], a[NR]
		}
		printf "\n"
	}' "$tmp/runs"
# The user-space share: each server's median user µs/request.
sort -k1,1n -k2,2g "$tmp/user" | awk '
	{ v[$1, ++k[$1]] = $2 }
	END {
		printf "median user µs/request:"
		for (i = 0; i in k; i++) {
			n = k[i]
			m = n % 2 ? v[i, (n + 1) / 2] : (v[i, n / 2] + v[i, n / 2 + 1]) / 2
			printf " %s %.4f", i == 0 ? "C" : "pinion" i, m
		}
		printf "\n"
	}'
