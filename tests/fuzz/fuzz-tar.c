/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tar reader (headers, pax records, GNU long names, base-256 numbers)
 * on arbitrary streams, fed in chunks whose sizes the first input byte
 * picks. Invariants: every entry has a non-empty name without NUL within
 * the limits, links only where they belong, xattrs within their limit, and
 * exactly the announced number of data bytes; errors carry a message unless
 * the source failed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tar-read.h"

typedef struct Source {
        const uint8_t *p;
        size_t len, pos, chunk;
} Source;

static ssize_t source_next(void *userdata, const uint8_t **ret) {
        Source *s = userdata;
        size_t n = s->len - s->pos < s->chunk ? s->len - s->pos : s->chunk;
        *ret = s->p + s->pos;
        s->pos += n;
        return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const size_t chunks[] = {1, 7, 512, 513, 4096, 65536};
        TarReader t;
        const TarEntry *e;
        int r;

        if (size < 1)
                return 0;
        Source s = {.p = data + 1, .len = size - 1, .chunk = chunks[data[0] % 6]};
        tar_reader_init(&t, source_next, &s);
        while ((r = tar_reader_next(&t, &e)) > 0) {
                size_t n = strlen(e->path);
                if (n == 0 || n > TAR_MAX_NAME)
                        abort();
                if ((e->type == TAR_HARDLINK || e->type == TAR_SYMLINK) != (e->link != NULL))
                        abort();
                if (e->link && (strlen(e->link) == 0 || strlen(e->link) > TAR_MAX_NAME))
                        abort();
                if (e->n_xattrs > TAR_MAX_XATTR || e->uid < 0 || e->gid < 0 || (e->mode & ~07777u))
                        abort();
                for (size_t i = 0; i < e->n_xattrs; i++)
                        if (!e->xattrs[i].name[0])
                                abort();
                /* read every other entry's data; the reader skips the rest */
                if (data[0] & 0x80) {
                        const uint8_t *p;
                        ssize_t k;
                        uint64_t got = 0;
                        while ((k = tar_reader_data(&t, &p)) > 0)
                                got += (uint64_t)k;
                        if (k == 0 && got != e->size)
                                abort();
                        if (k < 0)
                                break;
                }
        }
        if (r < 0 && !t.message[0])
                abort(); /* a memory source never fails: a stream error needs its message */
        if (r < 0 && tar_reader_next(&t, &e) != r)
                abort(); /* errors are sticky */
        tar_reader_done(&t);
        return 0;
}
