# SPDX-License-Identifier: BSD-2-Clause
# cardupd.conf(5), generated from the one configuration key table (issue 12, 15):
#   make man-conf        regenerate docs/man/cardupd.conf.5 (commit it)
#   make check-man-conf  fail when the committed page differs from the table, or when
#                        mandoc -T lint finds anything (run by make test)
# The page shows the defaults of the default Kconfig (make defconfig), whatever .config
# says: build/man has its own configuration and autoconf.h.
MAN_BUILD := build/man
# cfgkeys runs on the build machine, whatever compiler a board's CC is
HOSTCC    ?= cc
MAN_CONF  := docs/man/cardupd.conf.5
.PHONY: man-conf check-man-conf

$(MAN_BUILD)/autoconf.h: Kconfig
	@mkdir -p $(@D)
	$(Q)KCONFIG_CONFIG=$(MAN_BUILD)/defconfig $(PY) -m alldefconfig Kconfig >/dev/null
	$(Q)KCONFIG_CONFIG=$(MAN_BUILD)/defconfig $(PY) -m genconfig --header-path $@ Kconfig

$(MAN_BUILD)/cfgkeys: tools/cfgkeys.c firmware/core/config_keys.c firmware/core/config_keys.h \
    firmware/core/config.h $(MAN_BUILD)/autoconf.h
	$(Q)$(HOSTCC) -std=c11 -D_GNU_SOURCE -I$(MAN_BUILD) -I. -Ifirmware -o $@ \
	    tools/cfgkeys.c firmware/core/config_keys.c

$(MAN_BUILD)/cardupd.conf.5: $(MAN_BUILD)/cfgkeys tools/gen-man-conf.py
	$(Q)$(MAN_BUILD)/cfgkeys > $(MAN_BUILD)/keys.tsv
	$(Q)$(PY) tools/gen-man-conf.py $(MAN_BUILD)/keys.tsv $@

man-conf: $(MAN_BUILD)/cardupd.conf.5
	@mkdir -p $(dir $(MAN_CONF))
	cp $< $(MAN_CONF)

check-man-conf: $(MAN_BUILD)/cardupd.conf.5
	@if ! cmp -s $< $(MAN_CONF); then \
		echo "check-man-conf: $(MAN_CONF) is not what the key table gives: run make man-conf"; \
		diff -u $(MAN_CONF) $< | head -40; exit 1; fi
	@mandoc -T lint -W warning $(MAN_CONF) && echo "check-man-conf: $(MAN_CONF) up to date, mandoc -T lint clean"

test: check-man-conf
