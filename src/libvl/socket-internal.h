/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small fd helpers shared by libvl's transport, stream and server code (not installed). */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>

/* Set or clear O_NONBLOCK. Returns 0 or a negative errno. */
static inline int fd_set_nonblock(int fd, bool nonblock) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        int nflags = nonblock ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        if (nflags != flags && fcntl(fd, F_SETFL, nflags) < 0)
                return -errno;
        return 0;
}

/* Set or clear FD_CLOEXEC. Returns 0 or a negative errno. */
static inline int fd_set_cloexec(int fd, bool cloexec) {
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0)
                return -errno;
        int nflags = cloexec ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
        if (nflags != flags && fcntl(fd, F_SETFD, nflags) < 0)
                return -errno;
        return 0;
}
