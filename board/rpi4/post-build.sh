#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# board/rpi4 post-build: $1 is the staged root filesystem (scripts/image.sh, or
# Buildroot's TARGET_DIR through BR2_ROOTFS_POST_BUILD_SCRIPT). Raspberry Pi OS names
# the browser chromium-browser; Debian and Buildroot name it chromium: keep autodetection.
set -eu
root=$1
mkdir -p "$root/etc/default"
printf '%s\n' '# Extra cardupd options for /etc/init.d/S50cardupd.' 'CARDUPD_ARGS=""' \
    > "$root/etc/default/cardupd"
