/* Guest-side option helper on top of kernel/lib/cmdline.c: reports bad values on the console. */
#include <tessera/cmdline.h>
#include <tessera/errno.h>
#include "guest.h"

const char *guest_cmdline = "";

int cmdline_u64_option(const char *prefix, const char *cmdline, const char *key, uint64_t dflt,
                       uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;
    int rc = cmdline_get_u64(cmdline, key, &v);
    if (rc == -ENOENT) {
        *out = dflt;
        return 0;
    }
    if (rc < 0) {
        guest_printf("%s: bad option %s: not a number\n", prefix, key);
        return -EINVAL;
    }
    if (v < min || v > max) {
        guest_printf("%s: bad option %s=%llu: must be %llu..%llu\n", prefix, key,
                     (unsigned long long)v, (unsigned long long)min, (unsigned long long)max);
        return -EINVAL;
    }
    *out = v;
    return 0;
}
