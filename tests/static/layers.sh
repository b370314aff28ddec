#!/usr/bin/env bash
# The layers of the tree, checked (suite unit, test unit.layers). Two rules:
# 1. Includes point down. A file may include project headers only from its own layer and the layers below:
#      common/util  <- common/sys <- common/model <- server/core <- server, server/epoll
#                                               <- client, doctor
#    (client, doctor and the servers never include each other's headers).
# 2. The util and model libraries read nothing from the machine and link no libevent: their object files
#    must not reference the system calls and readers that would (nm -u of the static libraries).
# usage: layers.sh SOURCE_ROOT UTIL_LIB MODEL_LIB
set -euo pipefail

root=$1 util_lib=$2 model_lib=$3
fail=0
bad() { printf 'FAIL: %s\n' "$*" >&2; fail=1; }

# allowed FOLDER: the include prefixes a file in src/FOLDER may use
allowed() {
	case $1 in
		common/util) echo "common/util/" ;;
		common/sys) echo "common/util/ common/sys/" ;;
		common/model) echo "common/util/ common/sys/ common/model/" ;;
		server/core) echo "common/ server/core/" ;;
		server/epoll) echo "common/ server/core/ server/epoll/" ;;
		server) echo "common/ server/core/ server/echo.h" ;;
		client) echo "common/ client/" ;;
		doctor) echo "common/ doctor/" ;;
		*) echo "" ;;
	esac
}

cd "$root/src"
checked=0
while IFS= read -r f; do
	dir=${f%/*}
	ok=$(allowed "$dir")
	[ -n "$ok" ] || { bad "$f: folder $dir is not a known layer (add it to tests/static/layers.sh)"; continue; }
	while IFS= read -r inc; do
		match=0
		for p in $ok; do
			[[ $inc == "$p"* ]] && match=1
		done
		[ "$match" = 1 ] || bad "$f includes \"$inc\", which is above or beside its layer ($dir may use: $ok)"
		[ -f "$inc" ] || bad "$f includes \"$inc\", which is not a path below src/"
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	if [[ $dir == common/util || $dir == common/model ]] && grep -q '#[[:space:]]*include[[:space:]]*<event2/' "$f"; then
		bad "$f includes libevent: the $dir layer links no libevent"
	fi
	checked=$((checked + 1))
done < <(find common server client doctor -name '*.[ch]' | sort)

# Symbols a pure layer must not use: file and process I/O, the machine readers, libevent.
forbidden='^(open|open64|openat|openat64|fopen|fopen64|read|pread|pread64|opendir|readdir|readdir64|access|stat|stat64|getrlimit|setrlimit|prlimit|prlimit64|popen|sysconf|socket|connect|bind|listen|accept|accept4|fork|getpid|limits_read|limits_raise_nofile|kstate_read|procfs_read_file|procfs_read_u64|procfs_rss_open|procfs_rss_bytes)$|^(event_|evhttp_|bufferevent_|evbuffer_|evconnlistener_)'
for lib in "$util_lib" "$model_lib"; do
	[ -f "$lib" ] || { bad "no library $lib"; continue; }
	syms=$(nm -u "$lib" | awk '{ print $NF }' | sed 's/@.*//' | sort -u)
	# the model links the sys library for its pure parsers; only the functions above are forbidden
	hits=$(grep -E "$forbidden" <<<"$syms" || true)
	[ -z "$hits" ] || bad "$(basename "$lib") uses $(tr '\n' ' ' <<<"$hits")(the layer must not read the machine)"
done

[ "$fail" = 0 ] || exit 1
echo "layers: $checked files include only their own and lower layers; util and model read nothing from the machine"
