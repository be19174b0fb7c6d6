# SPDX-License-Identifier: BSD-2-Clause
# mk/admin.mk — build details of the remote administration's tests.
#
# test_auth checks that request bodies' passwords are wiped before json-c frees them:
# json-c is linked statically into it and free() wrapped (-Wl,--wrap=free), so the
# test's __wrap_free sees every block json-c frees (calls inside the shared library
# would not be redirected).
$(BUILD)/tests/test_auth: LDFLAGS += -Wl,--wrap=free -Wl,-Bstatic -ljson-c -Wl,-Bdynamic
