# SPDX-License-Identifier: BSD-2-Clause
################################################################################
#
# python-kconfiglib
#
################################################################################

# Host only: cardupd's Makefile runs kconfiglib's genconfig, olddefconfig, menuconfig...
# (python3 -m NAME) with Buildroot's host-python3, not the build machine's Python.
PYTHON_KCONFIGLIB_VERSION = 14.1.0
PYTHON_KCONFIGLIB_SOURCE = kconfiglib-$(PYTHON_KCONFIGLIB_VERSION).tar.gz
PYTHON_KCONFIGLIB_SITE = https://files.pythonhosted.org/packages/source/k/kconfiglib
PYTHON_KCONFIGLIB_SETUP_TYPE = setuptools
PYTHON_KCONFIGLIB_LICENSE = ISC
PYTHON_KCONFIGLIB_LICENSE_FILES = LICENSE.txt

$(eval $(host-python-package))
