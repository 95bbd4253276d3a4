/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vl/transport.h>

#include "tests.h"

static char tmpdir[64];

static const char *tmp_path(const char *name) {
        static char buf[4][128];
        static unsigned i;
        char *p = buf[i++ % 4];
        snprintf(p, sizeof(buf[0]), "%s/%s", tmpdir, name);
        return p;
}

static const char *startswith(const char *s, const char *p) {
        return strncmp(s, p, strlen(p)) == 0 ? s + strlen(p) : NULL;
}

static bool streq_ptr(const char *a, const char *b) {
        return a && b ? strcmp(a, b) == 0 : a == b;
}

static int count_fds(void) {
        int n = 0;
        for (int fd = 0; fd < 1024; fd++)
                if (fcntl(fd, F_GETFD) >= 0)
                        n++;
        return n;
}

/* Runs first: the last test checks that nothing in between leaked an fd. */
static int fds_at_start;
TEST(count_fds_at_start) {
        fds_at_start = count_fds();
}

/* ---- address parsing ---- */

typedef struct GoodAddress {
        const char *address;
        VlAddressKind kind;
        const char *path, *host, *port;
        int mode;
} GoodAddress;

static void long_names(char *path107, char *path108, char *abs107, char *abs108) {
        strcpy(path107, "unix:/");
        memset(path107 + 6, 'p', 106);
        path107[6 + 106] = '\0';
        strcpy(path108, path107);
        strcat(path108, "p");
        strcpy(abs107, "unix:@");
        memset(abs107 + 6, 'a', 107);
        abs107[6 + 107] = '\0';
        strcpy(abs108, abs107);
        strcat(abs108, "a");
}

TEST(address_parse) {
        static const GoodAddress good[] = {
                {"unix:/run/x", VL_ADDRESS_UNIX, "/run/x", NULL, NULL, -1},
                {"unix:/run/x;mode=0660", VL_ADDRESS_UNIX, "/run/x", NULL, NULL, 0660},
                {"unix:/run/x;mode=600", VL_ADDRESS_UNIX, "/run/x", NULL, NULL, 0600},
                {"unix:/run/x;mode=7777", VL_ADDRESS_UNIX, "/run/x", NULL, NULL, 07777},
                {"unix:rel/sock", VL_ADDRESS_UNIX, "rel/sock", NULL, NULL, -1},
                {"unix:@io.example", VL_ADDRESS_ABSTRACT, "io.example", NULL, NULL, -1},
                {"tcp:127.0.0.1:123", VL_ADDRESS_TCP, NULL, "127.0.0.1", "123", -1},
                {"tcp:[::1]:123", VL_ADDRESS_TCP, NULL, "::1", "123", -1},
                {"tcp:[fe80::1%lo]:1", VL_ADDRESS_TCP, NULL, "fe80::1%lo", "1", -1},
                {"tcp:localhost:65535", VL_ADDRESS_TCP, NULL, "localhost", "65535", -1},
                {"tcp:host:0080", VL_ADDRESS_TCP, NULL, "host", "80", -1},
                {"exec:/usr/bin/x", VL_ADDRESS_EXEC, "/usr/bin/x", NULL, NULL, -1},
                {"exec:/opt/a;b;mode=1", VL_ADDRESS_EXEC, "/opt/a;b;mode=1", NULL, NULL, -1},
        };
        static const char *const bad[] = {
                "",
                "unix",
                "unix:",
                "unix:@",
                "unix:;mode=0600",
                "unix:/x;mode=",
                "unix:/x;mode=0800",
                "unix:/x;mode=17777",
                "unix:/x;mode=0x1ff",
                "unix:/x;mode=0660;mode=0600",
                "unix:/x;foo=bar",
                "unix:/x;mode",
                "unix:/x;",
                "unix:/x;;mode=0600",
                "unix:@abs;mode=0600",
                "tcp:",
                "tcp:host",
                "tcp:host:",
                "tcp:host:0",
                "tcp:host:65536",
                "tcp:host:99999999999",
                "tcp:host:http",
                "tcp:host:-1",
                "tcp:host:+80",
                "tcp:host:80 ",
                "tcp::80",
                "tcp:::1:80",
                "tcp:[::1]80",
                "tcp:[::1]",
                "tcp:[]:80",
                "tcp:[::1:80",
                "tcp:host:80;mode=0600",
                "exec:",
                "http://x",
                "UNIX:/x",
                "foo:bar",
                "/run/x",
        };
        char path107[128], path108[128], abs107[128], abs108[128];
        VlAddress a;

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                const GoodAddress *g = &good[i];
                memset(&a, 0xaa, sizeof(a));
                if (!is_int(vl_address_parse(g->address, &a), 0, "parse \"%s\"", g->address))
                        continue;
                ok(a.kind == g->kind && streq_ptr(a.path, g->path) && streq_ptr(a.host, g->host) &&
                           streq_ptr(a.port, g->port) && a.mode == g->mode,
                   "\"%s\": kind %d path %s host %s port %s mode %o", g->address, (int)a.kind,
                   a.path ? a.path : "-", a.host ? a.host : "-", a.port ? a.port : "-", a.mode);
                vl_address_done(&a);
                ok(!a.path && !a.host && !a.port, "vl_address_done clears \"%s\"", g->address);
        }

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                VlAddress untouched = {.kind = VL_ADDRESS_EXEC, .mode = 42};
                a = untouched;
                is_int(vl_address_parse(bad[i], &a), -EINVAL, "reject \"%s\"", bad[i]);
                ok(a.kind == VL_ADDRESS_EXEC && a.mode == 42 && !a.path, "output untouched for \"%s\"",
                   bad[i]);
        }

        long_names(path107, path108, abs107, abs108);
        is_int(vl_address_parse(path107, &a), 0, "a path of 107 bytes fits sun_path");
        vl_address_done(&a);
        is_int(vl_address_parse(path108, &a), -EINVAL, "a path of 108 bytes does not");
        is_int(vl_address_parse(abs107, &a), 0, "an abstract name of 107 bytes fits");
        vl_address_done(&a);
        is_int(vl_address_parse(abs108, &a), -EINVAL, "an abstract name of 108 bytes does not");
        is_int(vl_address_parse(NULL, &a), -EINVAL, "NULL address");
        vl_address_done(NULL);
}

/* ---- listen + connect ---- */

static bool fd_has(int fd, int getcmd, int flag) {
        int f = fcntl(fd, getcmd);
        return f >= 0 && (f & flag);
}

/* Wait for and read exactly len bytes from a (possibly non-blocking) fd. */
static ssize_t read_all(int fd, char *buf, size_t len, int timeout_ms) {
        size_t got = 0;
        while (got < len) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, timeout_ms) <= 0)
                        break;
                ssize_t l = read(fd, buf + got, len - got);
                if (l < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                if (l <= 0)
                        break;
                got += (size_t)l;
        }
        return (ssize_t)got;
}

static void round_trip(const char *address) {
        int l = vl_listen_address(address);
        if (!ok(l >= 0, "listen on %s (%d)", address, l))
                return;
        ok(fd_has(l, F_GETFL, O_NONBLOCK), "listening socket is non-blocking");
        ok(fd_has(l, F_GETFD, FD_CLOEXEC), "listening socket is close-on-exec");
        ok(vl_socket_is_listening(l), "vl_socket_is_listening on the listening socket");

        pid_t pid = -1;
        int c = vl_connect_address(address, &pid);
        if (ok(c >= 0, "connect to %s (%d)", address, c)) {
                is_int(pid, 0, "no child for %s", address);
                ok(fd_has(c, F_GETFL, O_NONBLOCK), "connected socket is non-blocking");
                ok(fd_has(c, F_GETFD, FD_CLOEXEC), "connected socket is close-on-exec");
                ok(!vl_socket_is_listening(c), "a connected socket is not listening");

                int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
                ok(s >= 0, "accept");
                ok(write(c, "ping", 4) == 4, "write ping");
                char buf[8] = {};
                is_int(read_all(s, buf, 4, 2000), 4, "server reads 4 bytes");
                is_str(buf, "ping", "server got ping");
                ok(write(s, "pong", 4) == 4, "write pong");
                memset(buf, 0, sizeof(buf));
                is_int(read_all(c, buf, 4, 2000), 4, "client reads 4 bytes");
                is_str(buf, "pong", "client got pong");

                if (startswith(address, "tcp:")) {
                        int v = 0;
                        socklen_t len = sizeof(v);
                        ok(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0 && v,
                           "TCP_NODELAY is set");
                }
                close(s);
                close(c);
        }
        close(l);
}

/* A port nobody listens on right now, for the given loopback address. */
static int free_port(int family) {
        struct sockaddr_storage ss = {};
        socklen_t len;
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        if (family == AF_INET6) {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_addr = in6addr_loopback;
                len = sizeof(*sin6);
        } else {
                struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
                sin->sin_family = AF_INET;
                sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                len = sizeof(*sin);
        }
        if (bind(fd, (struct sockaddr *)&ss, len) < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
                close(fd);
                return -1;
        }
        close(fd);
        return ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                        : ((struct sockaddr_in *)&ss)->sin_port);
}

TEST(round_trips) {
        char address[160];

        snprintf(address, sizeof(address), "unix:%s", tmp_path("sock"));
        round_trip(address);
        unlink(tmp_path("sock"));

        snprintf(address, sizeof(address), "unix:@vl-test-%d", (int)getpid());
        round_trip(address);

        int port = free_port(AF_INET);
        snprintf(address, sizeof(address), "tcp:127.0.0.1:%d", port);
        round_trip(address);

        port = free_port(AF_INET6);
        if (port > 0) {
                snprintf(address, sizeof(address), "tcp:[::1]:%d", port);
                round_trip(address);
        } else
                ok(1, "# SKIP ::1 is not available");

        is_int(vl_listen_address("exec:/bin/true"), -EINVAL, "exec: cannot be listened on");
        is_int(vl_listen_address("bogus"), -EINVAL, "a bad address cannot be listened on");
        snprintf(address, sizeof(address), "unix:%s", tmp_path("nobody"));
        is_int(vl_connect_address(address, NULL), -ENOENT, "connect to a missing socket: -ENOENT");
        snprintf(address, sizeof(address), "unix:@vl-test-nobody-%d", (int)getpid());
        is_int(vl_connect_address(address, NULL), -ECONNREFUSED, "connect to a missing abstract socket");
        port = free_port(AF_INET);
        snprintf(address, sizeof(address), "tcp:127.0.0.1:%d", port);
        is_int(vl_connect_address(address, NULL), -ECONNREFUSED, "connect to a closed tcp port");
}

TEST(unix_mode_and_stale) {
        char address[160];
        struct stat st;

        mode_t old = umask(022);
        snprintf(address, sizeof(address), "unix:%s;mode=0660", tmp_path("m"));
        int l = vl_listen_address(address);
        ok(l >= 0, "listen with mode=0660");
        ok(stat(tmp_path("m"), &st) == 0 && S_ISSOCK(st.st_mode), "socket file exists");
        is_int(st.st_mode & 07777, 0660, "mode 0660 applied despite umask 022");

        /* A live socket is not taken over. */
        is_int(vl_listen_address(address), -EADDRINUSE, "a socket someone listens on is in use");
        close(l);

        /* Now it is stale: replaced. */
        snprintf(address, sizeof(address), "unix:%s;mode=0600", tmp_path("m"));
        l = vl_listen_address(address);
        ok(l >= 0, "a stale socket file is replaced (%d)", l);
        ok(stat(tmp_path("m"), &st) == 0 && (st.st_mode & 07777) == 0600, "mode 0600 applied");
        int c = vl_connect_address(address, NULL);
        ok(c >= 0, "the new socket accepts connections");
        close(c);
        close(l);

        /* Default mode: 0666 & ~umask. */
        unlink(tmp_path("m"));
        snprintf(address, sizeof(address), "unix:%s", tmp_path("m"));
        l = vl_listen_address(address);
        ok(l >= 0 && stat(tmp_path("m"), &st) == 0, "listen without mode");
        is_int(st.st_mode & 0666, 0644, "default mode follows the umask");
        close(l);
        unlink(tmp_path("m"));
        umask(old);

        /* Something that is not a socket is never removed. */
        int f = open(tmp_path("file"), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        close(f);
        snprintf(address, sizeof(address), "unix:%s", tmp_path("file"));
        is_int(vl_listen_address(address), -EADDRINUSE, "a regular file is not replaced");
        ok(stat(tmp_path("file"), &st) == 0 && S_ISREG(st.st_mode), "the file is still there");
        unlink(tmp_path("file"));
}

/* ---- socket activation (in a child, which may clobber fds 3…) ---- */

static int report_fd = -1;

static void cok(bool cond, const char *name) {
        dprintf(report_fd, "%d %s\n", cond ? 1 : 0, name);
}

static void place_fd(int fd, int target) {
        if (fd != target) {
                dup2(fd, target);
                close(fd);
        }
}

static void set_env(const char *pid, const char *fds, const char *names) {
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_FDNAMES");
        if (pid)
                setenv("LISTEN_PID", pid, 1);
        if (fds)
                setenv("LISTEN_FDS", fds, 1);
        if (names)
                setenv("LISTEN_FDNAMES", names, 1);
}

static void activation_child(void) {
        char mypid[16], otherpid[16];
        int fds[8];
        int pair[2];

        snprintf(mypid, sizeof(mypid), "%d", (int)getpid());
        snprintf(otherpid, sizeof(otherpid), "%d", (int)getppid());

        set_env(NULL, NULL, NULL);
        cok(vl_activation_fds(fds, 8) == 0, "not activated: 0");

        set_env(otherpid, "1", NULL);
        cok(vl_activation_fds(fds, 8) == 0, "LISTEN_PID of another process: 0");
        cok(!getenv("LISTEN_PID") && !getenv("LISTEN_FDS"), "variables unset anyway");

        /* fd 3: a listening socket, fd 4: a connected one, fd 5: another listening one. */
        int l1 = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "vl-test-act-%d", (int)getpid());
        bind(l1, (struct sockaddr *)&sa, sizeof(sa));
        listen(l1, 1);
        socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
        int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
        listen(l2, 1); /* autobind */
        place_fd(l1, 30);
        place_fd(pair[0], 31);
        place_fd(l2, 32);
        place_fd(30, 3);
        place_fd(31, 4);
        place_fd(32, 5);

        set_env(mypid, "1", NULL);
        int n = vl_activation_fds(fds, 8);
        cok(n == 1 && fds[0] == 3, "one fd: 3");
        cok((fcntl(3, F_GETFD) & FD_CLOEXEC) != 0, "made close-on-exec");
        cok(!getenv("LISTEN_PID") && !getenv("LISTEN_FDS") && !getenv("LISTEN_FDNAMES"), "variables unset");
        cok(vl_socket_is_listening(3), "fd 3 is listening");
        cok(!vl_socket_is_listening(4), "fd 4 (connected) is not listening");
        cok(!vl_socket_is_listening(-1), "an invalid fd is not listening");

        set_env(mypid, "3", NULL);
        n = vl_activation_fds(fds, 8);
        cok(n == 3 && fds[0] == 3 && fds[1] == 4 && fds[2] == 5, "no names: all three");
        cok((fcntl(5, F_GETFD) & FD_CLOEXEC) != 0, "all made close-on-exec");

        set_env(mypid, "3", "other:varlink:x");
        n = vl_activation_fds(fds, 8);
        cok(n == 1 && fds[0] == 4, "names: only the one named varlink");

        set_env(mypid, "3", "varlink:x:varlink");
        n = vl_activation_fds(fds, 8);
        cok(n == 2 && fds[0] == 3 && fds[1] == 5, "names: both named varlink");

        set_env(mypid, "3", "a:b:c");
        n = vl_activation_fds(fds, 8);
        cok(n == 3, "names without varlink: all");

        set_env(mypid, "3", "a");
        n = vl_activation_fds(fds, 8);
        cok(n == 3, "fewer names than fds, none varlink: all");

        set_env(mypid, "3", NULL);
        n = vl_activation_fds(fds, 2);
        cok(n == 2 && fds[0] == 3 && fds[1] == 4, "at most max");

        set_env(mypid, "x", NULL);
        cok(vl_activation_fds(fds, 8) == -EINVAL, "bad LISTEN_FDS: -EINVAL");
        cok(!getenv("LISTEN_FDS"), "unset after an error too");

        set_env("12x", "1", NULL);
        cok(vl_activation_fds(fds, 8) == -EINVAL, "bad LISTEN_PID: -EINVAL");

        close(5);
        set_env(mypid, "3", NULL);
        cok(vl_activation_fds(fds, 8) == -EBADF, "a missing fd: -EBADF");

        set_env(mypid, "0", NULL);
        cok(vl_activation_fds(fds, 8) == 0, "LISTEN_FDS=0: 0");

        cok(vl_activation_fds(NULL, 1) == -EINVAL, "NULL fds: -EINVAL");
}

TEST(activation) {
        int p[2];

        if (!ok(pipe2(p, O_CLOEXEC) == 0, "pipe"))
                return;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
                report_fd = fcntl(p[1], F_DUPFD_CLOEXEC, 100);
                activation_child();
                _exit(0);
        }
        close(p[1]);

        FILE *f = fdopen(p[0], "r");
        char line[256];
        int n = 0;
        while (f && fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                ok(line[0] == '1', "%s", line + 2);
                n++;
        }
        if (f)
                fclose(f);
        int status;
        waitpid(pid, &status, 0);
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && n > 10, "activation checks ran (%d)", n);
}

/* ---- spawning ---- */

static int wait_exit(pid_t pid) {
        int status;
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void write_script(const char *path, const char *text) {
        int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0755);
        (void)!write(fd, text, strlen(text));
        close(fd);
}

TEST(exec) {
        char address[160];
        char buf[64] = {};

        /* A service that checks its activation environment, then echoes fd 3. */
        write_script(tmp_path("echo-service"),
                     "#!/bin/sh\n"
                     "if [ \"$LISTEN_FDS\" != 1 ] || [ \"$LISTEN_FDNAMES\" != varlink ] || "
                     "[ \"$LISTEN_PID\" != $$ ]; then\n"
                     "  echo \"bad env: $LISTEN_FDS $LISTEN_FDNAMES $LISTEN_PID $$\" >&3; exit 1\n"
                     "fi\n"
                     "exec 0<&3 1>&3 3>&-\n"
                     "exec cat\n");
        snprintf(address, sizeof(address), "exec:%s", tmp_path("echo-service"));

        pid_t pid = 0;
        int fd = vl_connect_address(address, &pid);
        if (ok(fd >= 0, "connect to exec: (%d)", fd)) {
                ok(pid > 0, "child pid returned");
                ok(fd_has(fd, F_GETFL, O_NONBLOCK), "our end is non-blocking");
                ok(fd_has(fd, F_GETFD, FD_CLOEXEC), "our end is close-on-exec");
                ok(write(fd, "hello", 5) == 5, "write hello");
                is_int(read_all(fd, buf, 5, 5000), 5, "read 5 bytes back");
                is_str(buf, "hello", "the service echoed on fd 3 with the right environment");
                close(fd);
                is_int(wait_exit(pid), 0, "service exits 0 on EOF");
        }

        write_script(tmp_path("not-exec"), "#!/bin/sh\n");
        chmod(tmp_path("not-exec"), 0644);
        snprintf(address, sizeof(address), "exec:%s", tmp_path("not-exec"));
        is_int(vl_connect_address(address, NULL), -EACCES, "not executable (no x bit): -EACCES");
        snprintf(address, sizeof(address), "exec:%s", tmp_path("missing"));
        is_int(vl_connect_address(address, &pid), -ENOENT, "missing program: -ENOENT");
}

TEST(bridge) {
        char buf[16] = {};
        pid_t pid = 0;

        int fd = vl_spawn_bridge("cat", &pid);
        if (!ok(fd >= 0, "bridge through cat (%d)", fd))
                return;
        ok(pid > 0, "child pid returned");
        ok(fd_has(fd, F_GETFL, O_NONBLOCK), "our end is non-blocking");
        ok(write(fd, "bridged", 7) == 7, "write");
        is_int(read_all(fd, buf, 7, 5000), 7, "read 7 bytes back");
        is_str(buf, "bridged", "what we write comes back");
        close(fd);
        is_int(wait_exit(pid), 0, "cat exits 0 on EOF");

        fd = vl_spawn_bridge("exit 3", &pid);
        ok(fd >= 0, "a bridge command that fails still spawns");
        is_int(wait_exit(pid), 3, "its exit status is the caller's to see");
        close(fd);
        is_int(vl_spawn_bridge(NULL, &pid), -EINVAL, "NULL command");
}

static bool wait_for_file(const char *path, int timeout_ms) {
        struct stat st;
        for (int i = 0; i < timeout_ms / 10; i++) {
                if (stat(path, &st) == 0 && st.st_size > 0)
                        return true;
                usleep(10000);
        }
        return false;
}

TEST(spawn_activated) {
        char command[512], expected[256], line[256] = {};
        char *address = NULL;
        pid_t pid = 0;

        /* Write the environment in one go (rename), then hold the socket. */
        snprintf(command, sizeof(command),
                 "echo \"$LISTEN_FDS $LISTEN_FDNAMES $LISTEN_PID $$ $VARLINK_ADDRESS\" > %s.tmp && "
                 "mv %s.tmp %s && exec sleep 30",
                 tmp_path("env"), tmp_path("env"), tmp_path("env"));
        int r = vl_spawn_activated(command, &address, &pid);
        if (!is_int(r, 0, "vl_spawn_activated"))
                return;
        ok(address && startswith(address, "unix:@"), "a private abstract address: %s", address);
        ok(pid > 0, "child pid returned");

        ok(wait_for_file(tmp_path("env"), 5000), "the child wrote its environment");
        FILE *f = fopen(tmp_path("env"), "re");
        if (f) {
                (void)!fgets(line, sizeof(line), f);
                fclose(f);
        }
        line[strcspn(line, "\n")] = '\0';
        snprintf(expected, sizeof(expected), "1 varlink %d %d %s", (int)pid, (int)pid, address);
        is_str(line, expected, "LISTEN_FDS=1, LISTEN_FDNAMES=varlink, LISTEN_PID, VARLINK_ADDRESS");

        int c = vl_connect_address(address, NULL);
        ok(c >= 0, "connect to the child's socket (%d)", c);
        close(c);

        kill(pid, SIGTERM);
        is_int(wait_exit(pid), 128 + SIGTERM, "child ended");
        is_int(vl_connect_address(address, NULL), -ECONNREFUSED, "gone with the child: we kept no copy");
        free(address);
        unlink(tmp_path("env"));

        is_int(vl_spawn_activated(NULL, &address, &pid), -EINVAL, "NULL command");
}

TEST(no_fd_leaked) {
        is_int(count_fds(), fds_at_start, "no fd leaked");
}

int main(void) {
        strcpy(tmpdir, "/tmp/test-transport-XXXXXX");
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                return 1;
        }
        signal(SIGPIPE, SIG_IGN);
        int r = run_tests();
        unlink(tmp_path("echo-service"));
        unlink(tmp_path("not-exec"));
        rmdir(tmpdir);
        return r;
}
