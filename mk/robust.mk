# SPDX-License-Identifier: BSD-2-Clause
# Robustness figures on the real rig (issue 13, R2/R3): tests/robust/.
#   make soak [SOAK_CYCLES=1000]   insert/remove cycles; fds, threads, RSS every 10 %
#   make faults [PCSCD_KILLS=20]   pcscd, CMS and card faults; recovery time after each
SOAK_CYCLES ?= 1000
PCSCD_KILLS ?= 20
.PHONY: soak faults
soak: deps $(BUILD)/cardupd
	@CARDUPD_BIN=$(CURDIR)/$(BUILD)/cardupd $(PY) tests/robust/soak.py $(SOAK_CYCLES)
faults: deps $(BUILD)/cardupd
	@CARDUPD_BIN=$(CURDIR)/$(BUILD)/cardupd $(PY) tests/robust/faults.py $(PCSCD_KILLS)
