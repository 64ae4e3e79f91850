#!/usr/bin/env bash
# protocols.sh measures the server CPU time per request of pinion -model
# loop against pinion -model goroutine and a peer (net/http for HTTP, the
# distribution's redis-server for RESP), and writes
# docs/benchmarks-protocols.md.
#
# Every server runs on CPU 0, every client on CPU 1. Each cell (server x
# workload) is run REPEAT times, servers interleaved, and reported as the
# median with its range. Server CPU is the server's utime+stime from
# /proc/PID/stat across the client run (connects included); requests come
# from the client's own count.
#
# Usage: bench/protocols.sh [-r REPEAT] [-d WRK_SECONDS] [-n RESP_REQUESTS] [-o REPORT]
# The same settings as environment variables: REPEAT, DURATION, RESP_N, REPORT.
# WIDE=0 skips HTTP pipeline 1 at 1,000 connections.
set -euo pipefail

repeat=${REPEAT:-3} dur=${DURATION:-5} respn=${RESP_N:-2000000} wide=${WIDE:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
report=${REPORT:-$root/docs/benchmarks-protocols.md}
while getopts r:d:n:o: opt; do
	case $opt in
	r) repeat=$OPTARG ;;
	d) dur=$OPTARG ;;
	n) respn=$OPTARG ;;
	o) report=$OPTARG ;;
	*) exit 2 ;;
	esac
done
tck=$(getconf CLK_TCK)
tmp=$(mktemp -d)
spid=
cleanup() {
	if [[ -n $spid ]]; then kill "$spid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

for tool in wrk redis-benchmark redis-server taskset go; do
	command -v "$tool" >/dev/null || { echo "protocols.sh: $tool not found (apt-get install -y wrk redis-tools redis-server)" >&2; exit 1; }
done

echo "building pinion and nethttp into $tmp" >&2
(cd "$root" && CGO_ENABLED=0 go build -o "$tmp/pinion" ./cmd/pinion)
(cd "$root/bench" && CGO_ENABLED=0 go build -o "$tmp/nethttp" ./cmd/nethttp)

# wrk sends the 16 requests of one write as one buffer and counts each
# response; it derives the pipeline depth from the requests in the buffer.
cat >"$tmp/pipeline16.lua" <<'EOF'
init = function(args)
  local r = {}
  for i = 1, 16 do r[i] = wrk.format("GET", "/plaintext") end
  req = table.concat(r)
end
request = function() return req end
EOF

# start NAME starts server NAME on CPU 0, sets spid and addr (HOST:PORT).
start() {
	local name=$1 log=$tmp/server.log i
	: >"$log"
	case $name in
	loop | goroutine)
		local proto=http
		[[ $2 == resp ]] && proto=resp
		taskset -c 0 "$tmp/pinion" serve -addr 127.0.0.1:0 -proto "$proto" -model "$name" -loops 1 \
			-pin=false -idle-timeout 0 -max-conns 20000 >"$log" 2>&1 &
		spid=$! ;;
	nethttp)
		taskset -c 0 "$tmp/nethttp" -addr 127.0.0.1:0 >"$log" 2>&1 &
		spid=$! ;;
	redis)
		local port=$((20000 + RANDOM % 20000))
		taskset -c 0 redis-server --port "$port" --save '' --appendonly no --bind 127.0.0.1 \
			--daemonize no --maxclients 19000 >"$log" 2>&1 &
		spid=$!
		for i in $(seq 200); do grep -q 'Ready to accept' "$log" && break; sleep 0.05; done
		grep -q 'Ready to accept' "$log" || { echo "redis-server did not start:" >&2; cat "$log" >&2; exit 1; }
		addr=127.0.0.1:$port
		return ;;
	esac
	for i in $(seq 200); do grep -q 'listening on' "$log" && break; sleep 0.05; done
	addr=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$log")
	[[ -n $addr ]] || { echo "$name did not start:" >&2; cat "$log" >&2; exit 1; }
}

# stop ends the server. Not SIGINT: a non-interactive shell starts
# background jobs with SIGINT ignored, and net/http leaves it so.
stop() {
	kill -TERM "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	spid=
}

# cpu prints the server's utime and stime, in ticks.
cpu() { awk '{print $14, $15}' "/proc/$spid/stat"; }

# client runs its arguments on CPU 1 in a subshell that prints, last, the
# CPU ticks its children used ("CLIENTCPU n"; fields 16 and 17 of stat).
client() {
	(
		taskset -c 1 "$@" 2>&1 || true
		read -ra st <"/proc/$BASHPID/stat"
		echo "CLIENTCPU $((st[15] + st[16]))"
	)
}

results=$tmp/results.tsv
: >"$results"

# record SERVER WORKLOAD REP U0 S0 U1 S1 REQUESTS RPS CLIENTTICKS ERRORS
record() {
	awk -v srv="$1" -v wl="$2" -v rep="$3" -v u="$(($6 - $4))" -v s="$(($7 - $5))" -v n="$8" \
		-v rps="$9" -v c="${10}" -v e="${11}" -v t="$tck" 'BEGIN {
		if (n <= 0) n = 1
		printf "%s\t%s\t%s\t%.4f\t%.0f\t%.4f\t%.3f\t%s\n", srv, wl, rep,
			(u + s) * 1e6 / t / n, rps, c * 1e6 / t / n, ((u + s) > 0 ? s / (u + s) : 0), e
	}' | tee -a "$results" >&2
}

# http REP WORKLOAD SERVER: one wrk run.
http() {
	local rep=$1 wl=$2 srv=$3 conns=50 script=() out a b reqs rps cl errs
	case $wl in
	http-p1-c50) ;;
	http-p16-c50) script=(-s "$tmp/pipeline16.lua") ;;
	http-p1-c1000) conns=1000 ;;
	esac
	start "$srv" http
	a=$(cpu)
	out=$(client wrk -t1 -c"$conns" -d"${dur}s" "${script[@]}" "http://$addr/plaintext")
	b=$(cpu)
	stop
	reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	cl=$(awk '/^CLIENTCPU/ {print $2}' <<<"$out")
	errs=$(awk '/Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} /Non-2xx/ {n += $NF} END {print n + 0}' <<<"$out")
	[[ -n $reqs ]] || { echo "wrk failed against $srv:" >&2; echo "$out" >&2; exit 1; }
	# shellcheck disable=SC2086
	record "$srv" "$wl" "$rep" $a $b "$reqs" "$rps" "$cl" "$errs"
}

# resp REP WORKLOAD SERVER: one redis-benchmark run of one command.
resp() {
	local rep=$1 wl=$2 srv=$3 out a b rps cl cmd conns
	cmd=${wl#resp-} cmd=${cmd%%-*}
	conns=${wl##*-c}
	start "$srv" resp
	a=$(cpu)
	out=$(client redis-benchmark -h 127.0.0.1 -p "${addr##*:}" -t "$cmd" -P 16 -c "$conns" -n "$respn" -q)
	b=$(cpu)
	stop
	out=$(tr '\r' '\n' <<<"$out")
	rps=$(awk -v c="${cmd^^}" '$1 == c":" && /requests per second/ {v = $2} END {print v}' <<<"$out")
	cl=$(awk '/^CLIENTCPU/ {print $2}' <<<"$out")
	[[ -n $rps ]] || { echo "redis-benchmark failed against $srv:" >&2; echo "$out" >&2; exit 1; }
	# shellcheck disable=SC2086
	record "$srv" "$wl" "$rep" $a $b "$respn" "$rps" "$cl" 0
}

httpwl=(http-p1-c50 http-p16-c50)
[[ $wide == 1 ]] && httpwl+=(http-p1-c1000)
respwl=(resp-get-c50 resp-set-c50 resp-get-c1000 resp-set-c1000)
echo -e "server\tworkload\trep\tus_per_req\treq_per_s\tclient_us_per_req\tsys_share\terrors" >&2
for rep in $(seq "$repeat"); do
	for wl in "${httpwl[@]}"; do
		for srv in loop goroutine nethttp; do http "$rep" "$wl" "$srv"; done
	done
	for wl in "${respwl[@]}"; do
		for srv in loop goroutine redis; do resp "$rep" "$wl" "$srv"; done
	done
done

# summary prints one table row per server and workload:
# workload server median(us) min max median(rps) min max client(us) sys errors
summary() {
	awk -F'\t' '
	# sorted splits list into a, sorted ascending (insertion sort: mawk has no asort).
	function sorted(list, a,   n, i, j, v) {
		n = split(list, a, " ")
		for (i = 2; i <= n; i++) {
			v = a[i] + 0
			for (j = i - 1; j >= 1 && a[j] + 0 > v; j--) a[j + 1] = a[j]
			a[j + 1] = v
		}
		return n
	}
	function med(list,   a, n) {
		n = sorted(list, a)
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function lo(list,   a) { sorted(list, a); return a[1] }
	function hi(list,   a, n) { n = sorted(list, a); return a[n] }
	{
		k = $2 SUBSEP $1
		if (!(k in us)) order[++m] = k
		us[k] = us[k] " " $4; rps[k] = rps[k] " " $5; cl[k] = cl[k] " " $6; sy[k] = sy[k] " " $7; er[k] += $8
	}
	END {
		for (i = 1; i <= m; i++) {
			k = order[i]; split(k, p, SUBSEP)
			printf "%s %s %.3f %.3f %.3f %.0f %.0f %.0f %.3f %.2f %d\n", p[1], p[2],
				med(us[k]), lo(us[k]), hi(us[k]), med(rps[k]), lo(rps[k]), hi(rps[k]), med(cl[k]), med(sy[k]), er[k]
		}
	}' "$results"
}
summary >"$tmp/summary"

# table PREFIX writes the markdown table of the workloads named PREFIX*.
table() {
	awk -v pre="$1" '
	index($1, pre) == 1 {
		n++; wl[n] = $1; sv[n] = $2; line[n] = $0
		if ($2 == "loop") loopus[$1] = $3
	}
	END {
		print "| workload | server | server µs/request, median (range) | of which user / kernel µs | requests/s, median (range) | client µs/request | loop ÷ this |"
		print "|---|---|---:|---:|---:|---:|---:|"
		for (i = 1; i <= n; i++) {
			split(line[i], f, " ")
			printf "| %s | %s | %.3f (%.3f–%.3f) | %.3f / %.3f | %d (%d–%d) | %.3f | %s |\n", f[1], f[2], f[3], f[4], f[5],
				f[3] * (1 - f[10]), f[3] * f[10], f[6], f[7], f[8], f[9], f[2] == "loop" ? "—" : sprintf("%.2f", loopus[f[1]] / f[3])
		}
	}' "$tmp/summary"
}

# verdicts writes, per workload, whether loop is below every other server.
verdicts() {
	awk '
	{ n[$1]++; if (!( $1 in seen)) { seen[$1] = 1; ord[++m] = $1 } us[$1, $2] = $3; lo[$1, $2] = $4; hi[$1, $2] = $5; sy[$1, $2] = $10; srv[$1, n[$1]] = $2 }
	END {
		for (i = 1; i <= m; i++) {
			w = ord[i]; met = 1; why = ""; ovl = ""
			for (j = 1; j <= n[w]; j++) {
				s = srv[w, j]
				if (s == "loop") continue
				if (us[w, "loop"] >= us[w, s]) {
					met = 0
					why = why sprintf(" %s %.3f µs (user %.3f, kernel %.3f) against loop %.3f µs (user %.3f, kernel %.3f), loop %.0f%% more;", s, us[w, s], us[w, s] * (1 - sy[w, s]), us[w, s] * sy[w, s], us[w, "loop"], us[w, "loop"] * (1 - sy[w, "loop"]), us[w, "loop"] * sy[w, "loop"], (us[w, "loop"] / us[w, s] - 1) * 100)
				} else if (hi[w, "loop"] >= lo[w, s]) {
					ovl = ovl sprintf(" the ranges of loop and %s overlap;", s)
				}
			}
			if (met)
				printf "- **%s: met.** loop %.3f µs/request, below every other server.%s\n", w, us[w, "loop"], ovl == "" ? "" : " Caveat:" ovl
			else
				printf "- **%s: not met.**%s\n", w, why
		}
	}' "$tmp/summary"
}

commit=$(cd "$root" && git rev-parse --short HEAD)
dirty=$(cd "$root" && git status --porcelain --untracked-files=no | grep -q . && echo ", with uncommitted changes" || true)
{
	cat <<EOF
# Benchmarks: HTTP and RESP against their peers

Server CPU time per request of pinion \`-model loop\` against pinion
\`-model goroutine\`, Go's \`net/http\` (HTTP) and Debian's \`redis-server\`
(RESP). The goal is loop's CPU per request below every one of them.

## Machine

| | |
|---|---|
| CPU | $(lscpu | sed -n 's/^Model name: *//p' | head -1) |
| cores | $(nproc) |
| kernel | $(uname -r) |
| Go | $(go version | awk '{print $3}') |
| redis-server | $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p') |
| wrk | $(wrk -v 2>&1 | head -1 | awk '{print $2}') |
| pinion commit | ${commit}${dirty} |
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |

## How to read it

This box has two cores. Every server runs on CPU 0 (\`taskset -c 0\`), every
client on CPU 1, so throughput is mostly set by the client and by the
kernel's loopback path: requests/s is shown, but the figure that carries is
**server CPU per request**: the server's utime+stime from \`/proc/PID/stat\`
across the client run, connects included, divided by the requests the
client completed. It is split into user time (utime: the server's own
code, what a design changes) and kernel time (stime: TCP over loopback,
epoll and the syscalls, which a user-space design can only make fewer).
"loop ÷ this" below 1 means loop spends less CPU per request than that
server. Each cell is the median of ${repeat} runs,
servers interleaved; the range is the lowest and highest run. The host is
noisy (other jobs share it), so differences inside the ranges are not
findings.

Servers:

- loop: \`pinion serve -proto http|resp -model loop -loops 1 -pin=false -idle-timeout 0 -max-conns 20000\`
- goroutine: the same with \`-model goroutine\` (GOMAXPROCS follows the affinity mask: 1)
- nethttp: \`bench/cmd/nethttp\`, a plain \`net/http\` server for \`GET /plaintext\` (GOMAXPROCS 1)
- redis: \`redis-server --port P --save '' --appendonly no --bind 127.0.0.1 --daemonize no\`

Clients:

- HTTP: \`wrk -t1 -c50 -d${dur}s http://ADDR/plaintext\` (p1); p16 adds a
  Lua script that writes 16 requests at once; c1000 uses \`-c1000\`.
- RESP: \`redis-benchmark -h 127.0.0.1 -p P -t get -P 16 -c 50 -n ${respn} -q\`,
  and the same with \`-t set\` and with \`-c 1000\`; GET and SET are separate
  runs so the server CPU is per command.

Run it with:

    bench/protocols.sh            # -r REPEAT -d WRK_SECONDS -n RESP_REQUESTS

## HTTP plaintext

$(table http)

## RESP, redis-benchmark -P 16

$(table resp)

## Is loop below every other server?

$(verdicts)

A point is met when loop's median is below every other server's; where
ranges overlap, the order is not settled by this run. To read a miss,
compare the user / kernel split: on loopback the kernel's TCP path is
most of every server's CPU, and it costs the same per byte whichever
server reads the bytes, so once the user part is small (pipelining
batches many requests into one read and one write) the servers differ by
less than the noise.
EOF
	cat <<EOF

## Raw runs

\`\`\`
server	workload	rep	us_per_req	req_per_s	client_us_per_req	sys_share	errors
$(cat "$results")
\`\`\`
EOF
} >"$report"
echo "wrote $report" >&2
