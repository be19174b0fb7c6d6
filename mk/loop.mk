# SPDX-License-Identifier: BSD-2-Clause
# mk/loop.mk — the unit tests that need a build of their own: test_log again under
# ThreadSanitizer (log_init on SIGHUP while other threads log; any data race fails it).
# Native builds without SANITIZE only (TSan excludes ASan; cross toolchains lack it).
# The Makefile includes this file twice: early, where `unit:` still reads UNIT_BINS, and
# with mk/*.mk at its end, where the rules go (not before `all`, the default goal).
ifndef LOOP_MK
LOOP_MK := 1
ifeq ($(TC_ARCH)$(SANITIZE),0)
UNIT_BINS += $(BUILD)/tests/tsan/test_log
endif
else ifndef LOOP_MK_RULES
LOOP_MK_RULES := 1
$(BUILD)/tests/tsan/test_log: tests/unit/test_log.c firmware/base/log.c $(BUILD)/autoconf.h
	@mkdir -p $(@D)
	@echo "  CC/LD   $@ (ThreadSanitizer)"
	$(Q)$(CC) $(CPPFLAGS) -std=c11 $(WARN) -O1 -g -fsanitize=thread -Wno-missing-prototypes \
	    -o $@ tests/unit/test_log.c firmware/base/log.c -lcmocka -lpthread
endif
