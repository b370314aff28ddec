# tests/lib/c1m.sh: the shell primitives that bench/, tests/integration/, tests/lab/, ./c1m and .ci/run
# share, written once: where the binaries of a build are, the package list, a script's usage text, free
# ports, waiting for a port to listen or a log to say something, a sysctl changed for a run and put back,
# starting and ending processes, and what a process tree costs (RSS, CPU). Sourced, never run; the
# caller sets `set -euo pipefail`. A function that can fail returns 1 with the reason in C1M_ERR and
# prints nothing, so that each caller fails its own way (t_fail, lab_fail, a bench message); one that
# finds something sets a C1M_ variable rather than printing it, so that C1M_ERR survives (a $(...)
# would run it in a subshell).

C1M_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
C1M_TOP=$(cd "$C1M_LIB_DIR/../.." && pwd)
C1M_ERR=
C1M_PIDS=()     # what c1m_start started and c1m_stop_all ends
C1M_PAGE_KB=$(( $(getconf PAGESIZE) / 1024 ))
C1M_HZ=$(getconf CLK_TCK)

# ---- the project ------------------------------------------------------------------------------------
# c1m_bins BUILD: C1M_SERVER, C1M_EPOLL, C1M_CLIENT, C1M_DOCTOR and C1M_FLOOR of the meson build directory BUILD.
# C1M_DOCTOR is also the variable tuning/apply reads, with the same meaning.
c1m_bins() {
	C1M_SERVER=$1/src/server/c1m-server
	C1M_EPOLL=$1/src/server/epoll/c1m-epoll
	C1M_CLIENT=$1/src/client/c1m-client
	C1M_DOCTOR=$1/src/doctor/c1m-doctor
	C1M_FLOOR=$1/bench/c1m-floor    # the floor probe (bench/floor.c), built, not installed
}

# c1m_server_bin KIND: C1M_BIN is the binary of a server kind (server or c1m-server, epoll or c1m-epoll);
# c1m_bins first.
c1m_server_bin() {
	case $1 in
		server|c1m-server) C1M_BIN=$C1M_SERVER ;;
		epoll|c1m-epoll) C1M_BIN=$C1M_EPOLL ;;
		*) C1M_ERR="unknown server kind '$1' (server or epoll)"; return 1 ;;
	esac
}

# c1m_packages [FILE]: C1M_PACKAGES, the Debian packages c1m needs, from FILE (default: the list at the
# top of the tree): one a line, '#' starts a comment.
c1m_packages() {
	local file=${1:-$C1M_TOP/packages} line
	C1M_PACKAGES=()
	[ -r "$file" ] || { C1M_ERR="cannot read the package list $file"; return 1; }
	while read -r line; do
		line=${line%%#*}
		line=${line//[[:space:]]/}
		[ -n "$line" ] || continue
		[[ $line =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || { C1M_ERR="$file: '$line' is not a Debian package name"; return 1; }
		C1M_PACKAGES+=("$line")
	done <"$file"
}

# c1m_usage FILE: prints the comment block that opens a script (after the #! line), without the "# ",
# so --help always shows the whole header however long it grows.
c1m_usage() {
	awk 'NR == 1 && /^#!/ { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "$1"
}

# ---- ports ------------------------------------------------------------------------------------------
# c1m_port_base COUNT [FIRST]: C1M_PORT is a port from which COUNT consecutive TCP ports are used by no
# socket: FIRST if that block is free, else a random block in 20000-31999, below the ephemeral range
# (32768 up by default), so that no outgoing connection takes one between this check and the bind.
c1m_port_base() {
	local count=$1 base=${2:-} used i
	used=$(ss -Htan | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un)
	for i in $(seq 0 200); do
		{ [ "$i" -eq 0 ] && [ -n "$base" ]; } || base=$(( 20000 + RANDOM % (12000 - count) ))
		if ! awk -v lo="$base" -v hi=$(( base + count - 1 )) '$1 >= lo && $1 <= hi { f = 1 } END { exit !f }' \
			<<<"$used"; then
			C1M_PORT=$base
			return 0
		fi
	done
	C1M_ERR="no block of $count consecutive free ports found"
	return 1
}

# c1m_listening PORT [NETNS]: something listens on TCP PORT (in network namespace NETNS).
c1m_listening() {
	if [ -n "${2:-}" ]; then
		[ -n "$(ip netns exec "$2" ss -Htln "sport = :$1" 2>/dev/null)" ]
	else
		[ -n "$(ss -Htln "sport = :$1")" ]
	fi
}

# c1m_wait_listen PORT SECONDS [PID [NETNS]]: until something listens on PORT (in NETNS). Returns 1 after
# SECONDS, or at once when PID (the process that should listen) has ended.
c1m_wait_listen() {
	local port=$1 secs=$2 pid=${3:-} ns=${4:-} i status
	for (( i = 0; i < secs * 20; i++ )); do
		c1m_listening "$port" "$ns" && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			status=0
			wait "$pid" 2>/dev/null || status=$?
			C1M_ERR="pid $pid exited (status $status) before listening on port $port${ns:+ in $ns}"
			return 1
		fi
		sleep 0.05
	done
	c1m_listening "$port" "$ns" && return 0
	C1M_ERR="nothing listens on port $port${ns:+ in $ns} after ${secs}s"
	return 1
}

# c1m_wait_ports BASE COUNT SECONDS [PID [NETNS]]: c1m_wait_listen for the first and the last port of a
# server's block BASE..BASE+COUNT-1 (its listeners open in order, so the last means all).
c1m_wait_ports() {
	c1m_wait_listen "$1" "$3" "${4:-}" "${5:-}" && c1m_wait_listen $(( $1 + $2 - 1 )) "$3" "${4:-}" "${5:-}"
}

# c1m_wait_match FILE REGEX SECONDS [PID]: until FILE contains the extended REGEX. Returns 1 after
# SECONDS, or once PID (the process that writes FILE) has ended without writing it.
c1m_wait_match() {
	local file=$1 re=$2 secs=$3 pid=${4:-} i
	for (( i = 0; i < secs * 20; i++ )); do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			grep -Eq -- "$re" "$file" 2>/dev/null && return 0
			C1M_ERR="pid $pid ended without writing /$re/ to $(basename "$file")"
			return 1
		fi
		sleep 0.05
	done
	grep -Eq -- "$re" "$file" 2>/dev/null && return 0
	C1M_ERR="no /$re/ in $(basename "$file") after ${secs}s"
	return 1
}

# ---- sysctls changed for a run ----------------------------------------------------------------------
# A changed sysctl is written down BEFORE it is changed, as "key<TAB>value" in a restore file, with the
# value read before the first change of that key; c1m_sysctl_restore puts those values back. Being a
# file, the record can be undone by another process (the lab's guardian) when the one that wrote it was
# killed. Keys and values go through /proc/sys, so procps is not needed.

c1m_sysctl_path() { printf '/proc/sys/%s' "${1//.//}"; }

# c1m_sysctl_get KEY: prints the value with runs of blanks as one space ("4096 131072 6291456").
c1m_sysctl_get() {
	local path
	path=$(c1m_sysctl_path "$1")
	[ -r "$path" ] || { C1M_ERR="no sysctl $1"; return 1; }
	tr -s ' \t' '  ' <"$path"
}

# c1m_sysctl_set FILE KEY VALUE: records KEY in FILE (once), then sets it to VALUE.
c1m_sysctl_set() {
	local file=$1 key=$2 value=$3 old
	old=$(c1m_sysctl_get "$key") || { C1M_ERR="no sysctl $key"; return 1; }
	if ! cut -f1 "$file" 2>/dev/null | grep -qxF -- "$key"; then
		printf '%s\t%s\n' "$key" "$old" >>"$file" || { C1M_ERR="cannot record $key in $file"; return 1; }
	fi
	printf '%s\n' "$value" 2>/dev/null >"$(c1m_sysctl_path "$key")" || { C1M_ERR="cannot set $key = $value"; return 1; }
}

# c1m_sysctl_restore FILE: puts back every value FILE records, then removes it; returns 1 naming the
# keys that could not be written back. Nothing to do without FILE, so it is safe to call twice.
c1m_sysctl_restore() {
	local file=$1 key value failed=
	[ -f "$file" ] || return 0
	while IFS=$'\t' read -r key value; do
		[ -n "$key" ] || continue
		printf '%s\n' "$value" 2>/dev/null >"$(c1m_sysctl_path "$key")" || failed+=" $key=$value"
	done <"$file"
	rm -f "$file"
	[ -z "$failed" ] && return 0
	C1M_ERR="could not restore$failed"
	return 1
}

# ---- processes ---------------------------------------------------------------------------------------
# c1m_start LOG CMD...: CMD in the background with its output in LOG ("-": this script's own output).
# C1M_PID is CMD's pid (a simple command in the background is exec'd, so the pid is CMD itself); it is
# also added to C1M_PIDS, which c1m_stop_all ends.
c1m_start() {
	local log=$1
	shift
	if [ "$log" = - ]; then
		"$@" &
	else
		"$@" >"$log" 2>&1 &
	fi
	C1M_PID=$!
	C1M_PIDS+=("$C1M_PID")
}

# c1m_show_logs DIR LINES: the last LINES lines of each DIR/*.log under its name, on stderr: what a failed
# test shows of the processes it ran.
c1m_show_logs() {
	local f
	for f in "$1"/*.log; do
		[ -f "$f" ] || continue
		printf -- '--- %s (last %d lines)\n' "$(basename "$f")" "$2" >&2
		tail -n "$2" "$f" >&2
	done
}

# c1m_wait_exit PID SECONDS: until PID has exited; returns 1 if it still runs after SECONDS.
c1m_wait_exit() {
	local pid=$1 i
	for (( i = 0; i < $2 * 20; i++ )); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	! kill -0 "$pid" 2>/dev/null
}

# c1m_reap PID: C1M_STATUS is the exit status of PID (one of this shell's children), 128+N if signal N
# ended it.
c1m_reap() {
	C1M_STATUS=0
	wait "$1" || C1M_STATUS=$?
}

# c1m_stop PID SECONDS: SIGTERM, then up to SECONDS for the exit, whose status goes to C1M_STATUS.
# Returns 1 if PID still runs then: the caller decides between failing and c1m_kill.
c1m_stop() {
	kill -TERM "$1" 2>/dev/null || true
	c1m_wait_exit "$1" "$2" || { C1M_ERR="pid $1 still running $2 s after SIGTERM"; return 1; }
	c1m_reap "$1"
}

# c1m_kill PID: SIGKILL to PID and its direct children (a supervisor's workers), these found first: once
# PID is gone they belong to init and nothing names them any more.
c1m_kill() {
	local kids
	kids=$(c1m_children "$1")
	# shellcheck disable=SC2086
	kill -KILL "$1" $kids 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# c1m_stop_all SECONDS: ends everything in C1M_PIDS: SIGTERM to all at once, up to SECONDS for each to
# exit, then c1m_kill for what is left. Empties C1M_PIDS.
c1m_stop_all() {
	local pid
	for pid in "${C1M_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${C1M_PIDS[@]}"; do
		c1m_wait_exit "$pid" "$1" || true
		c1m_kill "$pid"
	done
	C1M_PIDS=()
}

# ---- what a process tree costs ---------------------------------------------------------------------------
# Bash builtins only where a benchmark samples in a loop: at 1M connections the machine is saturated and
# a fork per process per sample would stretch the sampling interval to many seconds.

# c1m_children PID: the direct children of PID (the workers of a supervisor), one a line.
c1m_children() { pgrep -P "$1" 2>/dev/null || true; }

# c1m_tree PID: PID and its direct children.
c1m_tree() { echo "$1"; c1m_children "$1"; }

# c1m_rss_kb PID: resident memory of the tree, KiB.
c1m_rss_kb() {
	local total=0 p _s rss
	for p in $(c1m_tree "$1"); do
		read -r _s rss _ 2>/dev/null <"/proc/$p/statm" || continue
		total=$(( total + rss * C1M_PAGE_KB ))
	done
	echo "$total"
}

# c1m_cpu_ms PID: user + system CPU of the tree, ms (children it reaped count through cutime/cstime).
c1m_cpu_ms() {
	local total=0 p line f
	for p in $(c1m_tree "$1"); do
		read -r line 2>/dev/null <"/proc/$p/stat" || continue
		# Fields after the ")" that closes the command name: state is field 3, utime is 14.
		read -r -a f <<<"${line##*) }"
		total=$(( total + f[11] + f[12] + f[13] + f[14] ))
	done
	echo $(( total * 1000 / C1M_HZ ))
}

# c1m_now_ms: the wall clock in milliseconds, without a fork.
c1m_now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }

# "${C1M_ULIMIT_N[@]}" N CMD...: CMD with its open-file limit, soft and hard, set to N (exit 126 when that
# is refused). An array rather than a function, so that it can follow ip netns exec or nsenter and CMD
# keeps the pid it was started with.
# shellcheck disable=SC2016
C1M_ULIMIT_N=(bash -c 'ulimit -n "$1" || exit 126; shift; exec "$@"' ulimit)
