/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI spec generation from create options: pure, no runtime. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container-internal.h"
#include <sys/prctl.h>

#include "tests.h"

static VlJson *parse(const char *s) {
        VlJson *j = NULL;
        vl_json_parse(s, strlen(s), NULL, &j, NULL);
        return j;
}

static bool strv_has(char **v, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

static const VlJson *get(const VlJson *o, const char *path) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", path);
        for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
                o = vl_json_object_get(o, k);
        return o;
}

static VlJson *build(const ContainerCreateOptions *o, const VlJson *img, CpodError *err) {
        SpecInput in = {.o = o,
                        .id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                        .name = "t",
                        .image_config = img,
                        .rootfs = "/r",
                        .userdata = "/u",
                        .nofile_hard = 20000,
                        .nproc_hard = 5000000,
                        .init_path = "/usr/bin/catatonit",
                        .volumes_dir = "/nonexistent",
                        .arch = "x86_64"};
        VlJson *s = NULL;
        return spec_build(&in, &s, err) < 0 ? NULL : s;
}

static bool has_mount(const VlJson *s, const char *dest, const char *type) {
        VlJson *m;
        VL_JSON_FOREACH_ELEMENT (m, vl_json_object_get(s, "mounts")) {
                if (strcmp(vl_json_get_string(vl_json_object_get(m, "destination")), dest) == 0 &&
                    strcmp(vl_json_get_string(vl_json_object_get(m, "type")), type) == 0)
                        return true;
        }
        return false;
}

static int64_t rlimit(const VlJson *s, const char *type, const char *which) {
        VlJson *r;
        VL_JSON_FOREACH_ELEMENT (r, get(s, "process.rlimits")) {
                if (strcmp(vl_json_get_string(vl_json_object_get(r, "type")), type) == 0)
                        return vl_json_get_int(vl_json_object_get(r, which));
        }
        return -1;
}

static void test_args_env(void) {
        VlJson *img = parse("{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"a\",\"b\"],\"Env\":[\"PATH=/x\",\"A=1\"],"
                            "\"WorkingDir\":\"/w\"}");
        ContainerCreateOptions o = {.image = "x"};
        CpodError err = {};
        char **v = NULL;
        size_t n = 0;
        ok(spec_process_args(&o, img, &v, &n, &err) == 0 && n == 3 && strcmp(v[0], "/ep") == 0,
           "entrypoint + cmd");
        ctr_strv_free(v);
        char *cmd[] = {"c"};
        o.command = cmd, o.n_command = 1;
        ok(spec_process_args(&o, img, &v, &n, &err) == 0 && n == 2 && strcmp(v[1], "c") == 0,
           "command replaces Cmd");
        ctr_strv_free(v);
        o.entrypoint_set = true, o.n_command = 0;
        is_int(spec_process_args(&o, img, &v, &n, &err), -EINVAL, "empty entrypoint and no command: error");
        char *env[] = {"A=2", "B=3"};
        o.env = env, o.n_env = 2, o.tty = true;
        ok(spec_process_env(&o, img, "h", &v, &n, &err) == 0 && strv_has(v, n, "PATH=/x") &&
                   strv_has(v, n, "A=2") && strv_has(v, n, "B=3") && strv_has(v, n, "HOSTNAME=h") &&
                   strv_has(v, n, "TERM=xterm") && !strv_has(v, n, "A=1"),
           "env: image PATH, options override, HOSTNAME, TERM");
        ctr_strv_free(v);
        o = (ContainerCreateOptions){.image = "x"};
        ok(spec_process_env(&o, NULL, NULL, &v, &n, &err) == 0 &&
                   strncmp(v[0], "PATH=/usr/local/sbin", 20) == 0,
           "default PATH");
        ctr_strv_free(v);
        VlJson *s = build(&o, img, &err);
        is_str(vl_json_get_string(get(s, "process.cwd")), "/w", "cwd from the image");
        is_str(vl_json_get_string(get(s, "hostname")), "0123456789ab", "hostname: short ID");
        vl_json_unref(s);
        vl_json_unref(img);
}

static void test_caps(void) {
        ContainerCreateOptions o = {.image = "x"};
        CpodError err = {};
        char **v = NULL;
        size_t n = 0;
        ok(spec_capabilities(&o, &v, &n, &err) == 0 && n == 11 && strv_has(v, n, "CAP_SYS_CHROOT"),
           "default: 11 caps");
        ctr_strv_free(v);
        char *add[] = {"net_admin"}, *drop[] = {"CAP_CHOWN"};
        o.cap_add = add, o.n_cap_add = 1, o.cap_drop = drop, o.n_cap_drop = 1;
        ok(spec_capabilities(&o, &v, &n, &err) == 0 && n == 11 && strv_has(v, n, "CAP_NET_ADMIN") &&
                   !strv_has(v, n, "CAP_CHOWN"),
           "add and drop");
        ctr_strv_free(v);
        char *all[] = {"ALL"};
        o.cap_drop = all;
        ok(spec_capabilities(&o, &v, &n, &err) == 0 && n == 1 && strv_has(v, n, "CAP_NET_ADMIN"),
           "drop ALL, add one");
        ctr_strv_free(v);
        o = (ContainerCreateOptions){.image = "x", .cap_add = all, .n_cap_add = 1};
        /* "ALL" is every capability this process may hand on (its bounding set) */
        size_t bounding = 0;
        for (unsigned long i = 0; i < 41; i++)
                bounding += prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1;
        ok(spec_capabilities(&o, &v, &n, &err) == 0 && n == bounding, "add ALL");
        ctr_strv_free(v);
        char *bad[] = {"nonsense"};
        o.cap_add = bad;
        is_int(spec_capabilities(&o, &v, &n, &err), -EINVAL, "unknown capability refused");
        o = (ContainerCreateOptions){.image = "x", .privileged = true, .command = bad, .n_command = 1};
        VlJson *s = build(&o, NULL, &err);
        is_int(vl_json_array_length(get(s, "process.capabilities.bounding")), bounding,
               "privileged: every capability of the bounding set");
        ok(!get(s, "linux.seccomp") && !get(s, "linux.maskedPaths"), "privileged: no seccomp, no masks");
        vl_json_unref(s);
}

static void test_rlimits_resources(void) {
        char *cmd[] = {"x"};
        ContainerCreateOptions o = {.image = "x", .command = cmd, .n_command = 1};
        CpodError err = {};
        VlJson *s = build(&o, NULL, &err);
        is_int(rlimit(s, "RLIMIT_NOFILE", "hard"), 20000, "nofile: the caller's hard limit");
        is_int(rlimit(s, "RLIMIT_NPROC", "soft"), 1048576, "nproc: capped at 1048576");
        is_int(vl_json_get_int(get(s, "linux.resources.pids.limit")), 2048, "pids default 2048");
        ok(get(s, "linux.seccomp") == NULL, "no seccomp path: none");
        ok(has_mount(s, "/proc", "proc") && has_mount(s, "/dev/shm", "tmpfs") &&
                   has_mount(s, "/etc/hosts", "bind"),
           "default mounts");
        vl_json_unref(s);
        char *ul[] = {"nofile=100:200"};
        o.ulimits = ul, o.n_ulimits = 1, o.memory = 1 << 20, o.cpus = 1.5, o.pids_limit = -1,
        o.read_only = true;
        s = build(&o, NULL, &err);
        is_int(rlimit(s, "RLIMIT_NOFILE", "soft"), 100, "--ulimit soft");
        is_int(rlimit(s, "RLIMIT_NOFILE", "hard"), 200, "--ulimit hard");
        is_int(vl_json_get_int(get(s, "linux.resources.memory.limit")), 1 << 20, "memory");
        is_int(vl_json_get_int(get(s, "linux.resources.cpu.quota")), 150000, "cpus → quota");
        ok(!get(s, "linux.resources.pids"), "pids -1: unlimited");
        ok(vl_json_get_bool(get(s, "root.readonly")) && has_mount(s, "/tmp", "tmpfs"),
           "read-only root with tmpfs");
        vl_json_unref(s);
        char *big[] = {"nofile=30000"};
        o.ulimits = big;
        ok(build(&o, NULL, &err) == NULL && strstr(err.message, "hard limit"),
           "ulimit above the hard limit: error");
}

static void test_mounts_ns(void) {
        char *cmd[] = {"x"};
        char *ro[] = {"ro"};
        ContainerMount m[] = {{.type = "bind", .source = "/nonexistent-src", .destination = "/d"}};
        ContainerCreateOptions o = {
                .image = "x", .command = cmd, .n_command = 1, .mounts = m, .n_mounts = 1};
        CpodError err = {};
        ok(build(&o, NULL, &err) == NULL && strstr(err.message, "must exist"),
           "missing bind source: clear error");
        m[0] = (ContainerMount){.type = "volume", .source = "v", .destination = "/d"};
        ok(build(&o, NULL, &err) == NULL && strstr(err.message, "volumes are not supported"),
           "volumes: error");
        m[0] = (ContainerMount){.type = "tmpfs", .destination = "/dev/shm", .options = ro, .n_options = 1};
        VlJson *s = build(&o, NULL, &err);
        int shm = 0;
        VlJson *x;
        VL_JSON_FOREACH_ELEMENT (x, vl_json_object_get(s, "mounts")) {
                shm += strcmp(vl_json_get_string(vl_json_object_get(x, "destination")), "/dev/shm") == 0;
        }
        is_int(shm, 1, "a user mount replaces the default on the same path");
        vl_json_unref(s);
        o.n_mounts = 0, o.network = "host", o.init = true;
        char *so[] = {"no-new-privileges"};
        o.security_opt = so, o.n_security_opt = 1;
        s = build(&o, NULL, &err);
        bool net = false;
        VL_JSON_FOREACH_ELEMENT (x, get(s, "linux.namespaces")) {
                net = net || strcmp(vl_json_get_string(vl_json_object_get(x, "type")), "network") == 0;
        }
        ok(!net, "host network: no network namespace");
        is_str(vl_json_get_string(vl_json_array_get(get(s, "process.args"), 0)), "/run/cpod-init",
               "--init wraps");
        ok(vl_json_get_bool(get(s, "process.noNewPrivileges")), "no-new-privileges");
        vl_json_unref(s);
}

static void test_seccomp(void) {
        VlJson *p = parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                          "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_"
                          "ARCH_X86\"]}],"
                          "\"syscalls\":["
                          "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                          "{\"names\":[\"reboot\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":["
                          "\"CAP_SYS_BOOT\"]}},"
                          "{\"names\":[\"arm_only\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":"
                          "[\"arm64\"]}},"
                          "{\"names\":[\"x\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"excludes\":{"
                          "\"caps\":[\"CAP_CHOWN\"]}},"
                          "{\"names\":[\"pers\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
                          "\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]}]}");
        char *caps[] = {"CAP_KILL"};
        VlJson *s = NULL;
        CpodError err = {};
        ok(spec_seccomp_translate(p, "x86_64", caps, 1, &s, &err) == 0, "translate");
        is_str(vl_json_get_string(vl_json_object_get(s, "defaultAction")), "SCMP_ACT_ERRNO",
               "defaultAction");
        is_int(vl_json_get_int(vl_json_object_get(s, "defaultErrnoRet")), 38, "defaultErrnoRet");
        is_int(vl_json_array_length(vl_json_object_get(s, "architectures")), 2,
               "native + sub architectures");
        is_int(vl_json_array_length(vl_json_object_get(s, "syscalls")), 3,
               "rules filtered by caps and arch");
        const VlJson *last = vl_json_array_get(vl_json_object_get(s, "syscalls"), 2);
        ok(vl_json_array_length(vl_json_object_get(last, "args")) == 1, "args kept");
        vl_json_unref(s);
        char *boot[] = {"CAP_SYS_BOOT", "CAP_CHOWN"};
        ok(spec_seccomp_translate(p, "x86_64", boot, 2, &s, &err) == 0 &&
                   vl_json_array_length(vl_json_object_get(s, "syscalls")) == 3,
           "includes.caps adds, excludes.caps removes");
        vl_json_unref(s);
        vl_json_unref(p);
        if (access("/usr/share/containers/seccomp.json", R_OK) == 0) {
                char *cmd[] = {"x"};
                ContainerCreateOptions o = {.image = "x", .command = cmd, .n_command = 1};
                SpecInput in = {.o = &o,
                                .id = "abc",
                                .rootfs = "/r",
                                .userdata = "/u",
                                .nofile_hard = 1024,
                                .nproc_hard = 1024,
                                .seccomp_path = "/usr/share/containers/seccomp.json",
                                .arch = "x86_64"};
                ok(spec_build(&in, &s, &err) == 0 &&
                           vl_json_array_length(get(s, "linux.seccomp.syscalls")) > 10,
                   "containers-common's profile translates");
                vl_json_unref(s);
        }
}

int main(void) {
        test_args_env();
        test_caps();
        test_rlimits_resources();
        test_mounts_ns();
        test_seccomp();
        return tests_done();
}
