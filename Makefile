# SPDX-License-Identifier: GPL-2.0
#
# GigaHttpd. The kernel build itself is described in Kbuild; these targets drive it and
# the host-side tools.
#
#   make module [KDIR=...]  build gigahttpd.ko (default: against the guest kernel)
#   make run                set up, build, boot the guest with the module loaded
#   make test               run every test; ends with "N passed, N failed"
#   make clean              remove build output from the work tree

.PHONY: module run test clean

module:
	tools/build-module.sh $(KDIR)

run:
	tools/run.sh

test:
	tools/test.sh

clean:
	rm -rf build
	find . -path ./target -prune -o \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '.*.cmd' -o -name '*.rmeta' \) -type f -print \
		| xargs -r rm -f
	rm -f modules.order Module.symvers gh_module/bindings_generated.rs \
		gh_module/bindings_wrapper.h
