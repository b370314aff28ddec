# Shared by bench/demo and bench/c1m-bench: process-tree sampling (RSS, CPU), kernel socket memory,
# and cleanup of everything started. Sourced; the caller sets `set -euo pipefail`.

B_PIDS=()
B_RESTORE=()    # "key value" sysctls to restore on exit
B_PAGE_KB=$(( $(getconf PAGESIZE) / 1024 ))
B_HZ=$(getconf CLK_TCK)

b_cleanup() {
	local pid kv
	for pid in "${B_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${B_PIDS[@]}"; do
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		pkill -KILL -P "$pid" 2>/dev/null || true
	done
	for kv in "${B_RESTORE[@]}"; do
		sysctl -q -w "${kv%% *}=${kv#* }" >/dev/null 2>&1 || echo "bench: could not restore ${kv%% *}" >&2
	done
	B_PIDS=()
	B_RESTORE=()
}

# b_set_sysctl KEY VALUE: set a sysctl for the run and restore the old value on exit.
b_set_sysctl() {
	local key=$1 val=$2 old
	old=$(sysctl -n "$key" 2>/dev/null) || return 0
	[ "$(echo "$old" | tr -s ' \t' ' ')" = "$val" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench: $key is '$old', the run wants '$val' (needs root: sysctl -w $key=$val)" >&2
		return 0
	fi
	B_RESTORE+=("$key $old")
	sysctl -q -w "$key=$val" >/dev/null
	echo "bench: set $key=$val for this run (was $old; restored afterwards)" >&2
}

# b_tree PID: PID and its direct children (supervisor + workers).
b_tree() { echo "$1"; pgrep -P "$1" 2>/dev/null || true; }

# b_rss_kb PID: total resident memory of the process tree, kB. Bash builtins only: at 1M connections the
# machine is saturated and a fork per process per sample would stretch the sampling interval to many seconds.
b_rss_kb() {
	local total=0 p _s rss
	for p in $(b_tree "$1"); do
		read -r _s rss _ 2>/dev/null <"/proc/$p/statm" || continue
		total=$(( total + rss * B_PAGE_KB ))
	done
	echo "$total"
}

# b_cpu_ms PID: user+system CPU of the tree, ms (reaped children count through cutime/cstime).
b_cpu_ms() {
	local total=0 p line f
	for p in $(b_tree "$1"); do
		read -r line 2>/dev/null <"/proc/$p/stat" || continue
		# Fields after the ")" that closes the command name: state is field 3, utime is 14.
		read -r -a f <<<"${line##*) }"
		total=$(( total + f[11] + f[12] + f[13] + f[14] ))
	done
	echo $(( total * 1000 / B_HZ ))
}

b_meminfo_kb() { local k v _; while read -r k v _; do [ "$k" = "$1:" ] && { echo "$v"; return; }; done </proc/meminfo; }
b_slab_kb() { b_meminfo_kb Slab; }
b_sockstat_tcp() { local k a; while read -r k a; do [ "$k" = "TCP:" ] && { echo "$a"; return; }; done </proc/net/sockstat; }
b_tcp_inuse() { local f; read -r -a f <<<"$(b_sockstat_tcp)"; echo "${f[1]}"; }
b_tcp_tw() { local f; read -r -a f <<<"$(b_sockstat_tcp)"; echo "${f[5]}"; }

# b_sampler PID OUT INTERVAL: background loop writing "t_s tcp_inuse slab_kb rss_kb cpu_ms" until PID exits.
b_sampler() {
	local pid=$1 out=$2 iv=${3:-0.5} t0 now
	t0=${EPOCHREALTIME/./}
	while kill -0 "$pid" 2>/dev/null; do
		now=${EPOCHREALTIME/./}
		printf '%d.%02d %s %s %s %s\n' $(( (now - t0) / 1000000 )) $(( (now - t0) % 1000000 / 10000 )) \
			"$(b_tcp_inuse)" "$(b_slab_kb)" "$(b_rss_kb "$pid")" "$(b_cpu_ms "$pid")" >>"$out"
		sleep "$iv"
	done
}

# b_port_base COUNT: 8081 when 8081..8081+COUNT-1 are free, else another free block below the ephemeral range.
b_port_base() {
	local count=$1 base used
	used=$(ss -Htan | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un)
	for base in 8081 $(seq 20000 200 31000); do
		if ! awk -v lo="$base" -v hi=$((base + count - 1)) '$1 >= lo && $1 <= hi { f = 1 } END { exit !f }' \
			<<<"$used"; then
			echo "$base"
			return 0
		fi
	done
	echo "bench: no block of $count free ports" >&2
	return 1
}

# b_wait_listen PORT SECONDS
b_wait_listen() {
	local i
	for i in $(seq 1 $(( ${2:-20} * 10 ))); do
		ss -Htln "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	echo "bench: nothing listens on port $1" >&2
	return 1
}
