#!/usr/bin/env bash
# The man pages document exactly the options the programs take (suite unit, test unit.manpages): for each
# program, every option its --help names is defined in its page (a definition is a line of the scdoc source
# that starts with the option in bold, "*--port* _N_"), and every option the page defines is in --help. Run
# on the scdoc sources, so it needs no scdoc. c1m-epoll shares c1m-server's page; c1m-tuning's page
# documents tuning/apply.
# usage: manpages.sh SOURCE_ROOT SERVER EPOLL CLIENT DOCTOR
set -euo pipefail

root=$1
fail=0
bad() { printf 'FAIL: %s\n' "$*" >&2; fail=1; }

# Option words in --help: -n, --max-connections, ... after a blank, '[', '|', ',' or '(' (so c1m-server and
# 127.0.0.2-127.0.0.9 are not options). The pipelines are written out, not wrapped in functions: bash leaks
# a function call's state in a $(...) subshell, which the valgrind setup (it runs the unit suite) reports.
help_re='(^|[[:space:][|,(])--?[a-z][a-z0-9-]*'

# check NAME HELP-COMMAND... : NAME's page against the options HELP-COMMAND prints.
check() {
	local name=$1 page help doc
	shift
	page="$root/doc/$name"
	[ -f "$page" ] || { bad "no man page source $page"; return; }
	help=$("$@" --help 2>&1 | grep -oE -- "$help_re" | sed 's/^[^-]*//' | sort -u) || { bad "$* --help failed"; return; }
	doc=$(grep -E '^\*-' "$page" | grep -oE -- '\*--?[a-z][a-z0-9-]*\*' | tr -d '*' | sort -u)
	[ -n "$help" ] || { bad "$* --help names no options"; return; }
	while IFS= read -r o; do
		[ -n "$o" ] && bad "$(basename "$1"): $o is in --help but not defined in doc/$name"
	done < <(comm -23 <(printf '%s\n' "$help") <(printf '%s\n' "$doc"))
	while IFS= read -r o; do
		[ -n "$o" ] && bad "$(basename "$1"): doc/$name defines $o, which --help does not name"
	done < <(comm -13 <(printf '%s\n' "$help") <(printf '%s\n' "$doc"))
	printf 'ok: doc/%s and %s --help: %s options\n' "$name" "$(basename "$1")" "$(printf '%s\n' "$help" | wc -l)"
}

check c1m-server.8.scd "$2"
check c1m-server.8.scd "$3"
check c1m-client.1.scd "$4"
check c1m-doctor.8.scd "$5"
check c1m-tuning.7.scd "$root/tuning/apply"

[ "$fail" = 0 ] || exit 1
echo "manpages: every option in --help is defined in its page, and every option a page defines is in --help"
