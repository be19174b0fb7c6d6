# SPDX-License-Identifier: BSD-2-Clause
include $(sort $(wildcard $(BR2_EXTERNAL_CARDUPD_PATH)/package/*/*.mk))
