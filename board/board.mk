# SPDX-License-Identifier: BSD-2-Clause
# board/board.mk — boards, cross builds, the image and size figures (issue 7). Included at
# the end of the top Makefile. Every cross build has its own Kconfig file and build folder
# (build/<arch>/.config, build/<arch>/...), so it never touches the host's .config or build/.
#
#   make cross-arm64 | cross-armhf | cross   build/<arch>/cardupd for the arch's board
#   make cross-test                          unit tests of both arches under qemu-user
#   make image [IMAGE_BOARDS="rpi4 ..."]     build/image/cardupd-<board>.tar.gz (+ .squashfs)
#   make image-static-arm64 | -armhf         build/image-static/cardupd-<board>.tar.gz: the
#                                            static build's image (arm64's: the VM's rpi4-static)
#   make image-test                          unpack and check every image (the dynamic boards',
#                                            and arm64's static one), run under qemu
#   make size                                stripped binary sizes and image sizes
#   make static-arm64 | static-armhf         build/<arch>-static/cardupd and cardupctl, fully static
#                                            (pcsc-lite + libmicrohttpd from Debian sources,
#                                            Kconfig ADMIN off); also made by plain `make`
#                                            when the .config has CONFIG_STATIC=y
#   make static-host                         the same for the host (x86_64, its own gcc and
#                                            .a files: build/host-static), for `make bench`
#   make <board>_static_defconfig            board/<board>/defconfig + board/common/static.config
#   make config-matrix                       host build with ADMIN off (build/noadmin): builds,
#                                            links without GnuTLS/libcrypt, unit tests pass
#
# Toolchain and sysroot: scripts/cross-setup.sh <arch> (idempotent, only for these targets).

CROSS_ARCHS       := arm64 armhf
CROSS_BOARD_arm64 ?= rpi4
CROSS_BOARD_armhf ?= stm32mp1
CROSS_TRIPLET_arm64 := aarch64-linux-gnu
CROSS_TRIPLET_armhf := arm-linux-gnueabihf
CROSS_QEMU_arm64  := qemu-aarch64-static
CROSS_QEMU_armhf  := qemu-arm-static
IMAGE_BOARDS      ?= $(CROSS_BOARD_arm64) $(CROSS_BOARD_armhf)

cross_sysroot = $(CURDIR)/build/cross/$(1)/sysroot
board_arch    = $(shell sed -n 's/^BOARD_ARCH=//p' board/$(1)/board.env)
# The top Makefile's own rules, re-entered with another compiler, sysroot, Kconfig file
# and build folder. pkg-config finds the sysroot's .pc files and prefixes their paths.
# $(call cross_make,ARCH[,DIR]): build folder DIR (default build/ARCH), Kconfig file DIR/.config.
cross_make = PKG_CONFIG_LIBDIR=$(call cross_sysroot,$(1))/usr/lib/$(CROSS_TRIPLET_$(1))/pkgconfig:$(call cross_sysroot,$(1))/usr/share/pkgconfig \
	PKG_CONFIG_SYSROOT_DIR=$(call cross_sysroot,$(1)) \
	$(MAKE) --no-print-directory SANITIZE=0 BUILD=$(or $(2),build/$(1)) \
	    KCONFIG_CONFIG=$(or $(2),build/$(1))/.config \
	    CC="$(CROSS_TRIPLET_$(1))-gcc --sysroot=$(call cross_sysroot,$(1))" \
	    AR=$(CROSS_TRIPLET_$(1))-ar

# $(call gen_config,DIR,INPUT...): DIR/.config from the Kconfig fragments INPUT (kconfiglib's
# defconfig on their concatenation: a later line wins), replaced only when its content
# changes, so an unchanged board rebuilds nothing. The inner make makes DIR/autoconf.h.
define gen_config
	@mkdir -p $(1)
	@cat $(2) > $(1)/.config.in
	@KCONFIG_CONFIG=$(1)/.config.tmp $(PY) -m defconfig --kconfig Kconfig $(1)/.config.in >/dev/null
	@if cmp -s $(1)/.config.tmp $(1)/.config; then rm -f $(1)/.config.tmp; \
	    else mv $(1)/.config.tmp $(1)/.config; echo "  KCONFIG $(1)/.config ($(strip $(2)))"; fi
endef

.PHONY: cross cross-test image image-test size $(CROSS_ARCHS:%=cross-%) \
        $(CROSS_ARCHS:%=cross-setup-%) $(CROSS_ARCHS:%=cross-config-%) \
        $(CROSS_ARCHS:%=cross-test-%) $(addprefix image-,$(IMAGE_BOARDS) host) \
        static $(STATIC_ARCHS:%=static-%) $(STATIC_ARCHS:%=static-config-%) config-matrix \
        $(CROSS_ARCHS:%=image-static-%)

cross: $(CROSS_ARCHS:%=cross-%)

$(CROSS_ARCHS:%=cross-setup-%): cross-setup-%:
	@scripts/cross-setup.sh $*

# build/<arch>/.config from the board's defconfig.
$(CROSS_ARCHS:%=cross-config-%): cross-config-%:
	$(call gen_config,build/$*,board/$(CROSS_BOARD_$*)/defconfig)

$(CROSS_ARCHS:%=cross-%): cross-%: cross-setup-% cross-config-%
	@+$(call cross_make,$*) build/$*/cardupd build/$*/cardupctl
	@echo "  built   build/$*/cardupd (board/$(CROSS_BOARD_$*), $(CROSS_TRIPLET_$*))"

# Unit tests, cross-built by the top Makefile's own rule and run under qemu-user with the
# sysroot as the target's root (-L), which also holds the loader and cmocka.
$(CROSS_ARCHS:%=cross-test-%): cross-test-%: cross-setup-% cross-config-%
	@+$(call cross_make,$*) $(UNIT_SRCS:tests/unit/%.c=build/$*/tests/%)
	@echo "== unit tests, $* under $(CROSS_QEMU_$*)"
	@QEMU_LD_PREFIX=$(call cross_sysroot,$*) scripts/cross-run.sh $(CROSS_QEMU_$*) \
	    $(UNIT_SRCS:tests/unit/%.c=build/$*/tests/%)

cross-test: $(CROSS_ARCHS:%=cross-test-%)

# Fully static: objects of their own in build/<arch>-static (Kconfig ADMIN off, as the
# admin listener was built on GnuTLS, which has no static libraries there), linked by
# scripts/cross-static.sh against static libraries, the two that Debian lacks built from
# its source packages: pcsc-lite in build/<arch>-static, libmicrohttpd without HTTPS in
# build/mhd/<arch> (scripts/mhd-plain.sh, shared with the dynamic builds).
# The Kconfig file: the .config in use when it asks for it (CONFIG_STATIC=y, same
# CROSS_ARCH), else the arch's board defconfig with board/common/static.config on top.
# host (x86_64: the machine's gcc and /usr/lib/x86_64-linux-gnu's archives, build/host-static;
# `make bench` measures it): board/host/defconfig with ADMIN off, the Kconfig of
# `make config-matrix` (STATIC itself needs a CROSS_ARCH), its objects made by the top
# Makefile with the host's compiler as config-matrix's.
STATIC_ARCHS := $(CROSS_ARCHS) host
TC_STATIC := $(if $(TC_ARCH),$(shell sed -n 's/^CONFIG_STATIC=y$$/y/p' $(TC_CONFIG) 2>/dev/null))
static_inputs = $(if $(filter host,$(1)),board/host/defconfig board/common/noadmin.config,\
	$(if $(and $(filter $(1),$(TC_ARCH)),$(TC_STATIC)),$(TC_CONFIG),\
	board/$(CROSS_BOARD_$(1))/defconfig board/common/static.config))
# $(call host_make,DIR): the top Makefile for the host in build folder DIR (Kconfig file DIR/.config).
host_make = env -u PKG_CONFIG_LIBDIR -u PKG_CONFIG_SYSROOT_DIR $(MAKE) --no-print-directory \
	SANITIZE=0 BUILD=$(1) KCONFIG_CONFIG=$(1)/.config CC=cc AR=ar
static_make = $(if $(filter host,$(1)),$(call host_make,$(2)),$(call cross_make,$(1),$(2)))

$(STATIC_ARCHS:%=static-config-%): static-config-%:
	$(call gen_config,build/$*-static,$(call static_inputs,$*))
	@grep -qx '# CONFIG_ADMIN is not set' build/$*-static/.config || \
	    { echo "static-$*: build/$*-static/.config has ADMIN on" >&2; exit 1; }

$(CROSS_ARCHS:%=static-%): static-%: cross-setup-%
$(STATIC_ARCHS:%=static-%): static-%: static-config-%
	@+$(call static_make,$*,build/$*-static) build/$*-static/firmware/main.o build/$*-static/firmware/process.o \
	    build/$*-static/tools/cardupctl.o build/$*-static/libcardupd.a
	@scripts/cross-static.sh $*

static: $(CROSS_ARCHS:%=static-%)

# make bench measures build/host-static/cardupd beside the dynamic builds: relinked first
# when its pcsc-lite has been built once (then seconds), else the bench says to run
# `make static-host` (the first build configures pcsc-lite: a minute or more).
bench: $(if $(wildcard build/host-static/pcsc/src/.libs/libpcsclite.a),static-host)

# make <board>_static_defconfig: the board's defconfig with the static fragment on top.
%_static_defconfig: board/%/defconfig board/common/static.config
	cat $^ > $(KCONFIG_CONFIG).in
	$(PY) -m defconfig --kconfig Kconfig $(KCONFIG_CONFIG).in
	@rm -f $(KCONFIG_CONFIG).in

# A .config with CONFIG_STATIC=y (make <board>_static_defconfig): plain make also builds
# the static binary.
ifeq ($(TC_STATIC),y)
all: static-$(TC_ARCH)
endif

# Kconfig combinations other than the default, on the host: ADMIN off (build/noadmin)
# must build, link without GnuTLS and libcrypt, pass its unit tests, and warn about a
# configured admin.listen. (Run by image-test too: a few seconds.)
config-matrix:
	$(call gen_config,build/noadmin,board/host/defconfig board/common/noadmin.config)
	@+$(call host_make,build/noadmin) build/noadmin/cardupd build/noadmin/cardupctl unit
	@tests/image/config-matrix.sh build/noadmin

# ---- image -----------------------------------------------------------------------------
# One image per board: build/image/cardupd-<board>.tar.gz (and .squashfs when mksquashfs
# is there), from board/common/rootfs + board/<board>/rootfs + the stripped binaries.
image: $(IMAGE_BOARDS:%=image-%)

$(IMAGE_BOARDS:%=image-%): image-%:
	@+$(MAKE) --no-print-directory $(if $(filter host,$(call board_arch,$*)),$(BUILD)/cardupd $(BUILD)/cardupctl,cross-$(call board_arch,$*))
	@scripts/image.sh $* $(if $(filter host,$(call board_arch,$*)),$(BUILD),build/$(call board_arch,$*)) build/image

image-host:
	@+$(MAKE) --no-print-directory $(BUILD)/cardupd $(BUILD)/cardupctl
	@scripts/image.sh host $(BUILD) build/image

# The static build's image, for the arch's board (the one the VM test boots as
# rpi4-static): build/image-static/cardupd-<board>.tar.gz, the same image.sh on
# build/<arch>-static. image-test checks those of IMAGE_STATIC_ARCHS beside the others.
IMAGE_STATIC_ARCHS ?= arm64
$(CROSS_ARCHS:%=image-static-%): image-static-%: static-%
	@scripts/image.sh $(CROSS_BOARD_$*) build/$*-static build/image-static

image-test: image config-matrix $(IMAGE_STATIC_ARCHS:%=image-static-%)
	@tests/image/run.sh $(IMAGE_BOARDS) $(foreach a,$(IMAGE_STATIC_ARCHS),$(CROSS_BOARD_$(a))-static)

size: cross $(BUILD)/cardupd
	@scripts/size.sh $(BUILD) $(CROSS_ARCHS)
