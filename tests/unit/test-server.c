/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The server seen through a raw socket: exact bytes in, exact bytes out. */

#include <poll.h>
#include <sys/un.h>

#include "tests.h"
#include "test-service.h"

static char address[108];
static pid_t service;

static int raw_connect(void) {
        int fd = vl_connect_address(address, NULL);
        if (fd >= 0) {
                int fl = fcntl(fd, F_GETFL);
                fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
                struct timeval tv = {.tv_sec = 5};
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        }
        return fd;
}

static void send_bytes(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
                if (k <= 0)
                        return;
                p += k;
                n -= (size_t)k;
        }
}

/* Send one message (the NUL is added). */
static void send_msg(int fd, const char *json) {
        send_bytes(fd, json, strlen(json) + 1);
}

/* Read one message; NULL on EOF or timeout. Static buffer. */
static char rbuf[1 << 20];
static size_t rlen, rpos;
static const char *recv_msg(int fd) {
        static char msg[1 << 20];
        for (;;) {
                char *nul = memchr(rbuf + rpos, 0, rlen - rpos);
                if (nul) {
                        size_t n = (size_t)(nul - (rbuf + rpos));
                        memcpy(msg, rbuf + rpos, n + 1);
                        rpos += n + 1;
                        return msg;
                }
                if (rpos > 0) {
                        memmove(rbuf, rbuf + rpos, rlen - rpos);
                        rlen -= rpos;
                        rpos = 0;
                }
                ssize_t k = recv(fd, rbuf + rlen, sizeof(rbuf) - rlen, 0);
                if (k <= 0)
                        return NULL;
                rlen += (size_t)k;
        }
}

static void reset_reader(void) {
        rlen = rpos = 0;
}

/* True when the server closed the connection (EOF, not a timeout). */
static bool closed_by_server(int fd) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 3000) <= 0)
                return false;
        char c;
        ssize_t k = recv(fd, &c, 1, 0);
        return k == 0 || (k < 0 && errno == ECONNRESET); /* unread data makes a close a reset */
}

static void call_expect(const char *call, const char *want, const char *what) {
        int fd = raw_connect();
        reset_reader();
        send_msg(fd, call);
        is_str(recv_msg(fd), want, "%s", what);
        close(fd);
}

TEST(start) {
        test_address(address, sizeof(address), "server");
        service = test_service_start(address, true);
        ok(service > 0, "service started on %s", address);
}

TEST(builtin) {
        call_expect(
                "{\"method\":\"org.varlink.service.GetInfo\"}",
                "{\"parameters\":{\"vendor\":\"cpod\",\"product\":\"test\",\"version\":\"1\",\"url\":"
                "\"https://example.org\",\"interfaces\":[\"org.varlink.service\",\"org.example.test\"]}}",
                "GetInfo lists vendor, product, version, url and interfaces");
        int fd = raw_connect();
        reset_reader();
        send_msg(fd,
                 "{\"method\":\"org.varlink.service.GetInterfaceDescription\",\"parameters\":{\"interface\":"
                 "\"org.example.test\"}}");
        const char *r = recv_msg(fd);
        VlJson *m = NULL;
        ok(r && vl_json_parse(r, strlen(r), NULL, &m, NULL) == 0, "description reply is JSON");
        const char *d =
                vl_json_get_string(vl_json_object_get(vl_json_object_get(m, "parameters"), "description"));
        is_str(d, test_idl, "GetInterfaceDescription returns the interface text");
        vl_json_unref(m);
        close(fd);
        call_expect(
                "{\"method\":\"org.varlink.service.GetInterfaceDescription\",\"parameters\":{\"interface\":"
                "\"org.nope\"}}",
                "{\"error\":\"org.varlink.service.InterfaceNotFound\",\"parameters\":{\"interface\":\"org."
                "nope\"}}",
                "description of an unknown interface");
}

TEST(errors) {
        call_expect("{\"method\":\"org.nope.Ping\"}",
                    "{\"error\":\"org.varlink.service.InterfaceNotFound\",\"parameters\":{\"interface\":"
                    "\"org.nope\"}}",
                    "unknown interface");
        call_expect("{\"method\":\"org.example.test.Nope\"}",
                    "{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":{\"method\":"
                    "\"org.example.test.Nope\"}}",
                    "unknown method");
        call_expect("{\"method\":\"org.example.test.Unbound\"}",
                    "{\"error\":\"org.varlink.service.MethodNotImplemented\",\"parameters\":{\"method\":"
                    "\"org.example.test.Unbound\"}}",
                    "declared but not implemented");
        call_expect("{\"method\":\"org.example.test.Echo\",\"parameters\":{\"s\":\"x\",\"bogus\":1}}",
                    "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":"
                    "\"bogus\"}}",
                    "unknown parameter names the field");
        call_expect(
                "{\"method\":\"org.example.test.Echo\",\"parameters\":{}}",
                "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"s\"}}",
                "missing parameter names the field");
        call_expect(
                "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"s\":1}}",
                "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"s\"}}",
                "wrong type names the field");
        call_expect("{\"method\":\"org.example.test.Echo\",\"parameters\":{\"s\":\"x\",\"n\":null}}",
                    "{\"parameters\":{\"s\":\"x\",\"n\":null}}", "null for a nullable field is accepted");
        call_expect("{\"method\":\"org.example.test.Fail\",\"parameters\":{\"reason\":\"r\"}}",
                    "{\"error\":\"org.example.test.Failed\",\"parameters\":{\"reason\":\"r\"}}",
                    "a method's own error");
        call_expect("{\"method\":\"org.example.test.Stream\",\"parameters\":{\"count\":1}}",
                    "{\"error\":\"org.varlink.service.ExpectedMore\",\"parameters\":{}}",
                    "ExpectedMore from a streaming method called without more");
        call_expect("{\"method\":\"org.example.test.Raw\"}",
                    "{\"error\":\"org.varlink.service.ExpectedUpgrade\",\"parameters\":{}}",
                    "ExpectedUpgrade from an upgrade method called without upgrade");
#ifdef VL_VALIDATE_REPLIES
        call_expect("{\"method\":\"org.example.test.BadReply\"}",
                    "{\"error\":\"org.example.test.Failed\",\"parameters\":{\"reason\":\"bad reply\"}}",
                    "a reply that breaks the interface is refused in debug builds");
#endif
        call_expect(
                "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"s\":\"a\"},\"org.example.hint\":1}",
                "{\"parameters\":{\"s\":\"a\"}}", "vendor keys in the call are ignored");
        call_expect(
                "{\"method\":\"org.example.test.Echo\",\"parameters\":null,\"more\":false}",
                "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"s\"}}",
                "null parameters count as empty");
}

TEST(more_and_oneway) {
        int fd = raw_connect();
        reset_reader();
        send_msg(fd, "{\"method\":\"org.example.test.Stream\",\"parameters\":{\"count\":3},\"more\":true}");
        is_str(recv_msg(fd), "{\"parameters\":{\"i\":0},\"continues\":true}", "first reply continues");
        is_str(recv_msg(fd), "{\"parameters\":{\"i\":1},\"continues\":true}", "second reply continues");
        is_str(recv_msg(fd), "{\"parameters\":{\"i\":2}}", "last reply ends the stream");
        /* a oneway call to a failing method: nothing comes back, not even the error */
        send_msg(fd,
                 "{\"method\":\"org.example.test.Fail\",\"parameters\":{\"reason\":\"x\"},\"oneway\":true}");
        send_msg(fd, "{\"method\":\"org.nope.X\",\"oneway\":true}");
        send_msg(fd, "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"s\":\"after\"}}");
        is_str(recv_msg(fd), "{\"parameters\":{\"s\":\"after\"}}", "oneway calls are never answered");
        close(fd);
}

TEST(pipelining) {
        int fd = raw_connect();
        reset_reader();
        /* one write, three calls; the first answers late from a timer */
        const char batch[] =
                "{\"method\":\"org.example.test.Later\",\"parameters\":{\"ms\":50,\"s\":\"one\"}}\0"
                "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"s\":\"two\"}}\0"
                "{\"method\":\"org.example.test.Later\",\"parameters\":{\"ms\":1,\"s\":\"three\"}}";
        send_bytes(fd, batch, sizeof(batch));
        is_str(recv_msg(fd), "{\"parameters\":{\"s\":\"one\"}}", "asynchronous reply first");
        is_str(recv_msg(fd), "{\"parameters\":{\"s\":\"two\"}}", "then the pipelined second call");
        is_str(recv_msg(fd), "{\"parameters\":{\"s\":\"three\"}}", "then the third");
        close(fd);

        /* while one connection waits on a slow call, another is served */
        int slow = raw_connect();
        send_msg(slow, "{\"method\":\"org.example.test.Later\",\"parameters\":{\"ms\":300,\"s\":\"slow\"}}");
        call_expect("{\"method\":\"org.example.test.Echo\",\"parameters\":{\"s\":\"fast\"}}",
                    "{\"parameters\":{\"s\":\"fast\"}}",
                    "another connection is not stalled by a pending call");
        reset_reader();
        is_str(recv_msg(slow), "{\"parameters\":{\"s\":\"slow\"}}", "the slow call completes");
        close(slow);
}

TEST(upgrade) {
        int fd = raw_connect();
        reset_reader();
        /* the raw bytes follow the call in the same write: none may be eaten */
        const char call[] = "{\"method\":\"org.example.test.Raw\",\"upgrade\":true}\0hello raw";
        send_bytes(fd, call, sizeof(call) - 1);
        is_str(recv_msg(fd), "{\"parameters\":{}}", "upgrade reply");
        char buf[64] = "";
        size_t got = rlen - rpos;
        memcpy(buf, rbuf + rpos, got);
        while (got < 9) {
                ssize_t k = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
                if (k <= 0)
                        break;
                got += (size_t)k;
        }
        is_str(buf, "hello raw", "bytes after the upgrading call reach the handler intact");
        close(fd);
}

TEST(fd_passing) {
        int fd = raw_connect();
        reset_reader();
        int p[2];
        ok(pipe(p) == 0, "pipe");
        const char msg[] = "{\"method\":\"org.example.test.PassFd\"}";
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * 2)];
        } control = {};
        struct iovec iov = {(void *)msg, sizeof(msg)};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = &control,
                            .msg_controllen = sizeof(control)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * 2);
        memcpy(CMSG_DATA(c), p, sizeof(p));
        ok(sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(msg), "call sent with two fds");
        close(p[0]);
        close(p[1]);
        char reply[128] = "";
        char cbuf[CMSG_SPACE(sizeof(int) * 4)];
        struct iovec riov = {reply, sizeof(reply) - 1};
        struct msghdr rh = {
                .msg_iov = &riov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
        ssize_t k = recvmsg(fd, &rh, MSG_CMSG_CLOEXEC);
        ok(k > 0, "reply received");
        is_str(reply, "{\"parameters\":{\"n\":2}}", "the handler saw both fds");
        struct cmsghdr *rc = CMSG_FIRSTHDR(&rh);
        ok(rc && rc->cmsg_type == SCM_RIGHTS, "the reply carries an fd");
        if (rc) {
                int rfd;
                memcpy(&rfd, CMSG_DATA(rc), sizeof(int));
                char b[4] = "";
                ok(read(rfd, b, 3) == 3 && strcmp(b, "fd!") == 0, "the passed pipe is readable");
                close(rfd);
        }
        close(fd);
}

static void expect_closed(const char *bytes, size_t n, const char *what) {
        int fd = raw_connect();
        send_bytes(fd, bytes, n);
        ok(closed_by_server(fd), "%s: connection closed", what);
        close(fd);
}

TEST(bad_input) {
        expect_closed("garbage\0", 8, "garbage bytes");
        const char bad_utf8[] = "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"s\":\"\xc3\x28\"}}";
        expect_closed(bad_utf8, sizeof(bad_utf8), "invalid UTF-8");
        expect_closed("[1,2]", 6, "a message that is not an object");
        expect_closed("{\"parameters\":{}}", 18, "a call without method");
        const char both[] =
                "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"s\":\"a\"},\"more\":true,"
                "\"oneway\":true}";
        expect_closed(both, sizeof(both), "more and oneway together");
        const char unknown[] = "{\"method\":\"org.example.test.Echo\",\"bogus\":true}";
        expect_closed(unknown, sizeof(unknown), "an unknown header key");
        char deep[200];
        size_t n = 0;
        n += (size_t)sprintf(deep,
                             "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"s\":\"a\",\"n\":");
        for (int i = 0; i < 20; i++)
                deep[n++] = '[';
        for (int i = 0; i < 20; i++)
                deep[n++] = ']';
        deep[n++] = '}';
        deep[n++] = '}';
        deep[n++] = 0;
        expect_closed(deep, n, "nesting beyond the depth limit");
        size_t big = 70 * 1024;
        char *huge = malloc(big);
        memset(huge, ' ', big);
        expect_closed(huge, big, "a message over the size limit");
        free(huge);

        /* a client that vanishes in the middle of a long stream */
        int fd = raw_connect();
        send_msg(fd,
                 "{\"method\":\"org.example.test.Stream\",\"parameters\":{\"count\":100000},\"more\":true}");
        close(fd);
        /* a truncated message followed by a hang-up */
        fd = raw_connect();
        send_bytes(fd, "{\"method\":\"org.exa", 18);
        close(fd);
        call_expect("{\"method\":\"org.example.test.Echo\",\"parameters\":{\"s\":\"still\"}}",
                    "{\"parameters\":{\"s\":\"still\"}}",
                    "the server still serves others after bad clients");
}

TEST(half_close) {
        /* a client may shut down its sending side and still get its replies */
        int fd = raw_connect();
        reset_reader();
        send_msg(fd, "{\"method\":\"org.example.test.Later\",\"parameters\":{\"ms\":20,\"s\":\"late\"}}");
        shutdown(fd, SHUT_WR);
        is_str(recv_msg(fd), "{\"parameters\":{\"s\":\"late\"}}",
               "reply after the client's shutdown(SHUT_WR)");
        ok(closed_by_server(fd), "then the server closes");
        close(fd);
}

TEST(stop) {
        is_int(test_service_stop(service), 0, "service exits cleanly on SIGTERM");
}

TESTS_MAIN
