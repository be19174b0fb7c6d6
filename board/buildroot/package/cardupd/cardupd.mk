################################################################################
#
# cardupd
#
################################################################################

# The source is the cardupd checkout holding this external tree (board/buildroot).
CARDUPD_VERSION = local
CARDUPD_SITE = $(BR2_EXTERNAL_CARDUPD_PATH)/../..
CARDUPD_SITE_METHOD = local
# Keep build products (host and cross sysroots, images) out of the copied source.
CARDUPD_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude build --exclude .config --exclude .config.old --exclude node_modules
CARDUPD_DEPENDENCIES = host-pkgconf pcsc-lite libmicrohttpd json-c bearssl

CARDUPD_BOARD = $(call qstrip,$(BR2_PACKAGE_CARDUPD_BOARD))
CARDUPD_BOARD_DIR = $(BR2_EXTERNAL_CARDUPD_PATH)/../$(CARDUPD_BOARD)

# kconfig-package: cardupd's Makefile has olddefconfig, menuconfig and savedefconfig
# (kconfiglib: python3-kconfiglib must be installed on the build host, where the
# Makefile's PY=/usr/bin/python3 runs). The board's defconfig holds non-default
# values only; olddefconfig expands it.
CARDUPD_KCONFIG_FILE = $(CARDUPD_BOARD_DIR)/defconfig
CARDUPD_KCONFIG_EDITORS = menuconfig
CARDUPD_KCONFIG_OPTS = PY=/usr/bin/python3

# Not $(TARGET_CONFIGURE_OPTS): it sets CPPFLAGS on the command line, which would
# replace the Makefile's own CPPFLAGS (include paths).
CARDUPD_MAKE_OPTS = \
	PY=/usr/bin/python3 \
	CC="$(TARGET_CC)" \
	AR="$(TARGET_AR)" \
	CFLAGS="$(TARGET_CFLAGS)" \
	LDFLAGS="$(TARGET_LDFLAGS)" \
	PKG_CONFIG="$(PKG_CONFIG_HOST_BINARY)" \
	VERSION="$(CARDUPD_VERSION)" \
	BUILD=build

define CARDUPD_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(CARDUPD_MAKE_OPTS) build/cardupd
endef

# The parts of board/common/rootfs that do not depend on the init system, then the
# board's own overlay (cardupd.conf, /etc/default files).
define CARDUPD_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(@D)/build/cardupd $(TARGET_DIR)/usr/sbin/cardupd
	if [ -x $(@D)/build/cardupctl ]; then \
		$(INSTALL) -D -m 0755 $(@D)/build/cardupctl $(TARGET_DIR)/usr/bin/cardupctl; \
	fi
	$(INSTALL) -D -m 0755 $(@D)/board/common/rootfs/usr/bin/cardupd-kiosk \
		$(TARGET_DIR)/usr/bin/cardupd-kiosk
	$(INSTALL) -D -m 0755 $(@D)/board/common/rootfs/usr/libexec/cardupd/kiosk-session-end \
		$(TARGET_DIR)/usr/libexec/cardupd/kiosk-session-end
	$(INSTALL) -D -m 0755 $(@D)/board/common/rootfs/usr/libexec/cardupd/own-config \
		$(TARGET_DIR)/usr/libexec/cardupd/own-config
	$(INSTALL) -D -m 0644 $(@D)/board/common/rootfs/etc/default/pcscd \
		$(TARGET_DIR)/etc/default/pcscd
	$(INSTALL) -D -m 0644 $(@D)/board/common/rootfs/etc/default/cardupd-kiosk \
		$(TARGET_DIR)/etc/default/cardupd-kiosk
	$(INSTALL) -D -m 0644 \
		$(@D)/board/common/rootfs/usr/share/polkit-1/rules.d/50-cardupd-pcscd.rules \
		$(TARGET_DIR)/usr/share/polkit-1/rules.d/50-cardupd-pcscd.rules
	cp -R $(@D)/board/$(CARDUPD_BOARD)/rootfs/. $(TARGET_DIR)/
	chmod 0700 $(TARGET_DIR)/etc/cardupd
	chmod 0600 $(TARGET_DIR)/etc/cardupd/cardupd.conf
endef

define CARDUPD_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(@D)/board/common/rootfs/etc/init.d/S45pcscd \
		$(TARGET_DIR)/etc/init.d/S45pcscd
	$(INSTALL) -D -m 0755 $(@D)/board/common/rootfs/etc/init.d/S50cardupd \
		$(TARGET_DIR)/etc/init.d/S50cardupd
endef

define CARDUPD_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(@D)/board/common/rootfs/usr/lib/systemd/system/cardupd.service \
		$(TARGET_DIR)/usr/lib/systemd/system/cardupd.service
	$(INSTALL) -D -m 0644 $(@D)/board/common/rootfs/usr/lib/tmpfiles.d/cardupd.conf \
		$(TARGET_DIR)/usr/lib/tmpfiles.d/cardupd.conf
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
