/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-yaml: an accepted stream is written back as YAML, which parses to an
 * equal array of documents; a refused one names a line (or the size limit).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vl/json.h>

#include "yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        CpodError err = {};
        VlJson *v = NULL, *back = NULL;
        VlBuf b = VL_BUF_INIT;

        if (yaml_parse((const char *)data, size, &v, &err) < 0) {
                if (strncmp(err.message, "line ", 5) != 0 && strncmp(err.message, "larger than", 11) != 0)
                        abort();
                return 0;
        }
        if (vl_json_type(v) != VL_JSON_ARRAY || yaml_write_stream(&b, v) < 0)
                abort();
        if (yaml_parse(b.data ?: "", b.len, &back, &err) < 0 || !vl_json_equal(v, back))
                abort();
        vl_buf_free(&b);
        vl_json_unref(back);
        vl_json_unref(v);
        return 0;
}
