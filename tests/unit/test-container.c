/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container lifecycle on the real runtime (crun) under conmon. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container-internal.h"
#include "engine.h"
#include "image.h"
#include "sha256-lite.h"
#include "tests.h"

static Engine *e;
static char root[256], runroot[300];

static int create(const char *name, char **cmd, size_t n, bool rm, char id[65]) {
        ContainerCreateOptions o = {.image = "busybox",
                                    .name = name,
                                    .command = cmd,
                                    .n_command = n,
                                    .network = "none",
                                    .rm = rm};
        CpodError err = {};
        int r = container_create(e, &o, id, &err);
        if (r < 0)
                diag("create: %s", err.message);
        return r;
}

static int run_detached(const char *name, char **cmd, size_t n, bool rm, char id[65]) {
        CpodError err = {};
        int r = create(name, cmd, n, rm, id);
        if (r >= 0 && (r = container_start(e, id, NULL, NULL, &err)) < 0)
                diag("start: %s", err.message);
        return r;
}

static ContainerState state_of(const char *ref) {
        Container c = {};
        if (container_get(e, ref, &c, NULL) < 0)
                return CONTAINER_UNKNOWN;
        ContainerState s = c.state;
        container_done(&c);
        return s;
}

static int collect(int64_t t, const char *stream, bool partial, const char *msg, size_t len, void *ud) {
        (void)t, (void)partial;
        char *buf = ud;
        snprintf(buf + strlen(buf), 4096 - strlen(buf), "%s:%.*s\n", stream, (int)len, msg);
        return 0;
}

static void test_exit_code(void) {
        char id[65];
        char *cmd[] = {"sh", "-c", "echo out; echo err >&2; exit 3"};
        CpodError err = {};
        int code = -1;
        ok(run_detached("exit3", cmd, 3, false, id) >= 0, "create and start a container");
        ok(container_wait(e, id, NULL, &code, &err) >= 0, "wait for it");
        is_int(code, 3, "the exit code is the process's");
        is_int(state_of(id), CONTAINER_EXITED, "the state is exited");
        char logs[4096] = "";
        LogOptions lo = {.tail = -1};
        ok(container_logs(e, id, &lo, collect, logs, &err) >= 0, "read the logs");
        ok(strstr(logs, "stdout:out\n") && strstr(logs, "stderr:err\n"), "logs hold both streams");
        char logs1[4096] = "";
        lo.tail = 1;
        ok(container_logs(e, id, &lo, collect, logs1, &err) >= 0 &&
                   strchr(logs1, '\n') == strrchr(logs1, '\n'),
           "tail 1 gives one line");
        ok(container_remove(e, id, false, false, &err) >= 0, "remove an exited container");
        is_int(container_get(e, id, &(Container){}, NULL), -ENOENT, "it is gone");
}

static void test_stop_kill(void) {
        char id[65];
        char *cmd[] = {"sleep", "1000"};
        CpodError err = {};
        ok(run_detached("sleeper", cmd, 2, false, id) >= 0, "start sleep");
        is_int(state_of("sleeper"), CONTAINER_RUNNING, "running");
        ok(container_pause(e, id, &err) >= 0, "pause");
        is_int(state_of(id), CONTAINER_PAUSED, "paused");
        ok(container_unpause(e, id, &err) >= 0, "unpause");
        ok(container_stop(e, id, 1, &err) >= 0, "stop");
        is_int(state_of(id), CONTAINER_EXITED, "exited after stop");
        ok(container_stop(e, id, 1, &err) >= 0, "stopping a stopped container is fine");
        is_int(container_kill(e, id, SIGKILL, &err), -EINVAL, "killing a stopped one is an error");
        ok(strstr(err.message, "can only kill running containers") != NULL, "with podman's message");
        ok(container_start(e, id, NULL, NULL, &err) >= 0, "start it again");
        ok(container_kill(e, id, SIGKILL, &err) >= 0, "kill");
        int code = -1;
        ok(container_wait(e, id, NULL, &code, &err) >= 0, "wait");
        is_int(code, 137, "killed: 137");
        ok(container_start(e, id, NULL, NULL, &err) >= 0, "start once more");
        is_int(container_remove(e, id, false, false, &err), -EBUSY,
               "rm without force refuses a running one");
        ok(container_remove(e, id, true, false, &err) >= 0, "rm --force");
        is_int(state_of(id), CONTAINER_UNKNOWN, "gone");
}

static void test_rm_cleanup(void) {
        char id[65];
        char *cmd[] = {"true"};
        CpodError err = {};
        ok(run_detached(NULL, cmd, 1, true, id) >= 0, "start a --rm container");
        for (int i = 0; i < 200 && state_of(id) != CONTAINER_UNKNOWN; i++)
                usleep(20000);
        is_int(state_of(id), CONTAINER_UNKNOWN, "conmon's exit command removed it");
        (void)err;
}

static void test_conmon_killed(void) {
        char id[65];
        char *cmd[] = {"sleep", "1000"};
        CpodError err = {};
        Container c = {};
        ok(run_detached("orphan", cmd, 2, false, id) >= 0, "start sleep");
        ok(container_get(e, id, &c, &err) >= 0 && c.conmon_pid > 0, "conmon pid known");
        kill(c.conmon_pid, SIGKILL);
        kill(c.pid, SIGKILL);
        for (int i = 0; i < 100 && state_of(id) == CONTAINER_RUNNING; i++)
                usleep(20000);
        is_int(state_of(id), CONTAINER_EXITED, "state follows after kill -9 of conmon and the process");
        ok(container_remove(e, id, true, false, &err) >= 0, "and it can be removed");
        container_done(&c);
}

static void test_not_found(void) {
        char id[65];
        char *cmd[] = {"/no/such/binary"};
        CpodError err = {};
        ok(create("nobin", cmd, 1, false, id) >= 0, "create with a missing executable");
        int r = container_start(e, id, NULL, NULL, &err);
        is_int(r, -ENOENT, "start fails with ENOENT (the CLI's 127)");
        diag("%s", err.message);
        ok(container_remove(e, id, true, false, &err) >= 0, "remove it");
}

static void test_attach(void) {
        char id[65], out[] = "/tmp/cpod-test-attach-XXXXXX";
        char *cmd[] = {"sh", "-c", "echo hello; exit 5"};
        CpodError err = {};
        int fd = mkstemp(out), code = -1;
        ok(create(NULL, cmd, 3, true, id) >= 0, "create --rm");
        ContainerStdio io = {.in_fd = -1, .out_fd = fd, .err_fd = fd};
        if (!ok(container_start(e, id, &io, &code, &err) >= 0, "start attached"))
                diag("%s", err.message);
        is_int(code, 5, "attached start returns the exit code");
        char buf[64] = "";
        ok(pread(fd, buf, sizeof buf - 1, 0) > 0 && strcmp(buf, "hello\n") == 0, "output relayed");
        is_int(state_of(id), CONTAINER_UNKNOWN, "--rm removed it");
        close(fd);
        unlink(out);
}

/* The seccomp cache's key hash against FIPS 180-2's examples, fed in uneven pieces. */
static void test_sha256_lite(void) {
        static const struct {
                const char *in;
                size_t repeat;
                const char *hex;
        } v[] = {
                {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
                {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
                {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
                {"aaaaaaaaaaaaaaaaaaaaaaaaa", 40000,
                 "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
        };
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
                Sha256Lite h;
                char hex[65];
                size_t len = strlen(v[i].in);
                sha256_lite_init(&h);
                for (size_t k = 0; k < v[i].repeat; k++)
                        for (size_t off = 0; off < len; off += 7)
                                sha256_lite_update(&h, v[i].in + off, len - off < 7 ? len - off : 7);
                sha256_lite_final_hex(&h, hex);
                is_str(hex, v[i].hex, "sha256 of test vector %zu", i);
        }
}

int main(void) {
        CpodError err = {};
        char **names = NULL;
        size_t n = 0;

        test_sha256_lite();

        if (access("/usr/bin/crun", X_OK) < 0) {
                ok(1, "# SKIP crun is not installed");
                return tests_done();
        }
        if (getuid() != 0) {
                ok(1, "# SKIP needs root");
                return tests_done();
        }
        (void)!system(SRCDIR "/tools/host-setup.sh");
        setenv("CPOD_BINARY", BUILDDIR "/src/cpod/cpod", 0);
        snprintf(root, sizeof root, "/tmp/cpod-test-container-XXXXXX");
        if (!mkdtemp(root))
                return 1;
        snprintf(runroot, sizeof runroot, "%s/run", root);
        char graph[300];
        snprintf(graph, sizeof graph, "%s/root", root);
        EngineOptions eo = {.root = graph, .runroot = runroot};
        if (engine_open(&eo, &e, &err) < 0 ||
            image_load(e, BUILDDIR "/images/busybox.docker.tar", &names, &n, &err) < 0) {
                diag("setup: %s", err.message);
                ok(0, "setup");
                return tests_done();
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        test_exit_code();
        test_stop_kill();
        test_not_found();
        test_attach();
        test_conmon_killed();
        if (access(BUILDDIR "/src/cpod/cpod", X_OK) == 0)
                test_rm_cleanup();
        engine_close(e);
        char cmdline[600];
        snprintf(cmdline, sizeof cmdline, "rm -rf %s", root);
        (void)!system(cmdline);
        return tests_done();
}
