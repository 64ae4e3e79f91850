# lib.sh holds what the benchmark scripts share; they source it:
#   . "$(dirname "$0")/lib.sh"
# It defines functions only, and sets no shell options.

# waitline FILE PATTERN [SECONDS] waits until a line of FILE matches
# PATTERN (grep), polling every 10 ms, for SECONDS (default 10). If none
# did by then, it says so on stderr, with what FILE holds, and returns 1.
waitline() {
	local s=${3:-10}
	for _ in $(seq $((s * 100))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.01
	done
	echo "${0##*/}: no \"$2\" in $1 after ${s}s; it holds:" >&2
	cat "$1" >&2 2>/dev/null || true
	return 1
}

# servercpu PID prints the user and system CPU time of process PID so far,
# "utime stime" in clock ticks (getconf CLK_TCK a second): fields 14 and 15
# of /proc/PID/stat, every thread included (proc(5)).
servercpu() { awk '{print $14, $15}' "/proc/$1/stat"; }

# measurewindow PID LOADERR [SECONDS] reads the CPU time of server PID over
# the measured window of a `pinion load` whose stderr goes to LOADERR: when
# the load prints "pinion load: measuring" (after its warm-up) and again at
# "pinion load: measured". It prints "utime0 stime0 utime1 stime1" in clock
# ticks. It returns 1, printing nothing, if the measuring line does not come
# within SECONDS (default 30); if the measured line does not come within
# SECONDS after it, the second reading is taken then, and the load's exit
# status tells why.
measurewindow() {
	local s=${3:-30} c0
	waitline "$2" 'pinion load: measuring' "$s" || return 1
	c0=$(servercpu "$1")
	waitline "$2" 'pinion load: measured' "$s" || true
	echo "$c0 $(servercpu "$1")"
}
