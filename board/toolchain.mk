# SPDX-License-Identifier: BSD-2-Clause
# board/toolchain.mk — lets `make <board>_defconfig && make` cross-build. Meant to be
# included by the top Makefile *before* it sets CC and BUILD (see docs/boards.md). When
# the .config in use sets CONFIG_CROSS_ARCH (arm64|armhf) and the caller chose no compiler,
# it selects Debian's cross compiler, the sysroot of Debian packages made by
# scripts/cross-setup.sh, and build/<arch> as the build folder.
TC_CONFIG := $(or $(KCONFIG_CONFIG),.config)
TC_ARCH   := $(shell sed -n 's/^CONFIG_CROSS_ARCH="\(.*\)"$$/\1/p' $(TC_CONFIG) 2>/dev/null)
TC_TRIPLET_arm64 := aarch64-linux-gnu
TC_TRIPLET_armhf := arm-linux-gnueabihf

ifneq ($(TC_ARCH),)
ifeq ($(origin CC),default)
TC_TRIPLET := $(TC_TRIPLET_$(TC_ARCH))
ifeq ($(TC_TRIPLET),)
$(error $(TC_CONFIG): CONFIG_CROSS_ARCH="$(TC_ARCH)": expected arm64 or armhf)
endif
TC_SYSROOT := $(CURDIR)/build/cross/$(TC_ARCH)/sysroot
CC        := $(TC_TRIPLET)-gcc --sysroot=$(TC_SYSROOT)
AR        := $(TC_TRIPLET)-ar
BUILD     ?= build/$(TC_ARCH)
export PKG_CONFIG_LIBDIR := $(TC_SYSROOT)/usr/lib/$(TC_TRIPLET)/pkgconfig:$(TC_SYSROOT)/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR := $(TC_SYSROOT)
# Toolchain and sysroot on first use (idempotent, silent once in place); not for the
# configuration and cleaning targets.
ifeq ($(filter %config clean distclean deps,$(MAKECMDGOALS)),)
TC_SETUP := $(shell scripts/cross-setup.sh $(TC_ARCH) >&2 || echo failed)
ifneq ($(TC_SETUP),)
$(error scripts/cross-setup.sh $(TC_ARCH) failed)
endif
endif
endif
endif
