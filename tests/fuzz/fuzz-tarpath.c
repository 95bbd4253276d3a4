/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tar_path_clean invariants: a cleaned name is relative, has no empty, "."
 * or ".." components, fits the buffer, and cleaning it again changes nothing.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"

static void check_components(const char *p) {
        if (p[0] == '/' || p[0] == 0)
                abort();
        for (;;) {
                const char *e = strchr(p, '/');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        abort();
                if (!e)
                        break;
                p = e + 1;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *name, out[512], again[512];
        int r;

        if (size > 8192)
                return 0;
        name = malloc(size + 1);
        if (!name)
                return 0;
        memcpy(name, data, size);
        name[size] = 0; /* tar names end at the first NUL */

        r = tar_path_clean(name, out, sizeof(out));
        if (r == 0) {
                if (strlen(out) >= sizeof(out))
                        abort();
                check_components(out);
                if (tar_path_clean(out, again, sizeof(again)) != 0 || strcmp(out, again) != 0)
                        abort();
        } else if (r != -EINVAL && r != -ENAMETOOLONG)
                abort();
        free(name);
        return 0;
}
