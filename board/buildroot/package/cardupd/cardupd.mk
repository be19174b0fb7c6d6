# SPDX-License-Identifier: BSD-2-Clause
################################################################################
#
# cardupd
#
################################################################################

# The source is the cardupd checkout holding this external tree (board/buildroot).
CARDUPD_VERSION = local
CARDUPD_SITE = $(BR2_EXTERNAL_CARDUPD_PATH)/../..
CARDUPD_SITE_METHOD = local
CARDUPD_LICENSE = BSD-2-Clause
CARDUPD_LICENSE_FILES = LICENSE
# Keep build products (host and cross sysroots, images) out of the copied source.
CARDUPD_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude build --exclude .config --exclude .config.old --exclude node_modules
CARDUPD_DEPENDENCIES = host-pkgconf host-python3 host-python-kconfiglib \
	pcsc-lite libmicrohttpd json-c bearssl

CARDUPD_BOARD = $(call qstrip,$(BR2_PACKAGE_CARDUPD_BOARD))
CARDUPD_BOARD_DIR = $(BR2_EXTERNAL_CARDUPD_PATH)/../$(CARDUPD_BOARD)

# kconfig-package: cardupd's Makefile has olddefconfig, menuconfig and savedefconfig,
# run by kconfiglib (python3 -m ...) from Buildroot's host-python3 and
# host-python-kconfiglib (package/python-kconfiglib), never the build machine's Python.
# The board's defconfig holds non-default values only; olddefconfig expands it.
CARDUPD_PY = $(HOST_DIR)/bin/python3
CARDUPD_KCONFIG_FILE = $(CARDUPD_BOARD_DIR)/defconfig
CARDUPD_KCONFIG_EDITORS = menuconfig
CARDUPD_KCONFIG_OPTS = PY=$(CARDUPD_PY)
CARDUPD_KCONFIG_DEPENDENCIES = host-python3 host-python-kconfiglib

# The admin listener needs libxcrypt (its TLS is BearSSL's): the Buildroot option decides
# cardupd's Kconfig ADMIN, so the libraries selected always match it.
ifeq ($(BR2_PACKAGE_CARDUPD_ADMIN),y)
CARDUPD_DEPENDENCIES += libxcrypt
define CARDUPD_KCONFIG_FIXUP_CMDS
	$(call KCONFIG_ENABLE_OPT,CONFIG_ADMIN,$(@D)/.config)
endef
else
define CARDUPD_KCONFIG_FIXUP_CMDS
	$(call KCONFIG_DISABLE_OPT,CONFIG_ADMIN,$(@D)/.config)
endef
endif

# Not $(TARGET_CONFIGURE_OPTS): it sets CPPFLAGS on the command line, which would
# replace the Makefile's own CPPFLAGS (include paths). HARDEN=0: the toolchain wrapper
# applies Buildroot's own hardening choices (BR2_SSP_*, BR2_RELRO_*, BR2_FORTIFY_SOURCE_*,
# BR2_PIC_PIE). No -Werror (WERROR is empty outside the project's own CI). MHD=system:
# Buildroot's own libmicrohttpd (without HTTPS unless BR2_PACKAGE_LIBMICROHTTPD_SSL), not
# the Debian-source copy of the project's own builds.
CARDUPD_MAKE_OPTS = \
	PY=$(CARDUPD_PY) \
	CC="$(TARGET_CC)" \
	AR="$(TARGET_AR)" \
	CFLAGS="$(TARGET_CFLAGS)" \
	LDFLAGS="$(TARGET_LDFLAGS)" \
	PKG_CONFIG="$(PKG_CONFIG_HOST_BINARY)" \
	VERSION="$(CARDUPD_VERSION)" \
	HARDEN=0 \
	MHD=system \
	BUILD=build

define CARDUPD_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(CARDUPD_MAKE_OPTS) build/cardupd build/cardupctl
endef

# The project's own install list (mk/install.mk): binaries, kiosk launcher, hook, the
# board's cardupd.conf, pcscd hints, and the init files of the init system in use. No
# man pages on the target.
ifeq ($(BR2_INIT_SYSTEMD),y)
CARDUPD_INIT = systemd
else
CARDUPD_INIT = sysv
endif

define CARDUPD_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(CARDUPD_MAKE_OPTS) install-files \
		DESTDIR=$(TARGET_DIR) PREFIX=/usr INIT=$(CARDUPD_INIT) INSTALL_MAN=0 \
		BOARD=$(CARDUPD_BOARD)
endef

# Users come from Buildroot's mkusers (for both init systems) rather than sysusers.d, with
# the same fixed UID/GID as usr/lib/sysusers.d/cardupd.conf (470): the image tarball and
# squashfs ship /etc/cardupd owned by that number (tests/image/run.sh checks they agree).
define CARDUPD_USERS
	cardupd 470 cardupd 470 * /var/lib/cardupd - - cardupd smart-card update agent
endef
ifeq ($(BR2_PACKAGE_CARDUPD_KIOSK_USER),y)
define CARDUPD_USERS +=
	kiosk -1 kiosk -1 * /home/kiosk /bin/sh cardupd cardupd kiosk browser
endef
endif

# The daemon owns its configuration: the remote administration saves settings and uploaded
# trust anchors in /etc/cardupd (temp file, rename) and applies them live.
define CARDUPD_PERMISSIONS
	/etc/cardupd d 0700 cardupd cardupd - - - - -
	/etc/cardupd/cardupd.conf f 0600 cardupd cardupd - - - - -
endef

$(eval $(kconfig-package))
