#!/usr/bin/env bash
# Shrinks the fuzz corpora in tests/fuzz/corpus/. Every fuzz test run adds the inputs that reached new
# code, so the directories only grow; this keeps the smallest set of inputs with the same coverage
# (libFuzzer -merge=1 into an empty directory) and puts it back in place. The hand-written seed-* files
# are always kept, so the realistic /proc, argv and dmesg samples stay readable in the repository.
# usage: tests/fuzz/minimize.sh [BUILD_DIR]   (a build configured with -Dfuzz=enabled; default build-fuzz)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../../build-fuzz}
[ -d "$build/tests/fuzz" ] || { echo "minimize: no fuzz targets in $build (configure it with -Dfuzz=enabled)" >&2; exit 2; }

for dir in "$here"/corpus/*/; do
	name=$(basename "$dir")
	exe="$build/tests/fuzz/fuzz_$name"
	[ -x "$exe" ] || { echo "minimize: $exe not built, skipping $name" >&2; continue; }
	tmp=$(mktemp -d)
	before=$(find "$dir" -type f | wc -l)
	"$exe" -merge=1 "$tmp" "$dir" >"$tmp.log" 2>&1 || { cat "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; exit 1; }
	find "$dir" -type f ! -name 'seed-*' -delete
	find "$tmp" -type f -exec cp -n {} "$dir" \;
	# A merged input identical to a seed is already there under its seed name.
	for f in "$dir"/seed-*; do
		[ -f "$f" ] && rm -f "$dir/$(sha1sum "$f" | cut -d' ' -f1)"
	done
	echo "minimize: $name: $before -> $(find "$dir" -type f | wc -l) inputs"
	rm -rf "$tmp" "$tmp.log"
done
