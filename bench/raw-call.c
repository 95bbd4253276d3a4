/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The floor for "varlink call" as a whole process: connect to a unix socket,
 * send one fixed call, read up to the reply's NUL, exit. No JSON, no
 * library: what remains is process start-up and the service's own time.
 *
 *   raw-call /path/to/socket
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char call[] = "{\"method\":\"org.varlink.certification.Start\"}";

int main(int argc, char **argv) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char buf[4096];
        int fd;

        if (argc != 2 || strlen(argv[1]) >= sizeof sa.sun_path) {
                fprintf(stderr, "usage: raw-call SOCKET-PATH\n");
                return 2;
        }
        strcpy(sa.sun_path, argv[1]);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                perror("raw-call: connect");
                return 1;
        }
        /* sizeof includes the terminating NUL, which is the message delimiter. */
        if (write(fd, call, sizeof call) != (ssize_t)sizeof call) {
                perror("raw-call: write");
                return 1;
        }
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        fprintf(stderr, "raw-call: no complete reply\n");
                        return 1;
                }
                if (memchr(buf, '\0', (size_t)n))
                        break;
        }
        close(fd);
        return 0;
}
