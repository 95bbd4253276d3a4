/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A Varlink byte stream: NUL-delimited messages in, serialized messages
 * out, with optional SCM_RIGHTS fds on both sides. Shared by the server's
 * connections and the client.
 *
 * Input buffers start small and grow up to the message size limit, and
 * shrink back when a large message has been consumed, so an idle connection
 * costs a few KiB at most.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VL_STREAM_MAX_FDS 16

typedef struct VlStream {
        int fd;
        /* input: bytes [in_start, in_start + in_len) are unconsumed; the
         * first in_scanned of them hold no NUL */
        char *in;
        size_t in_start, in_len, in_cap, in_scanned;
        /* output: bytes [out_start, out_len) wait to be written */
        char *out;
        size_t out_start, out_len, out_cap;
        size_t max_message;
        bool accept_fds;
        /* Peek mode never reads past the first NUL the socket holds, so no byte
         * after an upgrading call leaves the kernel (one more syscall a message). */
        bool peek;
        bool eof;
        bool blocking; /* reads wait (SO_RCVTIMEO bounds them) */
        int in_fds[VL_STREAM_MAX_FDS];
        unsigned n_in_fds;
        int out_fds[VL_STREAM_MAX_FDS];
        unsigned n_out_fds;
} VlStream;

void vl_stream_init(VlStream *s, int fd, size_t max_message);
/* Frees buffers and queued fds; closes the fd unless keep_fd. */
void vl_stream_done(VlStream *s, bool keep_fd);

/* One read from the socket. Returns > 0 bytes read, 0 when it would block,
 * -ECONNRESET at end of stream, -E2BIG when a message outgrows the limit,
 * other negative errnos. */
int vl_stream_read(VlStream *s);

/* The next complete message, without its NUL, NUL-terminated in place; valid
 * until the next read. Returns 1 and the message, 0 if none is complete yet,
 * -E2BIG if the buffered part is over the limit. */
int vl_stream_take(VlStream *s, char **ret, size_t *ret_len);

/* Queue bytes (one whole message including its NUL, or raw). */
int vl_stream_queue(VlStream *s, const char *p, size_t n);
/* Room to serialize into directly: returns a pointer to at least n free bytes. */
char *vl_stream_out_reserve(VlStream *s, size_t n);
/* Write what is queued. Returns 1 when everything is written, 0 if some is
 * left (would block), negative errno on failure. */
int vl_stream_flush(VlStream *s);
/* Write everything, waiting (poll) up to timeout_usec (0 = forever). */
int vl_stream_flush_all(VlStream *s, uint64_t timeout_usec);
static inline bool vl_stream_has_output(const VlStream *s) {
        return s->out_len > s->out_start;
}

/* Take a received fd (ownership moves to the caller). */
int vl_stream_take_fd(VlStream *s, unsigned idx);
void vl_stream_close_in_fds(VlStream *s);
/* Queue a dup of fd to go out with the next write. */
int vl_stream_push_fd(VlStream *s, int fd);

/* The buffered unconsumed input (for upgrades). */
static inline size_t vl_stream_pending(const VlStream *s, const char **ret) {
        *ret = s->in + s->in_start;
        return s->in_len;
}
