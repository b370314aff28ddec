#!/usr/bin/env bash
# The Debian package (integration.package): dpkg-buildpackage -us -uc -b on a copy of the source tree in a
# private directory (the build writes debian/ and obj-*/ into its tree, never into this one), lintian with
# no error, then the .deb unpacked into a throwaway root where c1m-doctor --version runs, and what the
# package holds: the binaries, man pages, the unit (not enabled), the examples, nothing in /etc. The
# unit tests are not run again inside the package build (DEB_BUILD_OPTIONS=nocheck): stage 1 runs them.
# Skipped (77) without dpkg-buildpackage, and in a sanitizer build: the package is built once, normally.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version=$1
if [ -n "${C1M_SANITIZE:-}" ] && [ "$C1M_SANITIZE" != none ]; then
	echo "SKIP: the .deb is built by the normal build's run of this test"
	exit 77
fi
command -v dpkg-buildpackage >/dev/null || { echo "SKIP: dpkg-buildpackage is not installed (dpkg-dev)"; exit 77; }

# The tree as it is now (uncommitted edits included, build dirs and ignored files left out).
src=$T_DIR/c1m
mkdir -p "$src"
if git -C "$C1M_SOURCE" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$C1M_SOURCE" ls-files -z --cached --others --exclude-standard |
		(cd "$C1M_SOURCE" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
		tar -C "$C1M_SOURCE" --null -T - -cf - | tar -C "$src" -xf -
else
	tar -C "$C1M_SOURCE" --exclude='./build*' -cf - . | tar -C "$src" -xf -
fi
[ -f "$src/debian/control" ] || t_fail "no debian/control in the copied tree"

t0=$SECONDS
(cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >"$T_DIR/dpkg-buildpackage.log" 2>&1 ||
	t_fail "dpkg-buildpackage -us -uc -b failed: $(tail -n 20 "$T_DIR/dpkg-buildpackage.log")"
deb=$(ls "$T_DIR"/c1m_"$version"_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || t_fail "no c1m_${version}_*.deb next to the tree: $(ls "$T_DIR")"
t_log "built $(basename "$deb") in $((SECONDS - t0)) s"

if command -v lintian >/dev/null; then
	lintian --fail-on error "$T_DIR"/c1m_"$version"_*.changes >"$T_DIR/lintian.log" 2>&1 ||
		t_fail "lintian reports errors: $(grep '^E:' "$T_DIR/lintian.log" || tail -n 5 "$T_DIR/lintian.log")"
	t_log "lintian: no errors ($(grep -c '^W:' "$T_DIR/lintian.log" || true) warnings)"
else
	t_log "lintian is not installed: not run"
fi

# A throwaway root: the package's files, run from there.
root=$T_DIR/root
dpkg -x "$deb" "$root"
out=$("$root/usr/bin/c1m-doctor" --version) || t_fail "c1m-doctor --version from the .deb failed"
[ "$out" = "c1m-doctor $version" ] || t_fail "c1m-doctor --version from the .deb: '$out'"
for f in usr/bin/c1m-server usr/bin/c1m-epoll usr/bin/c1m-client usr/bin/c1m-tuning \
	usr/share/man/man8/c1m-server.8.gz usr/share/man/man8/c1m-epoll.8.gz usr/share/man/man1/c1m-client.1.gz \
	usr/share/man/man8/c1m-doctor.8.gz usr/share/man/man7/c1m-tuning.7.gz lib/systemd/system/c1m-server.service \
	usr/share/doc/c1m/examples/sysctl.d/90-c1m.conf usr/share/doc/c1m/examples/limits.d/90-c1m.conf \
	usr/share/bash-completion/completions/c1m-server usr/share/doc/c1m/copyright; do
	[ -e "$root/$f" ] || t_fail "the .deb has no /$f"
done
[ ! -e "$root/etc" ] || t_fail "the .deb installs below /etc: $(find "$root/etc")"
grep -q '^ExecStart=/usr/bin/c1m-server ' "$root/lib/systemd/system/c1m-server.service" ||
	t_fail "the packaged unit does not run /usr/bin/c1m-server"
dpkg-deb -e "$deb" "$T_DIR/control"
! grep -qs 'deb-systemd-invoke.*start' "$T_DIR/control/postinst" || t_fail "the package starts c1m-server on install"
echo "PASS: $(basename "$deb") builds, lintian finds no error, and c1m-doctor --version runs from it: $out"
