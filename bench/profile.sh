#!/usr/bin/env bash
# profile.sh profiles one server of the benchmark matrix under load: where
# its CPU goes (kernel against user space, the top user-space symbols) and
# how many system calls it makes per request. docs/benchmarks-analysis.md
# quotes what it prints.
#
# Usage: bench/profile.sh SERVER PROTO CONNS PIPELINE
#   SERVER    loop (epoll), uring (pinion's loop on io_uring), goroutine, gnet or c
#   PROTO     echo or http (and resp for loop and goroutine)
#
# The server runs on CPU 0 with one loop, `pinion load` on CPU 1, as in the
# pinned matrix. After the load's warm-up, `perf stat` counts the server's
# system calls (tracepoints) for 2 s, then `perf record` samples its
# stacks (cpu-clock, 4999 Hz: there may be no hardware counters) for 2 s.
# Needs perf (Debian: linux-perf) with access to tracepoints, taskset, cc.
# The perf data is left in $OUT (default /tmp/pinion-profile).
set -euo pipefail

if [[ $# -ne 4 ]]; then
	sed -n '2,16p' "$0" >&2
	exit 2
fi
server=$1 proto=$2 conns=$3 pipeline=$4
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
out=${OUT:-/tmp/pinion-profile}
mkdir -p "$out"
for tool in perf taskset cc go python3; do
	command -v "$tool" >/dev/null || { echo "profile.sh: $tool not found" >&2; exit 1; }
done

echo "building into $out" >&2
(cd "$root" && CGO_ENABLED=0 go build -o "$out/pinion" ./cmd/pinion)
(cd "$root/bench" && CGO_ENABLED=0 go build -o "$out/gnetserve" ./cmd/gnetserve)
cc -O2 -pthread -o "$out/cserve" "$root/bench/c/cserve.c"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
addr=127.0.0.1:$port
case $server in
loop | goroutine) argv=("$out/pinion" serve -addr "$addr" -proto "$proto" -model "$server" -loops 1 -pin=false -max-conns 20000 -idle-timeout 0 -io epoll) ;;
uring) argv=("$out/pinion" serve -addr "$addr" -proto "$proto" -model loop -loops 1 -pin=false -max-conns 20000 -idle-timeout 0 -io uring) ;;
gnet) argv=("$out/gnetserve" -addr "$addr" -proto "$proto" -loops 1 -max-conns 20000) ;;
c) argv=("$out/cserve" -addr "$addr" -proto "$proto" -threads 1 -max-conns 20000) ;;
*) echo "profile.sh: unknown server $server" >&2; exit 2 ;;
esac

spid= lpid=
cleanup() {
	# Only the processes started here, by PID.
	if [[ -n $lpid ]]; then kill "$lpid" 2>/dev/null || true; fi
	if [[ -n $spid ]]; then kill "$spid" 2>/dev/null || true; fi
}
trap cleanup EXIT

taskset -c 0 "${argv[@]}" >"$out/server.log" 2>&1 &
spid=$!
waitline "$out/server.log" 'listening on' 10 || { echo "profile.sh: the server did not start" >&2; exit 1; }

taskset -c 1 "$out/pinion" load -addr "$addr" -proto "$proto" -conns "$conns" -pipeline "$pipeline" \
	-warmup 1s -duration 5s -timeout 10s -json >"$out/load.json" 2>"$out/load.err" &
lpid=$!
waitline "$out/load.err" 'pinion load: measuring' 20 || { echo "profile.sh: the load did not start measuring" >&2; exit 1; }

perf stat -x, -p "$spid" -o "$out/stat.txt" \
	-e raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_sendto,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_futex,context-switches,task-clock \
	-- sleep 2
perf record -q -e cpu-clock -F 4999 -g -p "$spid" -o "$out/perf.data" -- sleep 2 2>/dev/null
wait "$lpid" || { echo "profile.sh: the load failed:" >&2; cat "$out/load.err" >&2; exit 1; }
lpid=

rps=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['requests_per_s'])" "$out/load.json")
echo "$server $proto, $conns conns, pipeline $pipeline: $rps req/s (client-measured)"
python3 - "$out/stat.txt" "$rps" <<'EOF'
import sys
path, rps = sys.argv[1], float(sys.argv[2])
reqs = 2 * rps  # perf stat counted 2 s of the window
counts = {}
for line in open(path):
    f = line.strip().split(',')
    if len(f) > 2 and f[0][:1].isdigit():
        counts[f[2]] = float(f[0])
name = lambda k: k.replace('raw_syscalls:sys_enter', 'all syscalls').replace('syscalls:sys_enter_', '')
print('per request: ' + ', '.join(f'{name(k)} {v / reqs:.3f}' for k, v in counts.items() if k != 'task-clock')
      + f'; server CPU {counts.get("task-clock", 0) * 1000 / reqs:.3f} µs')
EOF
# The filters read all of perf's output: a head that quits early would make
# perf or grep die of SIGPIPE, which pipefail and set -e turn into an exit.
echo "CPU by where it ran:"
perf report -i "$out/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | awk '/%/ && n++ < 5'
echo "top user-space symbols:"
perf report -i "$out/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | awk '/%/ && !/kernel/ && n++ < 15'
echo "top kernel symbols:"
perf report -i "$out/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | awk '/%/ && /\[k\]/ && n++ < 10'
