# SPDX-License-Identifier: BSD-2-Clause
# mk/vm.mk — the boards' images booted under QEMU with a USB CCID reader (issue 11).
# Included by the top Makefile with mk/*.mk, after board/board.mk (its cross toolchains).
#
#   make vm-test [VM_BOARDS="rpi4 rpi4-static stm32mp1"]   every journey in the rpi4 guest,
#                         a shorter one in the others; figures and where the time went
#   make vm-demo          the rpi4 guest, a card to insert and remove from the terminal
#   make vm-guest-BOARD   build/vm/BOARD/{vmlinuz,initrd.img}: the guest alone
#
# A guest (tests/vm/mkguest.py) is the board's image (make image, or make image-static-arm64
# for the static build) laid over a base of Debian packages for its architecture, fetched once
# into build/vm/ARCH by tests/vm/fetch-debs.sh, and the test-only agent.

VM_DIR     := build/vm
VM_TIMINGS := $(VM_DIR)/timings.txt
VM_BOARDS  ?= rpi4 rpi4-static stm32mp1
VM_TIME     = tests/vm/timed.sh $(VM_TIMINGS)

# Per guest: architecture, image tarball, how it is made, which journeys run.
VM_ARCH_rpi4         := arm64
VM_IMAGE_rpi4        := build/image/cardupd-rpi4.tar.gz
VM_MAKE_rpi4         := image-rpi4
VM_MODE_rpi4         := full
VM_ARCH_rpi4-static  := arm64
VM_IMAGE_rpi4-static := build/image-static/cardupd-rpi4.tar.gz
VM_MAKE_rpi4-static  := image-static-arm64
VM_MODE_rpi4-static  := noadmin
VM_ARCH_stm32mp1     := armhf
VM_IMAGE_stm32mp1    := build/image/cardupd-stm32mp1.tar.gz
VM_MAKE_stm32mp1     := image-stm32mp1
VM_MODE_stm32mp1     := full
VM_ALL_BOARDS        := rpi4 rpi4-static stm32mp1

.PHONY: vm-test vm-demo $(VM_ALL_BOARDS:%=vm-guest-%) \
        $(CROSS_ARCHS:%=vm-base-%)

# The base's Debian packages and the agent's PC/SC anchor, per architecture.
$(CROSS_ARCHS:%=vm-base-%): vm-base-%:
	@$(VM_TIME) "build: $* cross toolchain and sysroot (made once)" scripts/cross-setup.sh $*
	@$(VM_TIME) "build: $* guest packages (fetched once)" tests/vm/fetch-debs.sh $*
	@+$(MAKE) --no-print-directory $(VM_DIR)/$*/vm-pcsc-watch

$(VM_DIR)/%/vm-pcsc-watch: tests/vm/agent/vm-pcsc-watch.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CROSS_TRIPLET_$*)-gcc --sysroot=$(call cross_sysroot,$*) -O2 $(WARN) \
	    -Wno-format-truncation -I$(call cross_sysroot,$*)/usr/include/PCSC -o $@ $< -lpcsclite

$(VM_ALL_BOARDS:%=vm-guest-%): vm-guest-%:
	@+$(MAKE) --no-print-directory vm-base-$(VM_ARCH_$*)
	@+$(VM_TIME) "build: $* image ($(VM_MAKE_$*))" $(MAKE) --no-print-directory $(VM_MAKE_$*)
	@$(VM_TIME) "build: $* guest (mkguest.py)" $(PY) tests/vm/mkguest.py \
	    --arch $(VM_ARCH_$*) --debs $(VM_DIR)/$(VM_ARCH_$*)/debs --image $(VM_IMAGE_$*) \
	    --agent tests/vm/agent --watch $(VM_DIR)/$(VM_ARCH_$*)/vm-pcsc-watch --out $(VM_DIR)/$*

vm-test: deps
	@mkdir -p $(VM_DIR)
	@rm -f $(VM_TIMINGS)
	@+$(foreach b,$(VM_BOARDS),$(MAKE) --no-print-directory vm-guest-$(b) &&) true
	$(PY) tests/vm/run.py --timings $(VM_TIMINGS) \
	    $(foreach b,$(VM_BOARDS),$(b):$(VM_DIR)/$(b):$(VM_IMAGE_$(b)):$(VM_MODE_$(b)))

vm-demo: deps vm-guest-rpi4
	$(PY) tests/vm/demo.py $(VM_DIR)/rpi4 $(VM_IMAGE_rpi4)
