#!/usr/bin/env bash
# Static analysis of src/: clang-tidy with the checks in /.clang-tidy and cppcheck (warning, performance,
# portability; libevent and system headers on the include path, glibc described by cppcheck's posix/gnu
# library files). Both read the file list from a meson build dir's compile_commands.json; without one a
# clang build dir is configured (not compiled) in BUILD_DIR. Findings listed in tests/static/
# suppressions.txt (each with its reason) are dropped; anything else fails the run. Reports are kept in
# BUILD_DIR/static/.
# usage: tests/static/run.sh [BUILD_DIR]      (default: build-static; C1M_STATIC_JOBS=2 parallel jobs)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build-static}
jobs=${C1M_STATIC_JOBS:-2}

for tool in clang-tidy cppcheck python3; do
	command -v "$tool" >/dev/null || { echo "static: $tool is not installed" >&2; exit 2; }
done
if [ ! -f "$build/compile_commands.json" ]; then
	CC=${CC:-clang} meson setup "$build" "$root" >/dev/null || { echo "static: meson setup $build failed" >&2; exit 2; }
fi
out="$build/static"
mkdir -p "$out"

# The translation units under src/, absolute paths, once each (a file can be in several targets).
python3 - "$build/compile_commands.json" "$root/src/" >"$out/files.txt" <<'EOF'
import json, os, sys
seen = set()
for e in json.load(open(sys.argv[1])):
    f = os.path.realpath(os.path.join(e['directory'], e['file']))
    if f.startswith(sys.argv[2]) and f not in seen:
        seen.add(f)
        print(f)
EOF
[ -s "$out/files.txt" ] || { echo "static: no src/ files in $build/compile_commands.json" >&2; exit 2; }
echo "static: $(wc -l <"$out/files.txt") files in src/"

# clang-tidy finds /.clang-tidy by walking up from each file. Its exit status is not used: warnings do
# not set it, and compile errors come out as "error: ... [clang-diagnostic-error]" findings.
start=$SECONDS
xargs -P "$jobs" -n 1 clang-tidy -p "$build" --quiet <"$out/files.txt" >"$out/clang-tidy.txt" 2>"$out/clang-tidy.err" || true
echo "static: clang-tidy done in $((SECONDS - start)) s"

# cppcheck: the project's include root, then libevent's and the system's. The defines are the ones a C11
# gcc would predefine, without which glibc's headers stop at #error. gcc's own include dir is left out
# on purpose: cppcheck cannot expand its stdatomic.h and knows <stdatomic.h>/<stddef.h> from std.cfg.
start=$SECONDS
incs=(-I "$root/src")   # the one include root: headers are included with their path below src/
evinc=$(pkg-config --variable=includedir libevent_core 2>/dev/null || echo /usr/include)
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
incs+=(-I "$evinc" -I /usr/include)
[ -n "$multiarch" ] && [ -d "/usr/include/$multiarch" ] && incs+=(-I "/usr/include/$multiarch")
status=0
cppcheck -j "$jobs" --enable=warning,performance,portability --error-exitcode=1 --inline-suppr --std=c11 \
	--library=posix,gnu -D_GNU_SOURCE -D__STDC__=1 -D__STDC_VERSION__=201112L -D__GNUC__=12 \
	-D__x86_64__=1 -D__linux__=1 -D__CHAR_BIT__=8 "${incs[@]}" --config-exclude=/usr/include \
	--suppress=missingIncludeSystem --cppcheck-build-dir="$out" \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]' --quiet \
	--file-list="$out/files.txt" >"$out/cppcheck.txt" 2>&1 || status=$?
echo "static: cppcheck done in $((SECONDS - start)) s (exit $status before suppressions)"

python3 "$here/filter.py" "$root" "$build" "$here/suppressions.txt" \
	clang-tidy="$out/clang-tidy.txt" cppcheck="$out/cppcheck.txt"
