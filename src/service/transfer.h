/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What both ends of an upgraded connection share: the service's file and copy methods (images-io.c,
 * containers-upgrade.c, ext-copy.c) and remote mode's clients of them (src/cpod/remote-*.c).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The chunk size of transfers that go through a buffer. */
#define TRANSFER_CHUNK (256 * 1024)

/* Write all n bytes to fd (a socket without SIGPIPE, or any other fd), retrying on EINTR: 0 or -errno. */
int transfer_write_all(int fd, const void *p, size_t n);

/* Copy size bytes of fd, from its offset, to out: sendfile, or read and write through buf (TRANSFER_CHUNK
 * bytes) where sendfile cannot (out a pipe on old kernels). -EIO when fd ends early. */
int transfer_copy(int out, int fd, uint64_t size, char *buf);

/* The entry a copy of path (`cpod cp`) is staged as: its last name ("root" for "/"), and whether a
 * directory's contents are meant ("dir/.", "/"), as container_copy tells them. -EINVAL for "..". */
int transfer_copy_entry(const char *path, char **ret, bool *ret_contents);

/* A staging directory for `cpod cp` (both ends stage so that container_copy's rules apply on each side). */
typedef struct TransferStage {
        char path[4096];
        int fd; /* the directory, open */
} TransferStage;

/* Create <dir>/<prefix>XXXXXX and open it. */
int transfer_stage_open(TransferStage *st, const char *dir, const char *prefix, CpodError *err);
/* Close and remove it with all it holds. */
void transfer_stage_done(TransferStage *st);

/* Replace every occurrence of from in err's message by to (staging paths by what the user typed). */
void transfer_message_replace(CpodError *err, const char *from, const char *to);

/* A new empty file (mode 0600) under $TMPDIR, else /var/tmp, for an export without a path: the client
 * fetches it with ReceiveFile (delete: true). */
int transfer_temp_file(char **ret, CpodError *err);
