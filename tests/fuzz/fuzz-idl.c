/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The IDL parser and formatter: any input either fails with a position and
 * a message, or parses to an interface whose canonical text parses back to
 * the same canonical text (a fixed point), with colour adding escapes only.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vl/idl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *a, const char *b) {
        fprintf(stderr, "fuzz-idl: %s\n--- first:\n%s\n--- second:\n%s\n", what, a ? a : "(null)",
                b ? b : "(null)");
        abort();
}

/* The text without "ESC [ ... m" sequences. */
static char *strip_colors(const char *s) {
        char *out = malloc(strlen(s) + 1), *o = out;
        if (!out)
                return NULL;
        while (*s) {
                if (s[0] == '\x1b' && s[1] == '[') {
                        s += 2;
                        while (*s && *s != 'm')
                                s++;
                        if (*s)
                                s++;
                } else
                        *o++ = *s++;
        }
        *o = '\0';
        return out;
}

static void write_types(const VlType *t) {
        VlBuf b = VL_BUF_INIT;
        if (!t)
                return;
        if (vl_type_write(&b, t) < 0 || b.len == 0)
                die("vl_type_write failed", NULL, NULL);
        vl_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        VlInterface *a = NULL, *b = NULL;
        VlIdlError err;
        char *text1, *text2, *colored, *plain;
        int r;

        r = vl_interface_parse((const char *)data, size, &a, &err);
        if (r < 0) {
                if (r != -EINVAL && r != -ENOMEM)
                        abort();
                if (r == -EINVAL && (err.line == 0 || err.column == 0 || err.message[0] == '\0'))
                        abort();
                return 0;
        }
        if (strlen(a->description) != size || memcmp(a->description, data, size) != 0)
                abort();

        text1 = vl_interface_format(a, 0);
        if (!text1)
                abort();
        r = vl_interface_parse(text1, strlen(text1), &b, &err);
        if (r < 0) {
                fprintf(stderr, "fuzz-idl: %u:%u: %s\n", err.line, err.column, err.message);
                die("the canonical text does not parse", text1, NULL);
        }
        text2 = vl_interface_format(b, 0);
        if (!text2 || strcmp(text1, text2) != 0)
                die("formatting is not a fixed point", text1, text2);

        colored = vl_interface_format(a, VL_IDL_FORMAT_COLOR);
        plain = colored ? strip_colors(colored) : NULL;
        if (!plain || strcmp(plain, text1) != 0)
                die("colour changed the text", text1, plain);

        for (size_t i = 0; i < a->n_members; i++) {
                const VlMember *m = &a->members[i];
                const char *bad;

                write_types(m->type);
                write_types(m->input);
                write_types(m->output);
                if (vl_interface_find(a, m->kind, m->name) != m)
                        abort();
                /* An empty parameter object passes exactly when no field is mandatory. */
                if (m->kind == VL_MEMBER_METHOD) {
                        bool mandatory = false;
                        for (size_t j = 0; j < m->input->n_fields; j++)
                                mandatory = mandatory || !m->input->fields[j].type->nullable;
                        r = vl_interface_validate_method(a, m->name, false, NULL, &bad);
                        if ((r == 0) == mandatory)
                                abort();
                }
        }

        free(colored);
        free(plain);
        free(text1);
        free(text2);
        vl_interface_free(a);
        vl_interface_free(b);
        return 0;
}
