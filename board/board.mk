# board/board.mk — boards, cross builds, the image and size figures (issue 7). Included at
# the end of the top Makefile. Every cross build has its own Kconfig file and build folder
# (build/<arch>/.config, build/<arch>/...), so it never touches the host's .config or build/.
#
#   make cross-arm64 | cross-armhf | cross   build/<arch>/cardupd for the arch's board
#   make cross-test                          unit tests of both arches under qemu-user
#   make image [IMAGE_BOARDS="rpi4 ..."]     build/image/cardupd-<board>.tar.gz (+ .squashfs)
#   make image-test                          unpack and check every image, run under qemu
#   make size                                stripped binary sizes and image sizes
#   make static-arm64 | static-armhf         build/<arch>-static/cardupd, fully static
#                                            (pcsc-lite + libmicrohttpd from Debian sources)
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
cross_make = PKG_CONFIG_LIBDIR=$(call cross_sysroot,$(1))/usr/lib/$(CROSS_TRIPLET_$(1))/pkgconfig:$(call cross_sysroot,$(1))/usr/share/pkgconfig \
	PKG_CONFIG_SYSROOT_DIR=$(call cross_sysroot,$(1)) \
	$(MAKE) --no-print-directory SANITIZE=0 BUILD=build/$(1) KCONFIG_CONFIG=build/$(1)/.config \
	    CC="$(CROSS_TRIPLET_$(1))-gcc --sysroot=$(call cross_sysroot,$(1))" \
	    AR=$(CROSS_TRIPLET_$(1))-ar

.PHONY: cross cross-test image image-test size $(CROSS_ARCHS:%=cross-%) \
        $(CROSS_ARCHS:%=cross-setup-%) $(CROSS_ARCHS:%=cross-config-%) \
        $(CROSS_ARCHS:%=cross-test-%) $(addprefix image-,$(IMAGE_BOARDS) host) \
        static $(CROSS_ARCHS:%=static-%)

cross: $(CROSS_ARCHS:%=cross-%)

$(CROSS_ARCHS:%=cross-setup-%): cross-setup-%:
	@scripts/cross-setup.sh $*

# build/<arch>/.config from the board's defconfig, then its autoconf.h; both are replaced
# only when their content changes, so an unchanged board rebuilds nothing.
# (The top .config must exist first: the inner make's autoconf.h rule names it.)
$(CROSS_ARCHS:%=cross-config-%): cross-config-%: .config
	@mkdir -p build/$*
	@KCONFIG_CONFIG=build/$*/.config.tmp $(PY) -m defconfig --kconfig Kconfig \
	    board/$(CROSS_BOARD_$*)/defconfig >/dev/null
	@if cmp -s build/$*/.config.tmp build/$*/.config; then rm -f build/$*/.config.tmp; \
	    else mv build/$*/.config.tmp build/$*/.config; \
	    echo "  KCONFIG build/$*/.config (board/$(CROSS_BOARD_$*)/defconfig)"; fi
	@KCONFIG_CONFIG=build/$*/.config $(PY) -m genconfig --header-path build/$*/autoconf.h.tmp Kconfig
	@if cmp -s build/$*/autoconf.h.tmp build/$*/autoconf.h; then rm -f build/$*/autoconf.h.tmp; \
	    else mv build/$*/autoconf.h.tmp build/$*/autoconf.h; fi

$(CROSS_ARCHS:%=cross-%): cross-%: cross-setup-% cross-config-%
	@+$(call cross_make,$*) build/$*/cardupd
	@echo "  built   build/$*/cardupd (board/$(CROSS_BOARD_$*), $(CROSS_TRIPLET_$*))"

# Unit tests, cross-built by the top Makefile's own rule and run under qemu-user with the
# sysroot as the target's root (-L), which also holds the loader and cmocka.
$(CROSS_ARCHS:%=cross-test-%): cross-test-%: cross-setup-% cross-config-%
	@+$(call cross_make,$*) $(UNIT_SRCS:tests/unit/%.c=build/$*/tests/%)
	@echo "== unit tests, $* under $(CROSS_QEMU_$*)"
	@QEMU_LD_PREFIX=$(call cross_sysroot,$*) scripts/cross-run.sh $(CROSS_QEMU_$*) \
	    $(UNIT_SRCS:tests/unit/%.c=build/$*/tests/%)

cross-test: $(CROSS_ARCHS:%=cross-test-%)

# Fully static: the dynamic build's objects linked against static libraries, the two
# that Debian lacks built from its source packages (no HTTPS in libmicrohttpd).
$(CROSS_ARCHS:%=static-%): static-%: cross-%
	@scripts/cross-static.sh $*

static: $(CROSS_ARCHS:%=static-%)

# ---- image -----------------------------------------------------------------------------
# One image per board: build/image/cardupd-<board>.tar.gz (and .squashfs when mksquashfs
# is there), from board/common/rootfs + board/<board>/rootfs + the stripped binaries.
image: $(IMAGE_BOARDS:%=image-%)

$(IMAGE_BOARDS:%=image-%): image-%:
	@+$(MAKE) --no-print-directory $(if $(filter host,$(call board_arch,$*)),$(BUILD)/cardupd,cross-$(call board_arch,$*))
	@scripts/image.sh $* $(if $(filter host,$(call board_arch,$*)),$(BUILD),build/$(call board_arch,$*)) build/image

image-host:
	@+$(MAKE) --no-print-directory $(BUILD)/cardupd
	@scripts/image.sh host $(BUILD) build/image

image-test: image
	@tests/image/run.sh $(IMAGE_BOARDS)

size: cross $(BUILD)/cardupd
	@scripts/size.sh $(BUILD) $(CROSS_ARCHS)
