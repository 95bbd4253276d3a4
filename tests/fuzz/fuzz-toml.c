/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-toml: an accepted document is a JSON object that serializes and
 * parses back equal; a refused one names a line (or the size limit).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vl/json.h>

#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        CpodError err = {};
        VlJson *v = NULL, *back = NULL;
        VlJsonLimits limits = {.max_depth = 1024, .max_size = SIZE_MAX};
        char *s;

        if (toml_parse((const char *)data, size, &v, &err) < 0) {
                if (strncmp(err.message, "line ", 5) != 0 && strncmp(err.message, "larger than", 11) != 0)
                        abort();
                return 0;
        }
        if (vl_json_type(v) != VL_JSON_OBJECT)
                abort();
        s = vl_json_to_string(v, 0);
        if (!s || vl_json_parse(s, strlen(s), &limits, &back, NULL) < 0 || !vl_json_equal(v, back))
                abort();
        free(s);
        vl_json_unref(back);
        vl_json_unref(v);
        return 0;
}
