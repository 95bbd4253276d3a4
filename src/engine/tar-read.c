/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streaming tar reader (see tar-read.h). A header is copied out of the
 * chunks into a 512-byte block (it may straddle two chunks); data is handed
 * out in place. Extended headers (pax 'x', GNU 'L'/'K') are read whole, up
 * to their limits, and apply to the next real entry only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tar-read.h"

#define BLOCK 512u

/* ustar header fields: offset, length */
#define H_NAME     0, 100
#define H_MODE     100, 8
#define H_UID      108, 8
#define H_GID      116, 8
#define H_SIZE     124, 12
#define H_MTIME    136, 12
#define H_CHKSUM   148, 8
#define H_TYPE     156
#define H_LINKNAME 157, 100
#define H_MAGIC    257
#define H_DEVMAJOR 329, 8
#define H_DEVMINOR 337, 8
#define H_PREFIX   345, 155

static int tar_fail(TarReader *t, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int tar_fail(TarReader *t, int code, const char *fmt, ...) {
        if (t->error < 0)
                return t->error;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->message, sizeof(t->message), fmt, ap);
        va_end(ap);
        t->error = code;
        return code;
}

void tar_reader_init(TarReader *t, TarSource source, void *userdata) {
        *t = (TarReader){.source = source, .userdata = userdata};
}

static void xattrs_free(TarXattr *x, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(x[i].name);
                free(x[i].value);
        }
}

/* Forget what extended headers said: they applied to one entry. The xattr array is kept for reuse. */
static void pending_reset(TarReader *t) {
        free(t->pax_path);
        free(t->pax_link);
        free(t->gnu_path);
        free(t->gnu_link);
        t->pax_path = t->pax_link = t->gnu_path = t->gnu_link = NULL;
        t->has_size = t->has_uid = t->has_gid = t->has_mtime = t->has_devmajor = t->has_devminor = false;
        xattrs_free(t->xattrs, t->n_xattrs);
        t->n_xattrs = 0;
}

static void entry_reset(TarReader *t) {
        free(t->entry.path);
        free(t->entry.link);
        xattrs_free(t->entry.xattrs, t->entry.n_xattrs);
        free(t->entry.xattrs);
        t->entry = (TarEntry){};
}

void tar_reader_done(TarReader *t) {
        pending_reset(t);
        free(t->xattrs);
        entry_reset(t);
}

/* ---- the byte stream ---- */

/* Bytes available in the current chunk, fetching the next one when it is used up: 0 at the end. */
static ssize_t avail(TarReader *t) {
        while (t->chunk_pos == t->chunk_len) {
                if (t->eof)
                        return 0;
                const uint8_t *p = NULL;
                ssize_t n = t->source(t->userdata, &p);
                if (n < 0) {
                        if (t->error == 0)
                                t->error = (int)n;
                        return t->error;
                }
                if (n == 0) {
                        t->eof = true;
                        return 0;
                }
                t->chunk = p;
                t->chunk_len = (size_t)n;
                t->chunk_pos = 0;
        }
        return (ssize_t)(t->chunk_len - t->chunk_pos);
}

/* Copy n bytes out of the stream: n, fewer when the stream ends first, or -errno. */
static ssize_t read_bytes(TarReader *t, uint8_t *out, size_t n) {
        size_t got = 0;
        while (got < n) {
                ssize_t a = avail(t);
                if (a <= 0)
                        return a < 0 ? a : (ssize_t)got;
                size_t k = (size_t)a < n - got ? (size_t)a : n - got;
                memcpy(out + got, t->chunk + t->chunk_pos, k);
                t->chunk_pos += k;
                t->offset += k;
                got += k;
        }
        return (ssize_t)got;
}

static int skip_bytes(TarReader *t, uint64_t n) {
        while (n > 0) {
                ssize_t a = avail(t);
                if (a < 0)
                        return (int)a;
                if (a == 0)
                        return tar_fail(t, -EBADMSG, "the stream ends inside an entry (at byte %llu)",
                                        (unsigned long long)t->offset);
                size_t k = (uint64_t)a < n ? (size_t)a : (size_t)n;
                t->chunk_pos += k;
                t->offset += k;
                n -= k;
        }
        return 0;
}

static uint64_t padding_of(uint64_t size) {
        return (BLOCK - size % BLOCK) % BLOCK;
}

/* The data of an extended header, NUL-terminated (malloc'ed), and the padding after it. */
static int read_extension(TarReader *t, uint64_t size, uint64_t limit, const char *what, char **ret) {
        if (size > limit)
                return tar_fail(t, -EFBIG, "%s of %llu bytes at byte %llu is larger than the limit of %llu",
                                what, (unsigned long long)size, (unsigned long long)t->offset,
                                (unsigned long long)limit);
        char *buf = malloc((size_t)size + 1);
        if (!buf)
                return tar_fail(t, -ENOMEM, "out of memory");
        ssize_t n = read_bytes(t, (uint8_t *)buf, (size_t)size);
        if (n >= 0 && (uint64_t)n < size)
                n = tar_fail(t, -EBADMSG, "the stream ends inside a %s", what);
        int r = n < 0 ? (int)n : skip_bytes(t, padding_of(size));
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[size] = 0;
        *ret = buf;
        return 0;
}

/* ---- header fields ---- */

int tar_parse_number(const uint8_t *f, size_t len, int64_t *ret) {
        if (len == 0)
                return -EINVAL;
        if (f[0] & 0x80) {
                /* base-256, two's complement, big endian; bit 6 of the first byte is the sign */
                uint64_t v = (f[0] & 0x40) ? UINT64_MAX : 0;
                v = (v << 7) | (f[0] & 0x7f);
                bool neg = f[0] & 0x40;
                for (size_t i = 1; i < len; i++) {
                        /* the bits shifted out must all equal the sign */
                        uint64_t top = v >> 55;
                        if (top != (neg ? 0x1ff : 0))
                                return -EINVAL;
                        v = (v << 8) | f[i];
                }
                if (((int64_t)v < 0) != neg)
                        return -EINVAL;
                *ret = (int64_t)v;
                return 0;
        }
        size_t i = 0;
        uint64_t v = 0;
        while (i < len && f[i] == ' ')
                i++;
        for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
                if (v > (uint64_t)INT64_MAX >> 3)
                        return -EINVAL;
                v = v << 3 | (uint64_t)(f[i] - '0');
        }
        /* after the digits only terminators */
        for (; i < len; i++)
                if (f[i] != ' ' && f[i] != 0)
                        return -EINVAL;
        *ret = (int64_t)v;
        return 0;
}

static int field_number(TarReader *t, const uint8_t *h, size_t off, size_t len, const char *what,
                        int64_t *ret) {
        if (tar_parse_number(h + off, len, ret) < 0)
                return tar_fail(t, -EBADMSG, "invalid %s field in the tar header at byte %llu", what,
                                (unsigned long long)(t->offset - BLOCK));
        return 0;
}

/* A string field: up to len bytes, ending at the first NUL (a full-length name has none). */
static size_t field_len(const uint8_t *h, size_t off, size_t len) {
        const uint8_t *z = memchr(h + off, 0, len);
        return z ? (size_t)(z - (h + off)) : len;
}

static bool checksum_ok(const uint8_t *h, int64_t want) {
        uint64_t u = 0;
        int64_t s = 0;
        for (size_t i = 0; i < BLOCK; i++) {
                uint8_t c = i >= 148 && i < 156 ? ' ' : h[i];
                u += c;
                s += (int8_t)c; /* some old tars summed signed chars */
        }
        return (int64_t)u == want || s == want;
}

static bool block_is_zero(const uint8_t *h) {
        for (size_t i = 0; i < BLOCK; i++)
                if (h[i])
                        return false;
        return true;
}

/* ---- pax extended headers ---- */

static int parse_decimal(const char *s, size_t n, bool allow_sign, int64_t *ret) {
        bool neg = false;
        uint64_t v = 0;
        size_t i = 0;

        if (allow_sign && n > 0 && s[0] == '-')
                neg = true, i = 1;
        if (i == n)
                return -EINVAL;
        for (; i < n; i++) {
                if (s[i] < '0' || s[i] > '9' || v > ((uint64_t)INT64_MAX - 9) / 10)
                        return -EINVAL;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        *ret = neg ? -(int64_t)v : (int64_t)v;
        return 0;
}

/* "seconds[.fraction]", possibly negative: a negative time with a fraction means seconds minus it. */
static int parse_time(const char *s, size_t n, int64_t *ret_sec, long *ret_nsec) {
        const char *dot = memchr(s, '.', n);
        size_t ni = dot ? (size_t)(dot - s) : n;
        int64_t sec;
        long ns = 0;

        if (parse_decimal(s, ni, true, &sec) < 0)
                return -EINVAL;
        if (dot) {
                long scale = 100000000;
                for (size_t i = ni + 1; i < n; i++) {
                        if (s[i] < '0' || s[i] > '9')
                                return -EINVAL;
                        ns += (s[i] - '0') * scale;
                        scale /= 10;
                }
        }
        if (ns > 0 && s[0] == '-') {
                /* -1.25 is 1.25 s before the epoch: second -2 plus 0.75 */
                sec -= 1;
                ns = 1000000000 - ns;
        }
        *ret_sec = sec;
        *ret_nsec = ns;
        return 0;
}

static char *strndup_checked(TarReader *t, const char *s, size_t n, const char *what) {
        if (memchr(s, 0, n)) {
                tar_fail(t, -EBADMSG, "pax %s contains a NUL byte", what);
                return NULL;
        }
        if (n > TAR_MAX_NAME) {
                tar_fail(t, -EFBIG, "pax %s is longer than %u bytes", what, TAR_MAX_NAME);
                return NULL;
        }
        char *c = strndup(s, n);
        if (!c)
                tar_fail(t, -ENOMEM, "out of memory");
        return c;
}

/* Add or replace an xattr of the next entry (libarchive writes each one twice, in both notations). */
static int xattr_put(TarReader *t, char *name, uint8_t *value, size_t size) {
        for (size_t i = 0; i < t->n_xattrs; i++)
                if (strcmp(t->xattrs[i].name, name) == 0) {
                        free(name);
                        free(t->xattrs[i].value);
                        t->xattrs[i].value = value;
                        t->xattrs[i].size = size;
                        return 0;
                }
        if (t->n_xattrs >= TAR_MAX_XATTR) {
                free(name);
                free(value);
                return tar_fail(t, -EFBIG, "an entry has more than %u extended attributes", TAR_MAX_XATTR);
        }
        if (t->n_xattrs == t->cap_xattrs) {
                size_t cap = t->cap_xattrs ? t->cap_xattrs * 2 : 4;
                TarXattr *x = realloc(t->xattrs, cap * sizeof(*x));
                if (!x) {
                        free(name);
                        free(value);
                        return tar_fail(t, -ENOMEM, "out of memory");
                }
                t->xattrs = x;
                t->cap_xattrs = cap;
        }
        t->xattrs[t->n_xattrs++] = (TarXattr){name, value, size};
        return 0;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* LIBARCHIVE.xattr.NAME: NAME is %-encoded, the value base64 (padding optional). */
static int xattr_libarchive(TarReader *t, const char *key, size_t klen, const char *v, size_t vlen) {
        char *name = malloc(klen + 1);
        uint8_t *value = malloc(vlen / 4 * 3 + 3);
        size_t n = 0, m = 0;
        uint32_t acc = 0;
        int bits = 0;

        if (!name || !value) {
                free(name);
                free(value);
                return tar_fail(t, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < klen; i++) {
                int hi, lo;
                if (key[i] == '%' && i + 2 < klen && (hi = hexval(key[i + 1])) >= 0 &&
                    (lo = hexval(key[i + 2])) >= 0) {
                        name[n++] = (char)(hi << 4 | lo);
                        i += 2;
                } else
                        name[n++] = key[i];
        }
        name[n] = 0;
        for (size_t i = 0; i < vlen && v[i] != '='; i++) {
                static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                const char *c = v[i] ? strchr(b64, v[i]) : NULL;
                if (!c) {
                        free(name);
                        free(value);
                        return tar_fail(t, -EBADMSG, "pax LIBARCHIVE.xattr value is not base64");
                }
                acc = acc << 6 | (uint32_t)(c - b64);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        value[m++] = (uint8_t)(acc >> bits);
                }
        }
        if (n == 0 || strlen(name) != n) {
                free(name);
                free(value);
                return tar_fail(t, -EBADMSG, "pax LIBARCHIVE.xattr with an invalid name");
        }
        return xattr_put(t, name, value, m);
}

static int xattr_schily(TarReader *t, const char *key, size_t klen, const char *v, size_t vlen) {
        if (klen == 0 || memchr(key, 0, klen))
                return tar_fail(t, -EBADMSG, "pax SCHILY.xattr with an invalid name");
        char *name = strndup(key, klen);
        uint8_t *value = malloc(vlen ? vlen : 1);
        if (!name || !value) {
                free(name);
                free(value);
                return tar_fail(t, -ENOMEM, "out of memory");
        }
        memcpy(value, v, vlen);
        return xattr_put(t, name, value, vlen);
}

static bool key_is(const char *k, size_t kl, const char *want) {
        return kl == strlen(want) && memcmp(k, want, kl) == 0;
}

static bool key_prefix(const char *k, size_t kl, const char *prefix) {
        size_t n = strlen(prefix);
        return kl >= n && memcmp(k, prefix, n) == 0;
}

static int pax_number(TarReader *t, const char *key, const char *v, size_t vlen, int64_t *ret) {
        if (parse_decimal(v, vlen, false, ret) < 0)
                return tar_fail(t, -EBADMSG, "invalid pax %s `%.*s`", key, (int)(vlen < 32 ? vlen : 32), v);
        return 0;
}

static int pax_record(TarReader *t, const char *k, size_t kl, const char *v, size_t vl) {
        int64_t n;
        int r;

        /* an empty value removes the keyword: the header's own field counts again */
        if (key_is(k, kl, "path")) {
                free(t->pax_path);
                t->pax_path = NULL;
                if (vl > 0 && !(t->pax_path = strndup_checked(t, v, vl, "path")))
                        return t->error;
        } else if (key_is(k, kl, "linkpath")) {
                free(t->pax_link);
                t->pax_link = NULL;
                if (vl > 0 && !(t->pax_link = strndup_checked(t, v, vl, "linkpath")))
                        return t->error;
        } else if (key_is(k, kl, "size")) {
                if ((t->has_size = vl > 0) && (r = pax_number(t, "size", v, vl, &n)) < 0)
                        return r;
                t->size = (uint64_t)n;
        } else if (key_is(k, kl, "uid")) {
                if ((t->has_uid = vl > 0) && (r = pax_number(t, "uid", v, vl, &t->uid)) < 0)
                        return r;
        } else if (key_is(k, kl, "gid")) {
                if ((t->has_gid = vl > 0) && (r = pax_number(t, "gid", v, vl, &t->gid)) < 0)
                        return r;
        } else if (key_is(k, kl, "mtime")) {
                if ((t->has_mtime = vl > 0) && parse_time(v, vl, &t->mtime, &t->mtime_nsec) < 0)
                        return tar_fail(t, -EBADMSG, "invalid pax mtime `%.*s`", (int)(vl < 32 ? vl : 32),
                                        v);
        } else if (key_is(k, kl, "SCHILY.devmajor") || key_is(k, kl, "SCHILY.devminor")) {
                bool major = k[kl - 5] == 'a';
                if (vl == 0)
                        return 0;
                if ((r = pax_number(t, major ? "devmajor" : "devminor", v, vl, &n)) < 0)
                        return r;
                if (n > UINT32_MAX)
                        return tar_fail(t, -EBADMSG, "pax device number out of range");
                if (major)
                        t->devmajor = (uint32_t)n, t->has_devmajor = true;
                else
                        t->devminor = (uint32_t)n, t->has_devminor = true;
        } else if (key_prefix(k, kl, "SCHILY.xattr.")) {
                return xattr_schily(t, k + 13, kl - 13, v, vl);
        } else if (key_prefix(k, kl, "LIBARCHIVE.xattr.")) {
                return xattr_libarchive(t, k + 17, kl - 17, v, vl);
        } else if (key_prefix(k, kl, "GNU.sparse.")) {
                return tar_fail(t, -EOPNOTSUPP, "GNU sparse files are not supported");
        }
        /* uname, gname, atime, ctime, comment, charsets and vendor keys: not used */
        return 0;
}

/* Records are "LENGTH KEY=VALUE\n", LENGTH counting the whole record in bytes. */
static int pax_parse(TarReader *t, const char *p, size_t n) {
        size_t pos = 0;

        while (pos < n) {
                size_t len = 0, i = pos;
                while (i < n && p[i] >= '0' && p[i] <= '9' && i - pos < 8)
                        len = len * 10 + (size_t)(p[i++] - '0');
                if (i == pos || i >= n || p[i] != ' ' || len <= i - pos + 1 || len > n - pos ||
                    p[pos + len - 1] != '\n')
                        return tar_fail(t, -EBADMSG, "malformed pax record at offset %zu of its header",
                                        pos);
                const char *k = p + i + 1;
                const char *end = p + pos + len - 1; /* the newline */
                const char *eq = memchr(k, '=', (size_t)(end - k));
                if (!eq || eq == k)
                        return tar_fail(t, -EBADMSG,
                                        "pax record without a keyword at offset %zu of its header", pos);
                int r = pax_record(t, k, (size_t)(eq - k), eq + 1, (size_t)(end - eq - 1));
                if (r < 0)
                        return r;
                pos += len;
        }
        return 0;
}

/* ---- entries ---- */

/* The GNU long name data: NUL-terminated (often with padding NULs); nothing may follow the first NUL. */
static int gnu_name(TarReader *t, char *data, uint64_t size, const char *what, char **slot) {
        size_t n = strnlen(data, (size_t)size);
        if (n == 0 || n > TAR_MAX_NAME) {
                free(data);
                return tar_fail(t, -EBADMSG, "invalid GNU long %s", what);
        }
        free(*slot);
        *slot = data;
        return 0;
}

static int entry_string(TarReader *t, char **ret, const char *pax, const char *gnu, const uint8_t *h,
                        size_t off, size_t len, const uint8_t *prefix, size_t prefix_len) {
        const char *src = pax ? pax : gnu;
        size_t n = src ? strlen(src) : field_len(h, off, len);
        size_t pn = src || !prefix ? 0 : field_len(prefix, 0, prefix_len);
        char *s = malloc(pn + 1 + n + 1), *o = s;

        if (!s)
                return tar_fail(t, -ENOMEM, "out of memory");
        if (pn > 0) {
                memcpy(o, prefix, pn);
                o += pn;
                *o++ = '/';
        }
        memcpy(o, src ? (const uint8_t *)src : h + off, n);
        o[n] = 0;
        *ret = s;
        return 0;
}

static int entry_build(TarReader *t, const uint8_t *h, char type) {
        bool ustar = memcmp(h + H_MAGIC, "ustar\0", 6) == 0; /* POSIX: the prefix field holds a path */
        TarEntry *e = &t->entry;
        int64_t mode, uid, gid, size, mtime, major = 0, minor = 0;
        int r;

        if ((r = field_number(t, h, H_MODE, "mode", &mode)) < 0 ||
            (r = field_number(t, h, H_UID, "uid", &uid)) < 0 ||
            (r = field_number(t, h, H_GID, "gid", &gid)) < 0 ||
            (r = field_number(t, h, H_SIZE, "size", &size)) < 0 ||
            (r = field_number(t, h, H_MTIME, "mtime", &mtime)) < 0)
                return r;
        if (type == '3' || type == '4') {
                if ((r = field_number(t, h, H_DEVMAJOR, "devmajor", &major)) < 0 ||
                    (r = field_number(t, h, H_DEVMINOR, "devminor", &minor)) < 0)
                        return r;
        }
        e->mode = (uint32_t)(mode & 07777);
        e->uid = t->has_uid ? t->uid : uid;
        e->gid = t->has_gid ? t->gid : gid;
        if (e->uid < 0 || e->gid < 0)
                return tar_fail(t, -EBADMSG, "negative owner in the tar header at byte %llu",
                                (unsigned long long)(t->offset - BLOCK));
        if (t->has_size)
                size = (int64_t)t->size;
        if (size < 0)
                return tar_fail(t, -EBADMSG, "negative size in the tar header at byte %llu",
                                (unsigned long long)(t->offset - BLOCK));
        e->mtime = t->has_mtime ? t->mtime : mtime;
        e->mtime_nsec = t->has_mtime ? t->mtime_nsec : 0;
        if (t->has_devmajor)
                major = t->devmajor;
        if (t->has_devminor)
                minor = t->devminor;
        if (major < 0 || major > UINT32_MAX || minor < 0 || minor > UINT32_MAX)
                return tar_fail(t, -EBADMSG, "device number out of range");
        e->devmajor = (uint32_t)major;
        e->devminor = (uint32_t)minor;

        r = entry_string(t, &e->path, t->pax_path, t->gnu_path, h, H_NAME, ustar ? h + 345 : NULL, 155);
        if (r < 0)
                return r;
        if (!*e->path)
                return tar_fail(t, -EBADMSG, "tar entry without a name at byte %llu",
                                (unsigned long long)(t->offset - BLOCK));

        uint64_t data = 0;
        switch (type) {
        case '1':
                /* no data, whatever the size field says: the Go archive/tar writer most layers come from
                 * and its reader agree on that */
                e->type = TAR_HARDLINK;
                break;
        case '2':
                e->type = TAR_SYMLINK;
                break;
        case '3':
                e->type = TAR_CHR;
                break;
        case '4':
                e->type = TAR_BLK;
                break;
        case '5':
        case 'D': /* GNU dump directory: the data lists its entries */
                e->type = TAR_DIR;
                data = type == 'D' ? (uint64_t)size : 0;
                break;
        case '6':
                e->type = TAR_FIFO;
                break;
        default: /* '0', NUL, '7' (contiguous) and unknown types are regular files (POSIX) */
                e->type = TAR_REG;
                data = (uint64_t)size;
                /* old tars marked directories only by a trailing slash */
                size_t pl = strlen(e->path);
                if (pl > 0 && e->path[pl - 1] == '/' && (type == '0' || type == 0)) {
                        e->type = TAR_DIR;
                        data = 0;
                }
        }
        if (e->type == TAR_HARDLINK || e->type == TAR_SYMLINK) {
                r = entry_string(t, &e->link, t->pax_link, t->gnu_link, h, H_LINKNAME, NULL, 0);
                if (r < 0)
                        return r;
                if (!*e->link)
                        return tar_fail(t, -EBADMSG, "link `%.200s` without a target", e->path);
                if (strlen(e->link) > TAR_MAX_NAME)
                        return tar_fail(t, -EFBIG, "link target longer than %u bytes", TAR_MAX_NAME);
        }
        if (strlen(e->path) > TAR_MAX_NAME)
                return tar_fail(t, -EFBIG, "entry name longer than %u bytes", TAR_MAX_NAME);
        e->size = data;
        e->xattrs = t->xattrs;
        e->n_xattrs = t->n_xattrs;
        /* the entry owns the xattrs now */
        t->xattrs = NULL;
        t->n_xattrs = t->cap_xattrs = 0;
        t->remaining = data;
        t->padding = padding_of(data);
        return 1;
}

static int header_size(TarReader *t, const uint8_t *h, uint64_t *ret) {
        int64_t size;
        int r = field_number(t, h, H_SIZE, "size", &size);
        if (r < 0)
                return r;
        if (size < 0)
                return tar_fail(t, -EBADMSG, "negative size in the tar header at byte %llu",
                                (unsigned long long)(t->offset - BLOCK));
        *ret = (uint64_t)size;
        return 0;
}

int tar_reader_next(TarReader *t, const TarEntry **ret) {
        uint8_t h[BLOCK];
        bool pending = false;
        int r;

        if (t->error < 0)
                return t->error;
        if (t->ended)
                return 0;
        r = skip_bytes(t, t->remaining + t->padding);
        if (r < 0)
                return r;
        t->remaining = t->padding = 0;
        entry_reset(t);
        pending_reset(t);

        for (;;) {
                ssize_t n = read_bytes(t, h, BLOCK);
                if (n < 0)
                        return (int)n;
                if (n == 0 && !pending) {
                        t->ended = true;
                        return 0;
                }
                if (n < (ssize_t)BLOCK)
                        return tar_fail(t, -EBADMSG, "the stream ends inside a tar header (at byte %llu)",
                                        (unsigned long long)t->offset);
                if (block_is_zero(h)) {
                        if (pending)
                                return tar_fail(t, -EBADMSG,
                                                "an extended header is followed by the end of "
                                                "the archive");
                        t->ended = true; /* the rest (a second zero block, padding) is not read */
                        return 0;
                }
                int64_t sum;
                if (tar_parse_number(h + 148, 8, &sum) < 0 || !checksum_ok(h, sum))
                        return tar_fail(t, -EBADMSG, "invalid tar header checksum at byte %llu",
                                        (unsigned long long)(t->offset - BLOCK));

                char type = (char)h[H_TYPE];
                uint64_t size;
                char *data = NULL;
                switch (type) {
                case 'x':
                case 'L':
                case 'K':
                        if ((r = header_size(t, h, &size)) < 0)
                                return r;
                        r = read_extension(t, size, type == 'x' ? TAR_MAX_PAX : TAR_MAX_NAME + BLOCK,
                                           type == 'x' ? "pax header" : "GNU long name", &data);
                        if (r < 0)
                                return r;
                        if (type == 'x') {
                                r = pax_parse(t, data, (size_t)size);
                                free(data);
                        } else
                                r = gnu_name(t, data, size, type == 'L' ? "name" : "link name",
                                             type == 'L' ? &t->gnu_path : &t->gnu_link);
                        if (r < 0)
                                return r;
                        pending = true;
                        continue;
                case 'g': /* global pax header: nothing in it changes how a layer is extracted */
                case 'V': /* GNU volume label */
                        if ((r = header_size(t, h, &size)) < 0)
                                return r;
                        if ((r = skip_bytes(t, size + padding_of(size))) < 0)
                                return r;
                        continue;
                case 'S':
                        return tar_fail(t, -EOPNOTSUPP, "GNU sparse files are not supported");
                case 'M':
                case 'N':
                        return tar_fail(t, -EOPNOTSUPP,
                                        "GNU multi-volume archives and old long names are "
                                        "not supported");
                default:
                        break;
                }
                r = entry_build(t, h, type);
                if (r < 0)
                        return r;
                pending_reset(t);
                *ret = &t->entry;
                return 1;
        }
}

ssize_t tar_reader_data(TarReader *t, const uint8_t **ret) {
        if (t->error < 0)
                return t->error;
        if (t->remaining == 0)
                return 0;
        ssize_t a = avail(t);
        if (a < 0)
                return a;
        if (a == 0)
                return tar_fail(t, -EBADMSG, "the stream ends inside the data of `%.200s`",
                                t->entry.path ? t->entry.path : "");
        size_t n = (uint64_t)a < t->remaining ? (size_t)a : (size_t)t->remaining;
        *ret = t->chunk + t->chunk_pos;
        t->chunk_pos += n;
        t->offset += n;
        t->remaining -= n;
        return (ssize_t)n;
}
