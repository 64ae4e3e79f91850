#!/usr/bin/env bash
# uring-ab.sh measures pinion's two I/O backends side by side with the
# gnet peer and the C epoll reference: requests per server CPU-second,
# the server's user and kernel CPU per request, for each workload, with
# the servers interleaved round by round (medians in the summary).
#
# Usage: bench/uring-ab.sh [ROUNDS] [WORKLOADS...]
#   ROUNDS     rounds of every server on every workload (default 3)
#   WORKLOADS  proto:conns:pipeline, default echo and http at 100 and
#              1,000 connections, pipeline 1 and 16 (echo requests 64 B)
#   SERVERS    (environment) default "epoll uring gnet c"; "alt" runs the
#              pinion binary $ALT with -io uring (A/B of a ring change)
#
# Each server runs with one loop on CPU 0 (taskset), `pinion load` on CPU 1.
# Server CPU is utime and stime of the server process from /proc over the
# load's measured window ("pinion load: measuring" to "measured"); the
# request count is the load's. Raw lines go to $OUT/raw.txt.
set -euo pipefail
rounds=${1:-3}
shift || true
workloads=("$@")
if [[ ${#workloads[@]} -eq 0 ]]; then
	workloads=(echo:100:1 echo:100:16 echo:1000:1 echo:1000:16 http:100:1 http:100:16 http:1000:1 http:1000:16)
fi
read -r -a servers <<<"${SERVERS:-epoll uring gnet c}"
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
out=${OUT:-/tmp/pinion-uring-ab}
mkdir -p "$out"
(cd "$root" && CGO_ENABLED=0 go build -o "$out/pinion" ./cmd/pinion)
(cd "$root/bench" && CGO_ENABLED=0 go build -o "$out/gnetserve" ./cmd/gnetserve)
cc -O2 -pthread -o "$out/cserve" "$root/bench/c/cserve.c"
hz=$(getconf CLK_TCK)

spid= lpid=
cleanup() {
	if [[ -n $lpid ]]; then kill "$lpid" 2>/dev/null || true; fi
	if [[ -n $spid ]]; then kill "$spid" 2>/dev/null || true; fi
}
trap cleanup EXIT

: >"$out/raw.txt"
for round in $(seq "$rounds"); do
	for wl in "${workloads[@]}"; do
		IFS=: read -r proto conns pipeline <<<"$wl"
		for s in "${servers[@]}"; do
			port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
			addr=127.0.0.1:$port
			case $s in
			epoll | uring) argv=("$out/pinion" serve -addr "$addr" -proto "$proto" -model loop -loops 1 -pin=false -max-conns 20000 -idle-timeout 0 -io "$s") ;;
			alt) argv=("$ALT" serve -addr "$addr" -proto "$proto" -model loop -loops 1 -pin=false -max-conns 20000 -idle-timeout 0 -io uring) ;;
			gnet) argv=("$out/gnetserve" -addr "$addr" -proto "$proto" -loops 1 -max-conns 20000) ;;
			c) argv=("$out/cserve" -addr "$addr" -proto "$proto" -threads 1 -max-conns 20000) ;;
			esac
			taskset -c 0 "${argv[@]}" >"$out/server.log" 2>&1 &
			spid=$!
			waitline "$out/server.log" 'listening on' 10 || true
			size=()
			[[ $proto == echo ]] && size=(-size 64)
			taskset -c 1 "$out/pinion" load -addr "$addr" -proto "$proto" -conns "$conns" -pipeline "$pipeline" "${size[@]}" \
				-warmup 1s -duration 3s -timeout 10s -json >"$out/load.json" 2>"$out/load.err" &
			lpid=$!
			w=$(measurewindow "$spid" "$out/load.err" 10) || w=
			wait "$lpid" || true
			lpid=
			kill "$spid" 2>/dev/null || true
			wait "$spid" 2>/dev/null || true
			spid=
			if [[ -z $w ]]; then
				echo "$wl $s round $round FAILED" >>"$out/raw.txt"
				tail -1 "$out/raw.txt" >&2
				continue
			fi
			read -r u0 k0 u1 k1 <<<"$w"
			python3 - "$out/load.json" "$s" "$wl" "$round" "$u0" "$k0" "$u1" "$k1" "$hz" >>"$out/raw.txt" <<'PY'
import json, sys
path, s, wl, rnd = sys.argv[1:5]
u0, k0, u1, k1, hz = map(float, sys.argv[5:10])
try:
    j = json.load(open(path))
    rps, dur = j['requests_per_s'], 3.0
except Exception:
    print(f"{wl} {s} round {rnd} FAILED"); sys.exit(0)
reqs = rps * dur
user, kern = (u1 - u0) / hz, (k1 - k0) / hz
cpu = user + kern
print(f"{wl} {s} round {rnd} rps {rps:.0f} cpu_s {cpu:.2f} user_us {user*1e6/reqs:.3f} kern_us {kern*1e6/reqs:.3f} req_per_cpu_s {reqs/cpu if cpu else 0:.0f}")
PY
			tail -1 "$out/raw.txt" >&2
		done
	done
done
python3 - "$out/raw.txt" <<'PY'
import sys, statistics as st, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    if 'FAILED' in f: continue
    d = dict(zip(f[4::2], f[5::2]))
    rows[(f[0], f[1])].append(d)
wls = sorted({k[0] for k in rows}, key=lambda w: (w.split(':')[0], int(w.split(':')[1]), int(w.split(':')[2])))
print("workload(proto:conns:pipeline) server: median req/server-CPU-s, user µs/req, kernel µs/req (runs)")
for w in wls:
    med = {}
    for (ww, s), ds in rows.items():
        if ww != w: continue
        m = lambda k: st.median(float(d[k]) for d in ds)
        med[s] = m('req_per_cpu_s')
        print(f"{w:14} {s:6} {m('req_per_cpu_s'):>10.0f}  user {m('user_us'):.3f}  kernel {m('kern_us'):.3f}  ({len(ds)})")
    if 'uring' in med:
        rel = ', '.join(f"uring/{s} {med['uring']/med[s]:.2f}" for s in ('epoll', 'c', 'gnet') if med.get(s))
        print(f"{w:14} ratios: {rel}")
PY
