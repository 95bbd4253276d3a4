/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The client API against the test service. */

#include "tests.h"
#include "test-service.h"

static char address[108];
static pid_t service;

static VlClient *connect_or_die(void) {
        VlClient *c = NULL;
        if (vl_client_connect(&c, address) < 0)
                abort();
        vl_client_set_timeout(c, 5 * 1000000ull);
        return c;
}

static VlJson *obj1(const char *k, const char *v) {
        VlJson *o = vl_json_new_object();
        vl_json_object_set_string(o, k, v);
        return o;
}

TEST(start) {
        test_address(address, sizeof(address), "client");
        service = test_service_start(address, true);
        ok(service > 0, "service started");
}

TEST(sync_calls) {
        VlClient *c = connect_or_die();
        VlJson *args = obj1("s", "hi\"there");
        VlJson *reply = NULL;
        const char *error = "unset";
        is_int(vl_client_call(c, "org.example.test.Echo", args, 0, &reply, &error), 0, "call succeeds");
        ok(error == NULL, "no error on success");
        is_str(vl_json_get_string(vl_json_object_get(reply, "s")), "hi\"there", "reply parameters");
        vl_json_unref(reply);
        VlJson *fail = obj1("reason", "r");
        is_int(vl_client_call(c, "org.example.test.Fail", fail, 0, &reply, &error), 1,
               "an error reply returns 1");
        vl_json_unref(fail);
        is_str(error, "org.example.test.Failed", "the error name");
        is_str(vl_json_get_string(vl_json_object_get(reply, "reason")), "r", "the error parameters");
        vl_json_unref(reply);
        is_int(vl_client_call(c, "org.example.test.Echo", NULL, 0, &reply, &error), 1, "missing parameter");
        is_str(error, VL_ERROR_INVALID_PARAMETER, "answered with InvalidParameter");
        vl_json_unref(reply);
        is_int(vl_client_call(c, "org.example.test.Echo", args, VL_CALL_ONEWAY, &reply, &error), 0,
               "oneway returns at once");
        ok(reply == NULL, "no reply for oneway");
        is_int(vl_client_call(c, "org.example.test.Echo", args, VL_CALL_MORE | VL_CALL_ONEWAY, &reply,
                              &error),
               -EINVAL, "two call flags are refused locally");
        vl_json_unref(args);
        vl_client_free(c);
}

TEST(more) {
        VlClient *c = connect_or_die();
        VlJson *args = vl_json_new_object();
        vl_json_object_set_int(args, "count", 4);
        VlJson *reply = NULL;
        const char *error = NULL;
        is_int(vl_client_call(c, "org.example.test.Stream", args, VL_CALL_MORE, &reply, &error), 0,
               "stream starts");
        int64_t sum = vl_json_get_int(vl_json_object_get(reply, "i"));
        vl_json_unref(reply);
        int n = 1;
        bool cont = vl_client_continues(c);
        while (cont && vl_client_next(c, &reply, &error, &cont) == 0) {
                sum += vl_json_get_int(vl_json_object_get(reply, "i"));
                vl_json_unref(reply);
                n++;
        }
        is_int(n, 4, "four replies");
        is_int(sum, 0 + 1 + 2 + 3, "in order");
        is_int(vl_client_next(c, &reply, &error, &cont), -ENOMSG, "nothing after the last reply");
        vl_json_unref(args);
        vl_client_free(c);
}

TEST(timeout) {
        VlClient *c = connect_or_die();
        vl_client_set_timeout(c, 200 * 1000);
        VlJson *reply = NULL;
        const char *error = NULL;
        uint64_t t0 = vl_now_usec();
        is_int(vl_client_call(c, "org.example.test.Never", NULL, 0, &reply, &error), -ETIMEDOUT,
               "call times out");
        uint64_t dt = vl_now_usec() - t0;
        ok(dt >= 150 * 1000 && dt < 3000 * 1000, "after about the timeout (%llu ms)",
           (unsigned long long)dt / 1000);
        is_int(vl_client_call(c, "org.example.test.Echo", NULL, 0, &reply, &error), -ENOTCONN,
               "the connection is unusable after a timeout");
        vl_client_free(c);
}

static int n_async;
static char async_order[64];

static void on_reply(VlClient *c, int r, const VlJson *params, const char *error, bool continues,
                     void *userdata) {
        size_t l = strlen(async_order);
        if (l + 2 < sizeof(async_order)) {
                async_order[l] = r < 0 ? '!' : error ? 'E' : *(const char *)userdata;
                async_order[l + 1] = 0;
        }
        n_async++;
}

static int quit_when_done(VlSource *s, uint64_t now, void *userdata) {
        vl_loop_quit(userdata, n_async == 3 ? 0 : -ETIMEDOUT);
        return 0;
}

TEST(async) {
        VlClient *c = connect_or_die();
        VlLoop *loop = NULL;
        ok(vl_loop_new(&loop) == 0, "loop");
        ok(vl_client_attach(c, loop) == 0, "client attached");
        VlJson *slow = vl_json_new_object();
        vl_json_object_set_int(slow, "ms", 30);
        vl_json_object_set_string(slow, "s", "x");
        VlJson *a = obj1("s", "y");
        ok(vl_client_call_async(c, "org.example.test.Later", slow, 0, on_reply, "1") == 0, "first queued");
        ok(vl_client_call_async(c, "org.example.test.Echo", a, 0, on_reply, "2") == 0, "second queued");
        ok(vl_client_call_async(c, "org.nope.X", NULL, 0, on_reply, "3") == 0, "third queued");
        vl_loop_add_timer(loop, vl_now_usec() + 100 * 1000, quit_when_done, loop, NULL);
        vl_loop_run(loop);
        is_str(async_order, "12E", "replies arrive in call order, the error last");
        vl_json_unref(slow);
        vl_json_unref(a);
        vl_client_free(c);
        vl_loop_free(loop);
}

TEST(upgrade) {
        VlClient *c = connect_or_die();
        VlJson *reply = NULL;
        const char *error = NULL;
        is_int(vl_client_call(c, "org.example.test.Raw", NULL, VL_CALL_UPGRADE, &reply, &error), 0,
               "upgraded");
        vl_json_unref(reply);
        int fd = -1;
        char *pending = NULL;
        size_t n = 0;
        ok(vl_client_take_upgraded(c, &fd, &pending, &n) == 0, "raw fd taken");
        ok(write(fd, "ping", 4) == 4, "raw bytes written");
        char buf[8] = "";
        ok(read(fd, buf, 4) == 4 && memcmp(buf, "ping", 4) == 0, "raw bytes echoed");
        close(fd);
        free(pending);
        vl_client_free(c);
}

TEST(fds) {
        VlClient *c = connect_or_die();
        vl_client_set_accept_fds(c, true);
        int p[2];
        ok(pipe(p) == 0, "pipe");
        ok(vl_client_push_fd(c, p[1]) == 0, "fd queued");
        close(p[0]);
        close(p[1]);
        VlJson *reply = NULL;
        const char *error = NULL;
        is_int(vl_client_call(c, "org.example.test.PassFd", NULL, 0, &reply, &error), 0, "call with an fd");
        is_int(vl_json_get_int(vl_json_object_get(reply, "n")), 1, "the service got one fd");
        is_int(vl_client_n_fds(c), 1, "the reply carried one fd");
        int fd = vl_client_take_fd(c, 0);
        char b[4] = "";
        ok(fd >= 0 && read(fd, b, 3) == 3 && strcmp(b, "fd!") == 0, "it is the service's pipe");
        if (fd >= 0)
                close(fd);
        vl_json_unref(reply);
        vl_client_free(c);
}

TEST(connection_errors) {
        VlClient *c = NULL;
        ok(vl_client_connect(&c, "unix:@vl-test-nobody-listens") < 0, "connect to nothing fails");
        ok(vl_client_connect(&c, "bogus:x") == -EINVAL, "bad address refused");
}

TEST(stop) {
        is_int(test_service_stop(service), 0, "service exits cleanly");
}

TESTS_MAIN
