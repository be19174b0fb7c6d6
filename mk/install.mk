# SPDX-License-Identifier: BSD-2-Clause
# mk/install.mk — make install: the one install list, used by packagers, scripts/image.sh,
# the Buildroot package and debian/rules. Included from the top Makefile.
#
#   make install DESTDIR=/tmp/x PREFIX=/usr [INIT=systemd|sysv|all] [BOARD=rpi4]
#   make install-files ...       the same without building (BUILD= names the built binaries:
#                                scripts/image.sh installs a cross build this way)
#
# Installs: cardupd (SBINDIR), cardupctl and the kiosk launcher cardupd-kiosk (BINDIR), the
# hook and own-config helpers (LIBEXECDIR/cardupd), the man pages (INSTALL_MAN=0: none), the
# default configuration (SYSCONFDIR/cardupd/cardupd.conf, 0700/0600; kept when one is
# there; BOARD=NAME takes board/NAME/rootfs instead), /etc/default/cardupd-kiosk, the pcscd
# hints (/etc/default/pcscd; PCSCD_DEFAULTS=0: none, pcscd's package may own that file) and
# the polkit rule for pcsc-lite builds with polkit; INIT=systemd the unit, sysusers.d and
# tmpfiles.d files, INIT=sysv the BusyBox init scripts S45pcscd and S50cardupd, INIT=all both.
# Owners are not set here (DESTDIR is usually not root's): /etc/cardupd belongs to user
# cardupd, whom the Debian postinst, the image (scripts/image.sh) and Buildroot's
# CARDUPD_USERS/CARDUPD_PERMISSIONS create and give it.

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
LIBEXECDIR  ?= $(PREFIX)/libexec
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
# /usr's configuration lives in /etc, /usr/local's in /usr/local/etc.
SYSCONFDIR  ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
INITDIR     ?= $(SYSCONFDIR)/init.d
INIT        ?= systemd
INSTALL_MAN ?= 1
PCSCD_DEFAULTS ?= 1
BOARD       ?=
INSTALL     ?= install

ifeq ($(filter systemd sysv all,$(INIT)),)
$(error INIT=$(INIT): expected systemd, sysv or all)
endif

INST_ROOT := board/common/rootfs
INST_CONF := $(if $(BOARD),board/$(BOARD)/rootfs/etc/cardupd/cardupd.conf,board/common/cardupd.conf)
INST_MAN  := $(wildcard docs/man/cardupd.8 docs/man/cardupctl.1 docs/man/cardupd-kiosk.1 docs/man/cardupd.conf.5)
# The shipped files name /usr/sbin, /usr/bin, /usr/libexec and /etc/cardupd: another
# PREFIX or SYSCONFDIR is written into them as they are installed.
INST_SED  := sed -e 's|/usr/sbin/cardupd|$(SBINDIR)/cardupd|g' \
	-e 's|/usr/libexec/cardupd/|$(LIBEXECDIR)/cardupd/|g' \
	-e 's|/usr/bin/cardupd-kiosk|$(BINDIR)/cardupd-kiosk|g' \
	-e 's|/etc/cardupd|$(SYSCONFDIR)/cardupd|g' \
	-e 's|/etc/default/|$(SYSCONFDIR)/default/|g'
D := $(DESTDIR)

.PHONY: install install-files uninstall

install: $(BUILD)/cardupd $(BUILD)/cardupctl
	@+$(MAKE) --no-print-directory install-files

# inst_sed MODE SRC DEST: install SRC with the paths above rewritten.
inst_sed = $(INST_SED) $(2) > $(3).tmp && chmod $(1) $(3).tmp && mv $(3).tmp $(3)

install-files:
	@test -x $(BUILD)/cardupd || { echo "install: $(BUILD)/cardupd not built (make)" >&2; exit 1; }
	@echo "  INSTALL $(D)$(PREFIX) (INIT=$(INIT)$(if $(BOARD), BOARD=$(BOARD)))"
	$(Q)$(INSTALL) -d -m 0755 $(D)$(SBINDIR) $(D)$(BINDIR) $(D)$(LIBEXECDIR)/cardupd \
	    $(D)$(SYSCONFDIR)/default $(D)$(DATADIR)/polkit-1/rules.d
	$(Q)$(INSTALL) -m 0755 $(BUILD)/cardupd $(D)$(SBINDIR)/cardupd
	$(Q)if [ -x $(BUILD)/cardupctl ]; then \
	    $(INSTALL) -m 0755 $(BUILD)/cardupctl $(D)$(BINDIR)/cardupctl; fi
	$(Q)$(call inst_sed,0755,$(INST_ROOT)/usr/bin/cardupd-kiosk,$(D)$(BINDIR)/cardupd-kiosk)
	$(Q)for f in kiosk-session-end own-config; do \
	    $(call inst_sed,0755,$(INST_ROOT)/usr/libexec/cardupd/$$f,$(D)$(LIBEXECDIR)/cardupd/$$f) \
	    || exit 1; done
	$(Q)$(call inst_sed,0644,$(INST_ROOT)/etc/default/cardupd-kiosk,$(D)$(SYSCONFDIR)/default/cardupd-kiosk)
ifeq ($(PCSCD_DEFAULTS),1)
	$(Q)$(INSTALL) -m 0644 $(INST_ROOT)/etc/default/pcscd $(D)$(SYSCONFDIR)/default/pcscd
endif
	$(Q)$(INSTALL) -m 0644 $(INST_ROOT)/usr/share/polkit-1/rules.d/50-cardupd-pcscd.rules \
	    $(D)$(DATADIR)/polkit-1/rules.d/50-cardupd-pcscd.rules
	$(Q)$(INSTALL) -d -m 0700 $(D)$(SYSCONFDIR)/cardupd
	$(Q)if [ -e $(D)$(SYSCONFDIR)/cardupd/cardupd.conf ]; then \
	    echo "  KEPT    $(D)$(SYSCONFDIR)/cardupd/cardupd.conf"; else \
	    $(call inst_sed,0600,$(INST_CONF),$(D)$(SYSCONFDIR)/cardupd/cardupd.conf); fi
ifeq ($(INSTALL_MAN),1)
	$(Q)for m in $(INST_MAN); do s=$${m##*.}; \
	    $(INSTALL) -d -m 0755 $(D)$(MANDIR)/man$$s && \
	    $(INSTALL) -m 0644 $$m $(D)$(MANDIR)/man$$s/ || exit 1; done
endif
ifneq ($(filter systemd all,$(INIT)),)
	$(Q)$(INSTALL) -d -m 0755 $(D)$(UNITDIR) $(D)$(SYSUSERSDIR) $(D)$(TMPFILESDIR)
	$(Q)$(call inst_sed,0644,$(INST_ROOT)/usr/lib/systemd/system/cardupd.service,$(D)$(UNITDIR)/cardupd.service)
	$(Q)$(INSTALL) -m 0644 $(INST_ROOT)/usr/lib/sysusers.d/cardupd.conf $(D)$(SYSUSERSDIR)/cardupd.conf
	$(Q)$(INSTALL) -m 0644 $(INST_ROOT)/usr/lib/tmpfiles.d/cardupd.conf $(D)$(TMPFILESDIR)/cardupd.conf
endif
ifneq ($(filter sysv all,$(INIT)),)
	$(Q)$(INSTALL) -d -m 0755 $(D)$(INITDIR)
	$(Q)$(call inst_sed,0755,$(INST_ROOT)/etc/init.d/S45pcscd,$(D)$(INITDIR)/S45pcscd)
	$(Q)$(call inst_sed,0755,$(INST_ROOT)/etc/init.d/S50cardupd,$(D)$(INITDIR)/S50cardupd)
endif

# The files install-files writes, except the configuration (the administrator's).
uninstall:
	rm -f $(D)$(SBINDIR)/cardupd $(D)$(BINDIR)/cardupctl $(D)$(BINDIR)/cardupd-kiosk \
	    $(D)$(LIBEXECDIR)/cardupd/kiosk-session-end $(D)$(LIBEXECDIR)/cardupd/own-config \
	    $(D)$(SYSCONFDIR)/default/cardupd-kiosk \
	    $(D)$(DATADIR)/polkit-1/rules.d/50-cardupd-pcscd.rules \
	    $(D)$(MANDIR)/man8/cardupd.8 $(D)$(MANDIR)/man1/cardupctl.1 $(D)$(MANDIR)/man1/cardupd-kiosk.1 \
	    $(D)$(MANDIR)/man5/cardupd.conf.5 $(D)$(UNITDIR)/cardupd.service \
	    $(D)$(SYSUSERSDIR)/cardupd.conf $(D)$(TMPFILESDIR)/cardupd.conf \
	    $(D)$(INITDIR)/S45pcscd $(D)$(INITDIR)/S50cardupd
	-rmdir $(D)$(LIBEXECDIR)/cardupd

# ---- packaging checks (tests/pkg) -------------------------------------------------------
.PHONY: pkg-test
pkg-test: $(BUILD)/cardupd $(BUILD)/cardupctl
	@rc=0; tests/pkg/run.sh $(BUILD) || rc=1; tests/pkg/buildroot.sh || rc=1; exit $$rc

# The Debian package (debian/), built in a copy of the tree: build/deb/cardupd_*.deb.
# DEB_ARCH=arm64: cross-built (dpkg-buildpackage -a; needs the arch's -dev packages).
.PHONY: deb deb-test
deb deb-test:
	@tests/pkg/deb.sh build/deb $(DEB_ARCH)

# The service as it really runs: the .deb installed with dpkg -i in an x86_64 guest with
# systemd as PID 1 (QEMU), cardupd started by its unit, sandboxed, as user cardupd.
.PHONY: systemd-test
systemd-test: deb-test
	@tests/pkg/systemd/run.sh $$(ls build/deb/cardupd_*_$$(dpkg --print-architecture).deb | tail -1)
