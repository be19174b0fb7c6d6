# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# private-apt.sh — sourced (". scripts/private-apt.sh") by the scripts that fetch Debian
# packages for another architecture: scripts/cross-setup.sh (sysroots),
# scripts/cross-static.sh (source packages) and tests/vm/fetch-debs.sh (the VM guests'
# base). A *private* apt instance: its own state, lists, cache and architecture in one
# folder, the machine's Debian sources copied there; the machine's dpkg architectures,
# sources and lists are never touched, so nothing here can make the machine's
# `apt-get update` fail.
#
#   papt_init DIR ARCH      a new, empty instance in DIR (what was there is removed)
#   papt_use DIR ARCH       use the instance made before in DIR
#   papt apt-get|apt-cache ARGS...     run apt on the instance
#   papt_update LOG WHO     `apt-get update` into LOG; an index that fails (e.g. a mirror
#                           mid-sync for this architecture) is reported as WHO's warning
#                           and the others are used: a package really missing fails later
# POSIX sh; the caller runs with `set -eu`.

papt_use() {
	papt_dir=$1
	papt_arch=$2
}

papt_init() {
	papt_use "$1" "$2"
	rm -rf "$papt_dir"
	mkdir -p "$papt_dir/lists/partial" "$papt_dir/cache/archives/partial" \
	    "$papt_dir/sources"
	: > "$papt_dir/status"
	# The machine's Debian sources, enabled ones only (.list / .sources).
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    /etc/apt/sources.list.d/*.sources; do
		if [ -f "$f" ]; then cp "$f" "$papt_dir/sources/"; fi
	done
}

papt() {
	papt_cmd=$1
	shift
	"$papt_cmd" -o Dir::State="$papt_dir" -o Dir::State::Lists="$papt_dir/lists" \
	    -o Dir::State::status="$papt_dir/status" -o Dir::Cache="$papt_dir/cache" \
	    -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$papt_dir/sources" \
	    -o APT::Architecture="$papt_arch" -o APT::Architectures="$papt_arch" \
	    -o Debug::NoLocking=1 -o APT::Sandbox::User=root -q "$@"
}

papt_update() {
	papt apt-get update >"$1" 2>&1 ||
	    { echo "$2: warning: private apt-get update reported errors:" >&2;
	      grep '^E:' "$1" | head -3 >&2; }
}
