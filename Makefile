# SPDX-License-Identifier: BSD-2-Clause
# cardupd — top-level build. Kconfig (.config) decides what is built; the generated
# $(BUILD)/autoconf.h is the only way code sees an option.
#
#   make deps            install build/run/test dependencies (idempotent)
#   make [defconfig|<board>_defconfig|menuconfig|olddefconfig|savedefconfig]
#   make                 build $(BUILD)/cardupd
#   make test            unit + integration tests (SANITIZE=1: ASan+UBSan build in build/asan)
#   make demo            private pcscd + scripted card + demo CMS + cardupd
#   make bench           figures, never pass/fail

PY        := /usr/bin/python3
# A cross board's .config sets CONFIG_CROSS_ARCH: board/toolchain.mk then chooses the
# compiler, the sysroot and the build folder (before CC and BUILD get their defaults).
-include board/toolchain.mk
CC        ?= cc
SANITIZE  ?= 0
ifeq ($(SANITIZE),1)
BUILD     ?= build/asan
SANFLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD     ?= build
SANFLAGS  :=
endif
PKG_CONFIG ?= pkg-config
KCONFIG_CONFIG ?= .config
export KCONFIG_CONFIG
# Kconfig ADMIN (remote administration, default y) decides sources, tests and libraries:
# off only when the Kconfig file in use says so ("# CONFIG_ADMIN is not set"); a missing
# file or one from before the symbol existed gets the default, like autoconf.h does.
ADMIN     := $(if $(shell sed -n -e '/^\# CONFIG_ADMIN is not set/p' -e '/^CONFIG_ADMIN=n/p' \
             $(KCONFIG_CONFIG) 2>/dev/null),n,y)
# ADMIN: libcrypt for the password hashes (the listener's TLS and certificate are
# BearSSL's: web/admin/tls_term.c, admin_tls.c).
ifeq ($(ADMIN),y)
ADMIN_LIBS := -lcrypt
endif
V         ?= 0
Q         := $(if $(filter 1,$(V)),,@)

# -Werror only in the project's own runs (.ci/run exports WERROR=-Werror; make test, unit
# and cross-test default to it): a packager's newer compiler must not break the build.
ifneq ($(filter test unit integration cross-test config-matrix,$(MAKECMDGOALS)),)
WERROR    ?= -Werror
export WERROR
endif
WERROR    ?=
WARN      := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
             -Wpointer-arith -Wcast-qual -Wsign-compare $(WERROR)
CFLAGS    ?= -O2 -g
# Hardening as distributions build (dpkg-buildflags hardening=+all), whatever CFLAGS the
# packager passes: HARDEN=0 leaves it to the toolchain (Buildroot's BR2_SSP_*, BR2_RELRO_*,
# BR2_FORTIFY_SOURCE_*, BR2_PIC_PIE). _FORTIFY_SOURCE is left alone when the caller sets
# it, and off under the sanitizers (ASan checks more, and the two interfere).
HARDEN    ?= 1
ifeq ($(HARDEN),1)
HARDEN_CFLAGS  := -fstack-protector-strong -fstack-clash-protection -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now
ifeq ($(SANITIZE)$(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),0)
HARDEN_CPPFLAGS := -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
endif
# libmicrohttpd: MHD=plain links build/mhd/<arch>/libmicrohttpd.a, built without HTTPS
# from Debian's source (scripts/mhd-plain.sh, mk/mhd.mk; `make deps` fetches the source):
# Debian's libmicrohttpd.so maps GnuTLS and its eight libraries, ~1.8 MiB resident.
# MHD=system links the toolchain's -lmicrohttpd (Debian's package, Buildroot's). (The
# admin listener's TLS is BearSSL's, web/admin/tls_term.c: no libmicrohttpd HTTPS.)
MHD       ?= plain
MHD_ARCH  := $(or $(TC_ARCH),host)
ifeq ($(MHD),plain)
MHD_A     := build/mhd/$(MHD_ARCH)/libmicrohttpd.a
MHD_CPPFLAGS := -Ibuild/mhd/$(MHD_ARCH)/include
else ifeq ($(MHD),system)
MHD_PKGS  := libmicrohttpd
# firmware/process.c keeps GnuTLS (which Debian's libmicrohttpd links) uninitialised
MHD_CPPFLAGS := -DCARDUPD_MHD_SYSTEM=1
else
$(error MHD=$(MHD): expected plain or system)
endif
# pkg-config is asked once per make, package by package: $(BUILD)/autoconf.h (made before
# any object) stops the build naming a package it cannot find.
PKGS      := libpcsclite $(MHD_PKGS) json-c
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null))$(PKG_LIBS)
override CPPFLAGS += $(MHD_CPPFLAGS) -D_GNU_SOURCE -I$(BUILD) -I. -Ifirmware $(HARDEN_CPPFLAGS) $(PKG_CFLAGS)
ALL_CFLAGS = -std=c11 $(WARN) $(HARDEN_CFLAGS) $(CFLAGS) $(SANFLAGS) -MMD -MP
# BearSSL static when the toolchain has the .a (Debian ships it): only the code we call
# is mapped, ~0.25 MiB less resident than libbearssl.so (tests/bench/bench_footprint.py).
BEARSSL_LIB := $(if $(filter /%,$(shell $(CC) -print-file-name=libbearssl.a 2>/dev/null)),-l:libbearssl.a,-lbearssl)
LDLIBS    += $(PKG_LIBS) $(MHD_A) $(BEARSSL_LIB) $(ADMIN_LIBS) -lpthread
LDFLAGS   += $(HARDEN_LDFLAGS) $(SANFLAGS)

VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

CORE_SRCS := $(wildcard firmware/*.c firmware/*/*.c drivers/*.c web/*.c web/*/*.c)
CORE_SRCS := $(filter-out firmware/main.c firmware/process.c,$(CORE_SRCS))
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/assets.o $(BUILD)/admin_assets.o
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
# What only the remote administration uses (and the unit tests of it): with ADMIN off,
# web/admin/admin_none.c (the same interface, no-ops) stands in for it; with ADMIN on,
# admin_none.c is left out.
ADMIN_NONE := web/admin/admin_none.c
ADMIN_SRCS := $(filter-out $(ADMIN_NONE),$(wildcard web/admin/*.c))
ADMIN_UNITS := tests/unit/test_auth.c tests/unit/test_settings.c tests/unit/test_audit.c
ifeq ($(ADMIN),n)
CORE_OBJS := $(filter-out $(ADMIN_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/admin_assets.o,$(CORE_OBJS))
UNIT_SRCS := $(filter-out $(ADMIN_UNITS),$(UNIT_SRCS))
else
CORE_OBJS := $(filter-out $(ADMIN_NONE:%.c=$(BUILD)/%.o),$(CORE_OBJS))
endif
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
-include mk/loop.mk
ASSETS    := $(sort $(wildcard web/kiosk/page/*))
ADMIN_ASSETS := $(sort $(wildcard web/admin/page/*))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_SECONDS ?= 20

.PHONY: all fuzz deps defconfig menuconfig olddefconfig savedefconfig clean distclean \
        test unit integration demo bench check-config-header check-layering

all: $(BUILD)/cardupd $(BUILD)/cardupctl

# ---- Kconfig ---------------------------------------------------------------
.config:
	@echo "  no .config: using defaults (make defconfig)"
	$(PY) -m alldefconfig Kconfig >/dev/null

defconfig:
	$(PY) -m alldefconfig Kconfig
%_defconfig: board/%/defconfig
	$(PY) -m defconfig --kconfig Kconfig $<
menuconfig:
	$(PY) -m menuconfig Kconfig
olddefconfig:
	$(PY) -m olddefconfig Kconfig
savedefconfig:
	$(PY) -m savedefconfig --kconfig Kconfig --out defconfig
	@echo "  wrote ./defconfig (non-default values only)"

# Regenerated at every make from the Kconfig file in use (replaced only when its content
# changes, so nothing rebuilds for nothing): a build folder that two Kconfig files share
# (make <board>_defconfig && make, and make cross-<arch>) never keeps the other's header.
$(BUILD)/autoconf.h: $(KCONFIG_CONFIG) Kconfig FORCE
	@mkdir -p $(@D)
	@for p in $(PKGS); do $(PKG_CONFIG) --print-errors --exists $$p || { echo "cardupd: pkg-config" \
	    "($(PKG_CONFIG)) finds no $$p ($$p.pc): install its development package (make deps)" \
	    "or point PKG_CONFIG_PATH at it" >&2; exit 1; }; done
	$(Q)$(PY) -m genconfig --header-path $@.tmp Kconfig
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/version.h: FORCE
	@mkdir -p $(@D)
	@echo '#define CARDUPD_VERSION "$(VERSION)"' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
FORCE:

# ---- objects -----------------------------------------------------------------
# version.h is order-only: the .d files track which objects really include it, so a
# new commit does not rebuild everything.
$(BUILD)/%.o: %.c $(BUILD)/autoconf.h | $(BUILD)/version.h
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/assets.c: scripts/embed.py $(ASSETS)
	@mkdir -p $(@D)
	$(PY) scripts/embed.py $@ web_assets $(ASSETS)

$(BUILD)/admin_assets.c: scripts/embed.py $(ADMIN_ASSETS)
	@mkdir -p $(@D)
	$(PY) scripts/embed.py $@ admin_assets $(ADMIN_ASSETS)

$(BUILD)/assets.o $(BUILD)/admin_assets.o: $(BUILD)/%.o: $(BUILD)/%.c $(BUILD)/autoconf.h
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libcardupd.a: $(CORE_OBJS)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BUILD)/cardupd: $(BUILD)/firmware/main.o $(BUILD)/firmware/process.o $(BUILD)/libcardupd.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter-out $(MHD_A) %.choice,$^) $(LDLIBS)

# cardupctl: the local shell's client of the running daemon's kiosk API (SPEC §4).
$(BUILD)/cardupctl: $(BUILD)/tools/cardupctl.o $(BUILD)/libcardupd.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter-out $(MHD_A) %.choice,$^) $(LDLIBS)

# ---- tests ---------------------------------------------------------------------
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcardupd.a
	@mkdir -p $(@D)
	@echo "  CC/LD   $@"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-missing-prototypes -DVECTORS_DIR='"$(CURDIR)/tests/vectors"' \
	    -o $@ $< $(BUILD)/libcardupd.a $(LDFLAGS) $(LDLIBS) -lcmocka

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

integration: $(BUILD)/cardupd $(BUILD)/cardupctl
	CARDUPD_BIN=$(CURDIR)/$(BUILD)/cardupd $(PY) -m pytest -q -p no:cacheprovider tests/integration

test: deps
	@$(MAKE) --no-print-directory $(BUILD)/cardupd $(BUILD)/cardupctl $(UNIT_BINS)
	@scripts/run-tests.sh $(BUILD) $(UNIT_BINS)

deps:
	@scripts/deps.sh

# The rooms' include rules (docs/architecture.md): a lower floor never includes a higher
# one, the pure core no edge.
check-layering:
	@$(PY) scripts/check-layering.py

# libFuzzer targets, one per parser of untrusted input; each runs FUZZ_SECONDS.
fuzz: $(BUILD)/autoconf.h $(BUILD)/version.h
	@scripts/fuzz.sh $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_SRCS)

demo: deps $(BUILD)/cardupd
	$(PY) tests/rig/demo.py --cardupd $(BUILD)/cardupd

bench: deps $(BUILD)/cardupd
	@CARDUPD_BIN=$(CURDIR)/$(BUILD)/cardupd scripts/bench.sh

clean:
	rm -rf build

distclean: clean
	rm -f .config .config.old defconfig

# Boards, cross builds, the image and size figures (issue 7) live in board/board.mk;
# further targets of their own in mk/*.mk (soak, faults, install, man pages, the VM test…).
-include board/board.mk
-include $(sort $(wildcard mk/*.mk))

# Header dependencies of this build's own objects only: build/ also holds unpacked guest
# and sysroot trees (build/systest, build/vm, build/cross) whose files may end in .d.
-include $(wildcard $(addsuffix /*.d,$(BUILD) $(BUILD)/firmware $(BUILD)/firmware/base \
           $(BUILD)/firmware/core $(BUILD)/firmware/cms $(BUILD)/drivers $(BUILD)/web \
           $(BUILD)/web/kiosk $(BUILD)/web/admin $(BUILD)/tools $(BUILD)/tests))
