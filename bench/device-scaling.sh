#!/usr/bin/env bash
# device-scaling.sh prepares and runs the scaling table (1, 2, 4, 8 loops,
# as the machine allows) of pinion on epoll, pinion on io_uring and gnet,
# with the C reference in the pinned cells, on a machine that has many
# CPUs but no Go toolchain and no C compiler (the device machine lent to
# some sessions).
#
#   bench/device-scaling.sh build     here: static binaries into .devbin/
#   bench/device-scaling.sh run OUT   there: the matrix into OUT/scaling.md
#
# `build` makes the matrix runner, pinion, gnetserve (CGO_ENABLED=0) and
# cserve (cc -static) and prints the device call that carries .devbin.
# `run` raises the open-file limit, then runs the matrix on the prebuilt
# binaries (-bin): the pinned cells at 1,000 connections for the two
# scaling workloads, then the scaling table, 3 runs each (about 6 minutes
# on 16 CPUs; ROUNDS, DURATION and SCALE, a list of loop counts, in the
# environment change that).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dev=$root/.devbin

case ${1:-} in
build)
	mkdir -p "$dev"
	(cd "$root" && CGO_ENABLED=0 go build -o "$dev/pinion" ./cmd/pinion)
	(cd "$root/bench" && CGO_ENABLED=0 go build -o "$dev/gnetserve" ./cmd/gnetserve &&
		CGO_ENABLED=0 go build -o "$dev/matrix" ./cmd/matrix)
	${CC:-cc} -O2 -Wall -Wextra -std=gnu11 -pthread -static -o "$dev/cserve" "$root/bench/c/cserve.c"
	for b in pinion gnetserve matrix cserve; do
		if ldd "$dev/$b" >/dev/null 2>&1; then
			echo "device-scaling.sh: $dev/$b is not static" >&2
			exit 1
		fi
	done
	echo "built into $dev; on the device machine (carry .devbin):" >&2
	echo "  bench/device-scaling.sh run \$OUT" >&2
	;;
run)
	out=${2:?usage: bench/device-scaling.sh run OUT}
	for b in pinion gnetserve matrix cserve; do
		[[ -x $dev/$b ]] || { echo "device-scaling.sh: no $dev/$b: run '$0 build' first and carry .devbin" >&2; exit 1; }
	done
	command -v taskset >/dev/null || { echo "device-scaling.sh: taskset not found" >&2; exit 1; }
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	mkdir -p "$out"
	"$dev/matrix" -root "$root" -bin "$dev" -out "$out/scaling.md" -plots "$out" \
		-servers loop,pinion-uring,gnet,c -workloads echo64-p16,http-p1 \
		-conns 1000 -wide-conns none -mem-conns none -scale-loops "${SCALE:-auto}" \
		-repeat "${ROUNDS:-3}" -duration "${DURATION:-1500ms}" 2>&1 | tee "$out/scaling.log"
	;;
*)
	sed -n '2,16p' "$0" >&2
	exit 2
	;;
esac
