# tests/lab/lib.sh: the three-machine lab of the original write-up, built from network namespaces,
# and the safety net around it. Sourced by every tests/lab/*.sh case. One server host and two client
# hosts (198.18.0.1, .2, .3/24; 198.18.0.0/15 is reserved for benchmarks, so nothing real is ever
# addressed) hang off a bridge that lives in a fourth namespace, leaving the root namespace
# untouched. Everything a case changes is written down BEFORE it is changed (namespaces, machine-wide
# sysctls, memory cgroups) in a private directory; lab_teardown undoes it from that record, from the
# EXIT trap and, should the test be SIGKILLed (meson does so 0.5 s after SIGTERM), from a guardian
# process in its own session that waits for the test to die. A machine-wide lock keeps two lab runs
# from reading each other's lowered values as "original".
#
# The primitives shared with the other scripts (binaries, waiting, sysctl record and restore, processes)
# are those of tests/lib/c1m.sh; this file adds the lab around them.
#
# Environment: C1M_BUILD (build dir) and C1M_SOURCE (source dir), as set by tests/lab/meson.build.
# Exit codes: 0 pass, 1 fail, 77 skip (meson's code), with the reason printed.

source "$(dirname "${BASH_SOURCE[0]}")/../lib/c1m.sh"

LAB_SRV_ADDR=198.18.0.1
LAB_CL1_ADDR=198.18.0.2
LAB_CL2_ADDR=198.18.0.3
LAB_PREFIX=24
LAB_LOCK=/run/lock/c1m-lab.lock
LAB_LOCK_WAIT=45         # seconds to wait for another lab run (another checkout, another user) to finish
LAB_LIB=${BASH_SOURCE[0]}

# ---- messages -------------------------------------------------------------------------------------
lab_elapsed() { awk -v t0="$LAB_T0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }'; }
lab_log() { printf '[%s %5ss] %s\n' "${LAB_CASE:-lab}" "$(lab_elapsed)" "$*"; }
lab_ok() { lab_log "ok: $*"; }
lab_skip() { printf '[%s] SKIP: %s\n' "${LAB_CASE:-lab}" "$*"; LAB_RC=77; exit 77; }
lab_fail() { printf '[%s %5ss] FAIL: %s\n' "${LAB_CASE:-lab}" "$(lab_elapsed)" "$*" >&2; LAB_RC=1; exit 1; }

# ---- the record of what to undo --------------------------------------------------------------------
# $LAB_DIR/restore     key<TAB>value of every machine-wide sysctl, as read before the first change
# $LAB_DIR/namespaces  one namespace name per line
# $LAB_DIR/cgroups     one cgroup directory per line
# $LAB_DIR/*.log       output of the processes started, shown when a case fails

# Sets a machine-wide sysctl, recording its value first (once: a second change of the same key keeps
# the value read at the start).
lab_sysctl_global() {
	c1m_sysctl_set "$LAB_DIR/restore" "$1" "$2" || lab_fail "$C1M_ERR"
	lab_log "machine-wide $1 = $2 (restored at exit)"
}

# Undo everything recorded in DIR. Idempotent; safe to run from the trap and then the guardian.
# Machine-wide values go first: they are the only thing that outlives us and it takes milliseconds.
lab_teardown() {
	local dir=$1 ns pid cg i
	[ -d "$dir" ] || return 0
	c1m_sysctl_restore "$dir/restore" || printf 'lab: %s\n' "$C1M_ERR" >&2
	if [ -f "$dir/namespaces" ]; then
		# Processes inside our namespaces are ours: we started them there.
		while read -r ns; do
			for pid in $(ip netns pids "$ns" 2>/dev/null); do
				kill -KILL "$pid" 2>/dev/null || true
			done
		done < "$dir/namespaces"
	fi
	if [ -f "$dir/cgroups" ]; then
		while read -r cg; do
			[ -d "$cg" ] || continue
			for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do
				kill -KILL "$pid" 2>/dev/null || true
			done
			for i in 1 2 3 4 5 6 7 8 9 10; do
				rmdir "$cg" 2>/dev/null && break
				sleep 0.2
			done
		done < "$dir/cgroups"
		rm -f "$dir/cgroups"
	fi
	if [ -f "$dir/namespaces" ]; then
		while read -r ns; do
			for i in 1 2 3 4 5; do
				[ -e "/run/netns/$ns" ] || break
				ip netns del "$ns" 2>/dev/null && break
				sleep 0.2
			done
		done < "$dir/namespaces"
		rm -f "$dir/namespaces"
	fi
}

# Guardian: runs in its own session (meson's killpg does not reach it), waits for the test to end,
# then undoes whatever the test's own trap did not get to.
lab_guardian() {
	local pid=$1 dir=$2
	# A killed test stays a zombie until its parent reaps it; count that as ended.
	while kill -0 "$pid" 2>/dev/null && [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
		sleep 0.2
	done
	[ -d "$dir" ] || exit 0
	lab_teardown "$dir"
	rm -rf "$dir"
}

lab_on_exit() {
	local rc=${LAB_RC:-$?}
	trap - EXIT
	disown -a 2>/dev/null || true   # no "Killed" job notices for what teardown ends
	[ "$rc" = 0 ] || [ "$rc" = 77 ] || c1m_show_logs "$LAB_DIR" 15
	lab_teardown "$LAB_DIR"
	rm -rf "$LAB_DIR"
	case $rc in
		0) lab_log "PASS" ;;
		77) ;;
		*) lab_log "FAILED (exit $rc)" ;;
	esac
	exit "$rc"
}

# ---- start -----------------------------------------------------------------------------------------
# lab_init CASE: checks what the lab needs (skip with the reason when root or netns is missing),
# takes the lock, arms the trap and the guardian.
lab_init() {
	LAB_CASE=$1
	LAB_T0=$(date +%s.%N)
	LAB_RC=
	[ -n "${C1M_BUILD:-}" ] && [ -n "${C1M_SOURCE:-}" ] ||
		{ echo "lab: C1M_BUILD and C1M_SOURCE must be set (meson test sets them)" >&2; exit 1; }
	[ "$(id -u)" = 0 ] || lab_skip "needs root to create network namespaces and change sysctls"
	command -v ip >/dev/null || lab_skip "iproute2 (ip) is not installed"
	for tool in jq ss flock setsid; do
		command -v "$tool" >/dev/null || lab_fail "'$tool' is not installed (c1m's package list has it)"
	done
	c1m_bins "$C1M_BUILD"
	LAB_APPLY=$C1M_SOURCE/tuning/apply
	for b in "$C1M_SERVER" "$C1M_CLIENT" "$C1M_DOCTOR" "$LAB_APPLY"; do
		[ -x "$b" ] || lab_fail "$b is missing: build first (meson compile -C $C1M_BUILD)"
	done

	LAB_DIR=$(mktemp -d /tmp/c1m-lab.XXXXXX)
	trap lab_on_exit EXIT
	trap 'LAB_RC=143; exit 143' TERM
	trap 'LAB_RC=130; exit 130' INT

	mkdir -p "$(dirname "$LAB_LOCK")"
	exec 9> "$LAB_LOCK"
	# A guardian keeps the lock for up to 0.2 s after its test ended: only a longer wait is news.
	if ! flock -w 2 9; then
		lab_log "waiting for another lab run to finish (lock $LAB_LOCK)"
		flock -w "$LAB_LOCK_WAIT" 9 || lab_fail "another lab run held $LAB_LOCK for over ${LAB_LOCK_WAIT}s"
	fi
	# The guardian inherits the lock, so the next lab run also waits for a guardian's cleanup.
	setsid bash -c '. "$1"; lab_guardian "$2" "$3"' lab-guardian "$LAB_LIB" "$$" "$LAB_DIR" \
		</dev/null >/dev/null 2>&1 &

	LAB_ID=c1mlab$$
	local probe=$LAB_ID-probe err
	echo "$probe" >> "$LAB_DIR/namespaces"
	err=$(ip netns add "$probe" 2>&1) || lab_skip "network namespaces unavailable: $err"
	ip netns del "$probe"
}

# lab_up: the four namespaces, the bridge and three veth pairs, addresses, loopback.
lab_up() {
	LAB_BR=$LAB_ID-br
	echo "$LAB_BR" >> "$LAB_DIR/namespaces"
	ip netns add "$LAB_BR" || lab_fail "ip netns add $LAB_BR"
	ip -n "$LAB_BR" link set lo up
	ip -n "$LAB_BR" link add br0 type bridge
	ip -n "$LAB_BR" link set br0 up
	# Bridged frames must not go through the bridge namespace's IP hooks (br_netfilter): that
	# namespace would then track connections too and the conntrack case would drop in the wrong place.
	if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
		ip netns exec "$LAB_BR" sh -c 'echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables' 2>/dev/null || true
	fi
	lab_host srv "$LAB_SRV_ADDR"; LAB_SRV=$LAB_HOST
	lab_host cl1 "$LAB_CL1_ADDR"; LAB_CL1=$LAB_HOST
	lab_host cl2 "$LAB_CL2_ADDR"; LAB_CL2=$LAB_HOST
	lab_log "hosts up: server $LAB_SRV_ADDR ($LAB_SRV), clients $LAB_CL1_ADDR ($LAB_CL1), $LAB_CL2_ADDR ($LAB_CL2)"
}

# lab_host NAME ADDR: one more host on the bridge (after lab_up): namespace $LAB_ID-NAME with loopback up
# and eth0 at ADDR/$LAB_PREFIX; sets LAB_HOST to the namespace.
lab_host() {
	local name=$1 addr=$2 ns=$LAB_ID-$1
	echo "$ns" >> "$LAB_DIR/namespaces"
	ip netns add "$ns" || lab_fail "ip netns add $ns"
	ip -n "$ns" link set lo up
	ip link add name "p-$name" netns "$LAB_BR" type veth peer name eth0 netns "$ns" ||
		lab_fail "cannot create the veth pair for $ns"
	ip -n "$LAB_BR" link set "p-$name" master br0 up
	ip -n "$ns" addr add "$addr/$LAB_PREFIX" dev eth0
	ip -n "$ns" link set eth0 up
	LAB_HOST=$ns
}

# ---- ssh between hosts (the fleet) --------------------------------------------------------------------
# lab_ssh_init: a client key and an empty known_hosts for this run, and LAB_FLEET: the fleet driver's
# command with the ssh options that use them (run it in a host with lab_start or lab_in).
lab_ssh_init() {
	[ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null ||
		lab_skip "openssh-server and openssh-client are needed (see ./packages)"
	ssh-keygen -q -t ed25519 -N '' -f "$LAB_DIR/client_key"
	cp "$LAB_DIR/client_key.pub" "$LAB_DIR/authorized_keys"
	: > "$LAB_DIR/known_hosts"
	mkdir -p /run/sshd   # sshd's privilege separation directory
	LAB_FLEET=(env "PATH=$(dirname "$C1M_CLIENT"):$PATH" C1M_CLIENT="$C1M_CLIENT" "$C1M_SOURCE/fleet/c1m-fleet"
		--ssh-option "IdentityFile=$LAB_DIR/client_key" --ssh-option "UserKnownHostsFile=$LAB_DIR/known_hosts"
		--ssh-option StrictHostKeyChecking=yes)
}

# lab_sshd NAME HOST ADDR: a real sshd in HOST, listening only on ADDR port 22, with a host key made for this
# run (added to known_hosts) and key-only root login with lab_ssh_init's key.
lab_sshd() {
	local name=$1 ns=$2 addr=$3
	ssh-keygen -q -t ed25519 -N '' -f "$LAB_DIR/$name.key"
	printf '%s %s\n' "$addr" "$(cut -d' ' -f1,2 "$LAB_DIR/$name.key.pub")" >> "$LAB_DIR/known_hosts"
	printf '%s\n' "ListenAddress $addr" "Port 22" "HostKey $LAB_DIR/$name.key" "PidFile $LAB_DIR/$name.pid" \
		"AuthorizedKeysFile $LAB_DIR/authorized_keys" "PermitRootLogin prohibit-password" \
		"PasswordAuthentication no" "KbdInteractiveAuthentication no" "UsePAM no" "StrictModes no" \
		"MaxSessions 50" > "$LAB_DIR/$name.conf"
	lab_start "$name" "$ns" /usr/sbin/sshd -D -e -f "$LAB_DIR/$name.conf"
	c1m_wait_listen 22 10 "$LAB_PID" "$ns" || lab_fail "sshd $name: $C1M_ERR"
}

# ---- running things in hosts ------------------------------------------------------------------------
# lab_in HOST CMD...: run CMD in a host (foreground).
lab_in() { local ns=$1; shift; ip netns exec "$ns" "$@" 9>&-; }

# lab_in_nofile HOST N CMD...: run CMD in a host with soft and hard RLIMIT_NOFILE = N (ulimit -n N).
lab_in_nofile() {
	local ns=$1 n=$2; shift 2
	ip netns exec "$ns" "${C1M_ULIMIT_N[@]}" "$n" "$@" 9>&-
}

# lab_start NAME HOST CMD...: run CMD in the background in HOST, output to $LAB_DIR/NAME.log;
# sets LAB_PID (the pid is CMD itself: ip netns exec and bash exec into it). The lock's fd 9 is not
# passed on: a process left running must not hold up the next lab run.
lab_start() {
	local name=$1 ns=$2; shift 2
	c1m_start "$LAB_DIR/$name.log" ip netns exec "$ns" "$@" 9>&-
	LAB_PID=$C1M_PID
}

# lab_wait NAME PID TIMEOUT: wait for a background process; sets LAB_STATUS (128+sig if killed);
# fails the case if it is still running after TIMEOUT seconds.
lab_wait() {
	if ! c1m_wait_exit "$2" "$3"; then
		c1m_kill "$2"
		lab_fail "$1 still running after ${3}s"
	fi
	c1m_reap "$2"
	LAB_STATUS=$C1M_STATUS
}

# lab_stop PID: SIGTERM, then SIGKILL after 3 s; never fails.
lab_stop() { c1m_stop "$1" 3 || c1m_kill "$1"; }

# ---- the c1m binaries in the lab -----------------------------------------------------------------------
LAB_PORT=8081

# lab_server NAME NOFILE ARGS...: c1m-server on the server host, listening on $LAB_SRV_ADDR from
# $LAB_PORT; NOFILE "-" keeps the inherited open-file limit, a number applies ulimit -n first.
# Waits until it listens; sets LAB_PID.
lab_server() { local name=$1; shift; lab_server_on "$name" "$LAB_SRV" "$LAB_SRV_ADDR" "$@"; }

# lab_server_on NAME HOST ADDR NOFILE ARGS...: lab_server on another host and address.
lab_server_on() {
	local name=$1 ns=$2 addr=$3 nofile=$4; shift 4
	if [ "$nofile" = - ]; then
		lab_start "$name" "$ns" "$C1M_SERVER" --bind "$addr" --port "$LAB_PORT" --stats-interval 1 "$@"
	else
		lab_start "$name" "$ns" "${C1M_ULIMIT_N[@]}" "$nofile" \
			"$C1M_SERVER" --bind "$addr" --port "$LAB_PORT" --stats-interval 1 "$@"
	fi
	c1m_wait_listen "$LAB_PORT" 10 "$LAB_PID" "$ns" || lab_fail "server $name: $C1M_ERR"
}

# lab_client_cmd NAME N ARGS...: sets LAB_CMD to the c1m-client command line used by every case (short deadlines so a
# failing run ends in seconds; JSON report next to the log). The target is $LAB_SRV_ADDR unless
# LAB_TARGET names another host (a balancer).
lab_client_cmd() {
	local name=$1 n=$2; shift 2
	LAB_CMD=("$C1M_CLIENT" "${LAB_TARGET:-$LAB_SRV_ADDR}" --port "$LAB_PORT" -n "$n" --hold 1 --connect-timeout 5
		--echo-timeout 3 --progress-interval 1 --json "$LAB_DIR/$name.json" "$@")
}

# lab_client NAME HOST N ARGS...: run c1m-client in HOST in the foreground; LAB_STATUS is its exit.
lab_client() {
	local name=$1 ns=$2 n=$3; shift 3
	lab_client_cmd "$name" "$n" "$@"
	lab_start "$name" "$ns" "${LAB_CMD[@]}"
	lab_wait "$name" "$LAB_PID" 45
}

# lab_doctor NAME HOST NOFILE ARGS...: c1m-doctor --json in HOST (NOFILE as for lab_server);
# output in $LAB_DIR/NAME.json, exit status in LAB_STATUS.
lab_doctor() {
	local name=$1 ns=$2 nofile=$3; shift 3
	LAB_STATUS=0
	if [ "$nofile" = - ]; then
		lab_in "$ns" "$C1M_DOCTOR" "$@" --json > "$LAB_DIR/$name.json" 2> "$LAB_DIR/$name.log" || LAB_STATUS=$?
	else
		lab_in_nofile "$ns" "$nofile" "$C1M_DOCTOR" "$@" --json > "$LAB_DIR/$name.json" 2> "$LAB_DIR/$name.log" ||
			LAB_STATUS=$?
	fi
}

# lab_explain NAME HOST [ARGS...]: c1m-doctor --explain in HOST over the kernel log since this case
# began (ARGS e.g. --from CLIENT_JSON); text in $LAB_DIR/NAME.log.
lab_explain() {
	local name=$1 ns=$2 since
	shift 2
	since=$(awk -v t0="$LAB_T0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%d", t1 - t0 + 2 }')
	lab_in "$ns" "$C1M_DOCTOR" --explain --since "$since" "$@" > "$LAB_DIR/$name.log" 2>&1 || true
}

# ---- assertions ---------------------------------------------------------------------------------------
# Checks record a failure and carry on, so one run shows every requirement that is not met; lab_finish
# turns them into the exit status. lab_fail is for setup errors after which nothing can be checked.
LAB_FAILED=()
lab_check_fail() {
	printf '[%s %5ss] NOT OK: %s\n' "${LAB_CASE:-lab}" "$(lab_elapsed)" "$*" >&2
	LAB_FAILED+=("$*")
}

# lab_check_match FILE REGEX WHAT: FILE must contain REGEX (extended, case-insensitive).
lab_check_match() {
	local file=$1 re=$2 what=$3 line
	if line=$(grep -Eio -m1 -- ".{0,60}($re).{0,60}" "$file"); then
		lab_ok "$what: \"$line\""
	else
		printf -- '----- %s (last 20 lines) -----\n' "$(basename "$file")" >&2
		tail -n 20 "$file" >&2
		lab_check_fail "$what: /$re/ not found in $(basename "$file")"
	fi
}

# lab_check_status GOT WANT WHAT; WANT "nonzero" accepts anything but 0.
lab_check_status() {
	local got=$1 want=$2 what=$3
	if { [ "$want" = nonzero ] && [ "$got" != 0 ]; } || [ "$got" = "$want" ]; then
		lab_ok "$what (exit $got)"
	else
		lab_check_fail "$what: exit status $got, wanted $want"
	fi
}

# lab_check_doctor JSON STATUS CHECK: c1m-doctor --json said FAIL (exit 1) and named CHECK as the
# binding limit, with its verdict "fail".
lab_check_doctor() {
	local json=$1 status=$2 check=$3 binding line
	binding=$(jq -r '.binding // ""' "$json" 2>/dev/null || true)
	line=$(jq -r --arg c "$check" '.checks[] | select(.name == $c)
		| "\(.name) \(.verdict): now \(.current), needed \(.needed); fix: \(.fix)"' "$json" 2>/dev/null || true)
	if [ "$status" = 1 ] && [ "$binding" = "$check" ] && [[ $line == "$check fail:"* ]]; then
		lab_ok "doctor predicted it: $line"
	else
		cat "$json" "${json%.json}.log" >&2 2>/dev/null || true
		lab_check_fail "doctor prediction: wanted exit 1 and binding $check (verdict fail); got exit $status, binding '$binding'${line:+, $line}"
	fi
}

# lab_finish: exit 0 if every check passed, 1 listing the ones that did not.
lab_finish() {
	local f
	if [ ${#LAB_FAILED[@]} -eq 0 ]; then
		LAB_RC=0
		exit 0
	fi
	printf '[%s] %d check(s) not met:\n' "$LAB_CASE" ${#LAB_FAILED[@]} >&2
	for f in "${LAB_FAILED[@]}"; do printf '  - %s\n' "$f" >&2; done
	LAB_RC=1
	exit 1
}

# ---- memory cgroups -------------------------------------------------------------------------------------
# lab_memcg NAME LIMIT_BYTES: a memory cgroup below this process's own, limited to LIMIT_BYTES; sets
# LAB_MEMCG to its directory. Skips when no memory controller is usable (v1 or v2).
lab_memcg() {
	local name=$1 limit=$2 line rel base
	line=$(grep -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' /proc/self/cgroup | head -n1 || true)
	if [ -n "$line" ] && [ -d /sys/fs/cgroup/memory ]; then
		rel=${line##*:}
		base=/sys/fs/cgroup/memory$rel
		LAB_MEMCG_VERSION=1
	else
		base=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
		[ -n "$base" ] || lab_skip "no memory cgroup controller (neither v1 nor v2 mounted)"
		rel=$(sed -n 's/^0:://p' /proc/self/cgroup)
		base=$base$rel
		grep -qw memory "$base/cgroup.controllers" 2>/dev/null ||
			lab_skip "cgroup v2 without the memory controller at $base"
		grep -qw memory "$base/cgroup.subtree_control" ||
			echo +memory > "$base/cgroup.subtree_control" 2>/dev/null ||
			lab_skip "cannot enable the memory controller below $base"
		LAB_MEMCG_VERSION=2
	fi
	LAB_MEMCG=${base%/}/$LAB_ID-$name
	echo "$LAB_MEMCG" >> "$LAB_DIR/cgroups"
	mkdir "$LAB_MEMCG" || lab_skip "cannot create memory cgroup $LAB_MEMCG"
	lab_memcg_limit "$limit"
}

# lab_memcg_limit BYTES: change the limit of LAB_MEMCG (the "give the host more memory" fix).
lab_memcg_limit() {
	if [ "$LAB_MEMCG_VERSION" = 1 ]; then
		# Swap is limited too, or v1 would swap instead of killing (memsw is absent without swap
		# accounting). memory <= memsw must hold at every step, so memsw is written before (when
		# raising) and after (when lowering); one of the two writes fails harmlessly.
		local sw=$LAB_MEMCG/memory.memsw.limit_in_bytes
		[ ! -e "$sw" ] || echo "$1" > "$sw" 2>/dev/null || true
		echo "$1" > "$LAB_MEMCG/memory.limit_in_bytes" || lab_fail "cannot limit $LAB_MEMCG to $1 bytes"
		[ ! -e "$sw" ] || echo "$1" > "$sw" 2>/dev/null || true
	else
		echo "$1" > "$LAB_MEMCG/memory.max" || lab_fail "cannot limit $LAB_MEMCG to $1 bytes"
		echo 0 > "$LAB_MEMCG/memory.swap.max" 2>/dev/null || true
	fi
}

# lab_memcg_oom_kills: how many processes the OOM killer ended in LAB_MEMCG.
lab_memcg_oom_kills() {
	if [ "$LAB_MEMCG_VERSION" = 1 ]; then
		awk '$1 == "oom_kill" { print $2; found = 1 } END { if (!found) print 0 }' "$LAB_MEMCG/memory.oom_control"
	else
		awk '$1 == "oom_kill" { print $2; found = 1 } END { if (!found) print 0 }' "$LAB_MEMCG/memory.events"
	fi
}

# Running inside LAB_MEMCG: the process joins the cgroup, then enters the host's network namespace
# with nsenter rather than ip netns exec, because ip netns exec mounts a fresh /sys in which
# /sys/fs/cgroup is empty: c1m-doctor could not see the cgroup's limit there.
LAB_MEMCG_EXEC='echo $$ > "$0/cgroup.procs" || exit 126; ns=$1; shift; exec nsenter --net="/run/netns/$ns" -- "$@"'

# lab_in_memcg HOST CMD...: foreground.
lab_in_memcg() {
	local ns=$1; shift
	bash -c "$LAB_MEMCG_EXEC" "$LAB_MEMCG" "$ns" "$@" 9>&-
}

# lab_start_memcg NAME HOST CMD...: background, like lab_start.
lab_start_memcg() {
	local name=$1 ns=$2; shift 2
	c1m_start "$LAB_DIR/$name.log" bash -c "$LAB_MEMCG_EXEC" "$LAB_MEMCG" "$ns" "$@" 9>&-
	LAB_PID=$C1M_PID
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "tests/lab/lib.sh is sourced by the lab cases, not run" >&2
	exit 2
fi
