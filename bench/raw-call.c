/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The floor for "varlink call" as a whole process: connect to a unix socket,
 * send one fixed call, read up to the reply's NUL, exit. No JSON, no
 * library: what remains is process start-up and the service's own time.
 *
 *   raw-call /path/to/socket [INTERFACE.METHOD]
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        const char *method = argc > 2 ? argv[2] : "org.varlink.certification.Start";
        char buf[4096], call[512];
        int fd, n;

        if (argc < 2 || argc > 3 || strlen(argv[1]) >= sizeof sa.sun_path) {
                fprintf(stderr, "usage: raw-call SOCKET-PATH [INTERFACE.METHOD]\n");
                return 2;
        }
        /* n + 1: the terminating NUL is the message delimiter. */
        n = snprintf(call, sizeof call, "{\"method\":\"%s\"}", method);
        if (n < 0 || (size_t)n + 1 > sizeof call)
                return 2;
        strcpy(sa.sun_path, argv[1]);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                perror("raw-call: connect");
                return 1;
        }
        if (write(fd, call, (size_t)n + 1) != (ssize_t)n + 1) {
                perror("raw-call: write");
                return 1;
        }
        for (;;) {
                ssize_t k = read(fd, buf, sizeof buf);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        fprintf(stderr, "raw-call: no complete reply\n");
                        return 1;
                }
                if (memchr(buf, '\0', (size_t)k))
                        break;
        }
        close(fd);
        return 0;
}
