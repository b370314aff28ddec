# bench/lib.sh: what bench/demo and bench/c1m-bench add to tests/lib/c1m.sh: kernel socket memory, the
# sampler behind a benchmark's tables and plots, a sysctl set for the run with a message, and the cleanup
# of everything started. Sourced; the caller sets `set -euo pipefail` and B_RESTORE (the file recording
# the sysctls to put back) before its first b_set_sysctl.

source "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/c1m.sh"

B_RESTORE=

# b_cleanup: ends every process started (c1m_start, or added to C1M_PIDS) and restores the sysctls.
b_cleanup() {
	c1m_stop_all 10
	c1m_sysctl_restore "$B_RESTORE" || echo "bench: $C1M_ERR" >&2
}

# b_set_sysctl KEY VALUE: set a sysctl for the run and restore the old value on exit; without root, say
# what the run wants and go on.
b_set_sysctl() {
	local key=$1 val=$2 old
	old=$(c1m_sysctl_get "$key") || return 0
	[ "$old" = "$val" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench: $key is '$old', the run wants '$val' (needs root: sysctl -w $key=$val)" >&2
		return 0
	fi
	c1m_sysctl_set "$B_RESTORE" "$key" "$val" || { echo "bench: $C1M_ERR" >&2; return 1; }
	echo "bench: set $key=$val for this run (was $old; restored afterwards)" >&2
}

b_meminfo_kb() { local k v _; while read -r k v _; do [ "$k" = "$1:" ] && { echo "$v"; return; }; done </proc/meminfo; }
b_slab_kb() { b_meminfo_kb Slab; }
b_sockstat_tcp() { local k a; while read -r k a; do [ "$k" = "TCP:" ] && { echo "$a"; return; }; done </proc/net/sockstat; }
b_tcp_inuse() { local f; read -r -a f <<<"$(b_sockstat_tcp)"; echo "${f[1]}"; }

# b_hwm_kb PID: the sum of each process's peak resident memory (VmHWM) over the tree, KiB. The peak is
# what an OOM kill sees, and it can come between two samples: at the close of every connection at once, say.
b_hwm_kb() {
	local total=0 p k v _
	for p in $(c1m_tree "$1"); do
		while read -r k v _; do
			[ "$k" = "VmHWM:" ] && { total=$(( total + v )); break; }
		done 2>/dev/null <"/proc/$p/status" || continue
	done
	echo "$total"
}

# b_slabinfo OUT: every slab cache's bytes in use now, active objects times object size, as "NAME BYTES"
# lines sorted by name (/proc/slabinfo is root's: without it OUT is left empty).
b_slabinfo() { { awk 'NR > 2 { print $1, $2 * $4 }' /proc/slabinfo 2>/dev/null || :; } | sort >"$1"; }

# b_slab_merged OUT: the caches the kernel merged into one (SLUB shares a cache between kinds of object
# with the same size and flags; /proc/slabinfo then lists all of them under one name, the first one's), one
# group a line, "NAME,NAME,...", from /sys/kernel/slab's links; groups of one are left out.
b_slab_merged() {
	local l
	for l in /sys/kernel/slab/*; do
		[ -L "$l" ] && printf '%s %s\n' "$(readlink "$l")" "${l##*/}"
	done | sort | awk '{ g[$1] = c[$1]++ ? g[$1] "," $2 : $2 } END { for (k in g) if (c[k] > 1) print g[k] }' \
		>"$1"
}

# b_sched PID: "WAIT_NS SLICES" over the tree: how long its tasks waited on a run queue for a CPU, and how
# many times they were put on one, from /proc/PID/schedstat (its second and third fields; a process gone
# or a kernel without the file adds nothing).
b_sched() {
	local w=0 s=0 p _r a b
	for p in $(c1m_tree "$1"); do
		read -r _r a b 2>/dev/null <"/proc/$p/schedstat" || continue
		w=$(( w + a )); s=$(( s + b ))
	done
	echo "$w $s"
}

# b_sampler PID OUT INTERVAL [SLABOUT]: background loop writing "t_s tcp_inuse slab_kb rss_kb cpu_ms wall_us
# rq_wait_ns slices" until PID exits (wall_us: the wall clock in microseconds, to place the samples against
# the client's phase times; the last two are b_sched's); with SLABOUT, b_slabinfo into it at every sample
# with more TCP sockets in use than any before (so it ends as the slab by cache at the first sample of the
# peak, the one kernel B/conn is read from).
b_sampler() {
	local pid=$1 out=$2 iv=${3:-0.5} slabout=${4:-} t0 now inuse max=-1
	t0=${EPOCHREALTIME//[!0-9]/}
	while kill -0 "$pid" 2>/dev/null; do
		now=${EPOCHREALTIME//[!0-9]/}
		inuse=$(b_tcp_inuse)
		printf '%d.%02d %s %s %s %s %s %s\n' $(( (now - t0) / 1000000 )) $(( (now - t0) % 1000000 / 10000 )) \
			"$inuse" "$(b_slab_kb)" "$(c1m_rss_kb "$pid")" "$(c1m_cpu_ms "$pid")" "$now" "$(b_sched "$pid")" >>"$out"
		if [ -n "$slabout" ] && [ "$inuse" -gt "$max" ]; then
			max=$inuse
			b_slabinfo "$slabout"
		fi
		sleep "$iv"
	done
}

# b_sample_child PARENT NAME OUT INTERVAL: b_sampler on the child NAME of PARENT once it runs (a pipeline's
# command has no $! to give), waiting up to 30 s for it to start.
b_sample_child() {
	local parent=$1 name=$2 out=$3 iv=$4 pid="" i
	for (( i = 0; i < 600; i++ )); do
		pid=$(pgrep -n -P "$parent" -x "$name" 2>/dev/null) && break
		sleep 0.05
	done
	[ -n "$pid" ] && b_sampler "$pid" "$out" "$iv"
}
