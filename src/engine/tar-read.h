/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A streaming tar reader for layer and image-archive streams: ustar, POSIX
 * pax extended headers (path, linkpath, size, uid, gid, mtime,
 * SCHILY.xattr.*, LIBARCHIVE.xattr.*, SCHILY.devmajor/devminor), GNU long
 * names and link names ('L', 'K'), GNU base-256 numbers and old v7 headers.
 * GNU sparse files and multi-volume archives are refused; pax global
 * headers are skipped.
 *
 * The uncompressed stream is pulled through a callback in chunks of any
 * size; file data is handed out where it lies in those chunks, without a
 * copy. Every size the stream controls is bounded (names, pax headers,
 * xattrs), and a malformed stream is an error with a message, never a
 * guess. Paths are returned as written: cleaning and the safety rules are
 * the extractor's (extract.c).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TAR_MAX_NAME  4096u           /* path and link target bytes */
#define TAR_MAX_PAX   (1024u * 1024u) /* one pax extended header */
#define TAR_MAX_XATTR 256u            /* extended attributes per entry */

typedef enum TarType {
        TAR_REG,
        TAR_HARDLINK,
        TAR_SYMLINK,
        TAR_CHR,
        TAR_BLK,
        TAR_DIR,
        TAR_FIFO,
} TarType;

typedef struct TarXattr {
        char *name;
        uint8_t *value;
        size_t size;
} TarXattr;

typedef struct TarEntry {
        TarType type;
        char *path;       /* as written in the archive; no NUL inside */
        char *link;       /* hard link or symlink target; NULL for other types */
        uint32_t mode;    /* permission bits only (07777) */
        int64_t uid, gid; /* never negative */
        uint64_t size;    /* data bytes that follow (regular files, hard links with data) */
        int64_t mtime;    /* seconds since the epoch, may be negative */
        long mtime_nsec;
        uint32_t devmajor, devminor;
        TarXattr *xattrs;
        size_t n_xattrs;
} TarEntry;

/* The next chunk of the uncompressed stream: its length (the bytes stay valid until the next call), 0 at
 * the end of the stream, or -errno (passed through to the caller, which knows the reason). */
typedef ssize_t (*TarSource)(void *userdata, const uint8_t **ret);

typedef struct TarReader {
        TarSource source;
        void *userdata;
        const uint8_t *chunk;
        size_t chunk_len, chunk_pos;
        uint64_t offset;    /* stream bytes consumed */
        uint64_t remaining; /* data bytes of the current entry not yet handed out */
        uint64_t padding;   /* zero bytes after them, up to the next 512-byte block */
        bool eof, ended;
        int error;         /* the first failure, -errno; sticky */
        char message[256]; /* what was wrong with the stream; empty when the source failed */
        TarEntry entry;
        /* what extended headers said about the next entry */
        char *pax_path, *pax_link, *gnu_path, *gnu_link;
        bool has_size, has_uid, has_gid, has_mtime, has_devmajor, has_devminor;
        uint64_t size;
        int64_t uid, gid, mtime;
        long mtime_nsec;
        uint32_t devmajor, devminor;
        TarXattr *xattrs;
        size_t n_xattrs, cap_xattrs;
} TarReader;

void tar_reader_init(TarReader *t, TarSource source, void *userdata);
void tar_reader_done(TarReader *t);

/*
 * Advance to the next entry, skipping whatever is left of the current one's
 * data. 1 with *ret set (valid until the next call), 0 at the end of the
 * archive (two zero blocks, one, or the stream ending on a header
 * boundary), or -errno: the source's error as it returned it, or -EBADMSG
 * (-EFBIG for sizes over the limits, -EOPNOTSUPP for sparse files) with
 * t->message saying what is wrong.
 */
int tar_reader_next(TarReader *t, const TarEntry **ret);

/* The next piece of the current entry's data: its length, 0 once all of it was read, or -errno as for
 * tar_reader_next (a stream ending inside the data is -EBADMSG). */
ssize_t tar_reader_data(TarReader *t, const uint8_t **ret);

/* A numeric header field: octal (space or NUL terminated, leading spaces allowed) or GNU base-256.
 * 0 or -EINVAL. Exposed for tests. */
int tar_parse_number(const uint8_t *field, size_t len, int64_t *ret);
