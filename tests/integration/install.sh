#!/usr/bin/env bash
# The installed tree (integration.install): `meson install --destdir` into a private directory, then, from
# there only, the four binaries answer --version with this build's version, every man page renders
# without a warning (groff -ww) and shows under man -l, the systemd unit runs the installed c1m-server,
# the examples are the tuning/ files, c1m-tuning finds the c1m-doctor beside it (a dry run: nothing is
# changed), the completion offers the programs' options, and nothing lands in /etc (installing changes
# no sysctl or limit). The directory is removed at the end.
# usage: install.sh VERSION BINDIR MANDIR UNITDIR|no COMPLETIONDIR|no EXAMPLESDIR man|noman
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version=$1 bindir=$2 mandir=$3 unitdir=$4 compdir=$5 examplesdir=$6 man=$7
root=$T_DIR/root

meson install -C "$C1M_BUILD" --destdir "$root" --quiet --no-rebuild >"$T_DIR/install.log" 2>&1 ||
	t_fail "meson install --destdir failed: $(tail -n 5 "$T_DIR/install.log")"
t_log "installed into $root"
[ -z "$(find "$root" -path '*/etc/*' -print -quit)" ] || t_fail "the install writes below /etc: $(find "$root" -path '*/etc/*')"

# --version: the project version, and libevent's for the programs that run on it
for prog in c1m-server c1m-epoll c1m-client c1m-doctor; do
	bin=$root$bindir/$prog
	[ -x "$bin" ] || t_fail "$prog is not installed in $bindir"
	out=$("$bin" --version) || t_fail "$prog --version failed"
	[ "$(head -n 1 <<<"$out")" = "$prog $version" ] || t_fail "$prog --version: '$out', expected '$prog $version'"
	if [ "$prog" != c1m-doctor ]; then
		grep -qE '^libevent [0-9]+\.[0-9]+' <<<"$out" || t_fail "$prog --version names no libevent: '$out'"
	fi
done
t_log "--version: $version from all four"

# man pages: render cleanly, and man -l shows each with its NAME
if [ "$man" = man ]; then
	for page in man8/c1m-server.8 man8/c1m-epoll.8 man1/c1m-client.1 man8/c1m-doctor.8 man7/c1m-tuning.7; do
		f=$root$mandir/$page
		[ -f "$f" ] || t_fail "man page $page is not installed in $mandir"
		warn=$(groff -man -Tutf8 -ww -z "$f" 2>&1) || t_fail "groff $page failed: $warn"
		[ -z "$warn" ] || t_fail "groff warns on $page: $warn"
		MANWIDTH=100 man -l "$f" 2>"$T_DIR/man.err" >"$T_DIR/man.txt" || t_fail "man -l $page failed: $(cat "$T_DIR/man.err")"
		[ ! -s "$T_DIR/man.err" ] || t_fail "man -l $page: $(cat "$T_DIR/man.err")"
		grep -q '^NAME' "$T_DIR/man.txt" || t_fail "man -l $page shows no NAME section"
		grep -q "c1m $version" "$T_DIR/man.txt" || t_fail "man -l $page does not name version $version"
	done
	t_log "man pages: 5 render without warnings"
else
	t_log "man pages: not built (no scdoc), not checked"
fi

# the systemd unit, with the installed binary
if [ "$unitdir" != no ]; then
	unit=$root$unitdir/c1m-server.service
	[ -f "$unit" ] || t_fail "c1m-server.service is not installed in $unitdir"
	grep -q "^ExecStart=$bindir/c1m-server " "$unit" || t_fail "the unit does not run $bindir/c1m-server: $(grep ExecStart "$unit")"
	t_log "unit: $unitdir/c1m-server.service runs $bindir/c1m-server"
fi

# the tuning files, as examples only
cmp -s "$root$examplesdir/sysctl.d/90-c1m.conf" "$C1M_SOURCE/tuning/sysctl.d/90-c1m.conf" ||
	t_fail "examples/sysctl.d/90-c1m.conf is missing or differs from tuning/"
cmp -s "$root$examplesdir/limits.d/90-c1m.conf" "$C1M_SOURCE/tuning/security/limits.d/90-c1m.conf" ||
	t_fail "examples/limits.d/90-c1m.conf is missing or differs from tuning/"

# c1m-tuning: from the installed tree, with no doctor in $PATH or $C1M_DOCTOR, it runs the one beside it
tuning=$root$bindir/c1m-tuning
[ -x "$tuning" ] || t_fail "c1m-tuning is not installed in $bindir"
env -u C1M_DOCTOR PATH=/usr/bin:/bin:/usr/sbin:/sbin "$tuning" --dry-run --for 1000 >"$T_DIR/tuning.log" 2>&1 ||
	t_fail "c1m-tuning --dry-run failed"
grep -qF "values from $root$bindir/c1m-doctor --json" "$T_DIR/tuning.log" ||
	t_fail "c1m-tuning did not use the installed c1m-doctor: $(grep 'values from' "$T_DIR/tuning.log" || echo none)"
grep -q '^dry run\|^nothing to change' "$T_DIR/tuning.log" || t_fail "c1m-tuning --dry-run did not end as a dry run"
t_log "c1m-tuning --dry-run runs the installed c1m-doctor"

# bash completion: one file per command; it offers each program's options
if [ "$compdir" != no ]; then
	for prog in c1m-server c1m-epoll c1m-client c1m-doctor c1m-tuning; do
		[ -e "$root$compdir/$prog" ] || t_fail "no bash completion for $prog in $compdir"
	done
	if [ -f /usr/share/bash-completion/bash_completion ]; then
		got=$(PATH="$root$bindir:$PATH" bash -c '
			source /usr/share/bash-completion/bash_completion
			source "$1"
			COMP_WORDS=(c1m-server --max-c); COMP_CWORD=1; COMP_LINE="c1m-server --max-c"; COMP_POINT=${#COMP_LINE}
			_c1m c1m-server --max-c c1m-server
			printf "%s " "${COMPREPLY[@]}"
			COMP_WORDS=(c1m-doctor --role ""); COMP_CWORD=2; COMP_LINE="c1m-doctor --role "; COMP_POINT=${#COMP_LINE}
			_c1m c1m-doctor "" --role
			printf "%s " "${COMPREPLY[@]}"' bash "$root$compdir/c1m-doctor")
		[ "$got" = "--max-connections server client both " ] || t_fail "completion offers '$got'"
		t_log "completion: c1m-server --max-c -> --max-connections; c1m-doctor --role -> server client both"
	fi
fi

[ -f "$root$(dirname "$examplesdir")/README.md" ] || t_fail "README.md is not installed"
echo "PASS: the installed tree runs, its man pages render, unit, examples, c1m-tuning and completion are in place"
