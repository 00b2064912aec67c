#!/bin/sh
# Runs every GigaHttpd selftest program in order; exit status 0 when all passed.
cd "$(dirname "$0")" || exit 1
rc=0
for prog in gigahttpd_module.sh gigahttpd_control.sh gigahttpd_load.sh gigahttpd_klog.sh; do
    sh "./$prog" || rc=1
done
exit $rc
