# SPDX-License-Identifier: BSD-2-Clause
# mk/mhd.mk — MHD=plain (the Makefile's choice of libmicrohttpd): the static
# libmicrohttpd without HTTPS for this build's architecture, made on demand by
# scripts/mhd-plain.sh from the Debian source that `make deps` fetched (no network
# here), then kept in build/mhd/<arch>. Everything that links it waits for it, and so
# does every object of web/ (microhttpd.h comes from its include folder, first on the
# include path, never the system's).
ifeq ($(MHD),plain)
$(MHD_A): scripts/mhd-plain.sh
	@scripts/mhd-plain.sh $(MHD_ARCH)

$(BUILD)/cardupd $(BUILD)/cardupctl $(UNIT_BINS): $(MHD_A)
$(filter $(BUILD)/web/%,$(CORE_OBJS)): | $(MHD_A)
endif

# The choice itself, rewritten only when it changes (as autoconf.h): switching MHD in one
# build folder recompiles web/ against the other microhttpd.h and relinks.
$(BUILD)/mhd.choice: FORCE
	@mkdir -p $(@D)
	@echo '$(MHD) $(MHD_ARCH)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(filter $(BUILD)/web/%,$(CORE_OBJS)) $(BUILD)/firmware/process.o $(BUILD)/cardupd: $(BUILD)/mhd.choice
