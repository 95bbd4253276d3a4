/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * System methods: Ping, GetVersion and GetInfo of both interfaces (GetInfo's
 * document is service_info, which `cpod info` prints too).
 *
 * The version fields podman filled from its Go build are filled from ours:
 * go_version names the C compiler, git_commit is empty unless the build
 * defines CPOD_GIT_COMMIT, and built is 0 (the epoch) so that builds stay
 * reproducible.
 */

#include <stdio.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include "registries.h"
#include "service-internal.h"
#include "service.h"
#include "util.h"

#if defined(__clang__)
#define COMPILER_NAME    "clang"
#define COMPILER_VERSION "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER_NAME    "gcc"
#define COMPILER_VERSION "gcc " __VERSION__
#else
#define COMPILER_NAME    "cc"
#define COMPILER_VERSION "cc"
#endif

#ifndef CPOD_GIT_COMMIT
#define CPOD_GIT_COMMIT ""
#endif

/* Go's names for the machine, as podman reports them. */
static const char *go_arch(void) {
        static struct utsname u;
        static const struct {
                const char *machine, *arch;
        } map[] = {
                {"x86_64", "amd64"}, {"aarch64", "arm64"},   {"i686", "386"},    {"i386", "386"},
                {"armv7l", "arm"},   {"ppc64le", "ppc64le"}, {"s390x", "s390x"}, {"riscv64", "riscv64"},
        };

        if (uname(&u) < 0)
                return "unknown";
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(u.machine, map[i].machine))
                        return map[i].arch;
        return u.machine;
}

static int method_ping(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        VlJson *ping = vl_json_new_object();
        if (!ping || vl_json_object_set_string(ping, "message", "OK") < 0) {
                vl_json_unref(ping);
                return -ENOMEM;
        }
        return reply_one(call, "ping", ping);
}

/* The fields both GetVersion forms share, in their order. */
static int version_fields(VlJson *o, bool rfc3339_built) {
        char os_arch[96], built[TIME_BUF_MAX];

        snprintf(os_arch, sizeof(os_arch), "linux/%s", go_arch());
        if (vl_json_object_set_string(o, "version", PROJECT_VERSION) < 0 ||
            vl_json_object_set_string(o, "go_version", COMPILER_VERSION) < 0 ||
            vl_json_object_set_string(o, "git_commit", CPOD_GIT_COMMIT) < 0)
                return -ENOMEM;
        int r = rfc3339_built ? vl_json_object_set_string(o, "built", format_rfc3339(0, built))
                              : vl_json_object_set_int(o, "built", 0);
        if (r < 0 || vl_json_object_set_string(o, "os_arch", os_arch) < 0)
                return -ENOMEM;
        return 0;
}

static int method_get_version(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        VlJson *o = vl_json_new_object();
        if (!o)
                return -ENOMEM;
        if (call_is_atomic(call)) {
                if (version_fields(o, false) < 0) {
                        vl_json_unref(o);
                        return -ENOMEM;
                }
                return reply_one(call, "version", o);
        }
        if (version_fields(o, true) < 0 || vl_json_object_set_int(o, "remote_api_version", 1) < 0) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        return vl_call_reply(call, o);
}

/* ID and VERSION_ID of /etc/os-release (empty when unknown). */
static void os_release(char *id, char *version, size_t size) {
        char line[256];
        FILE *f = fopen("/etc/os-release", "re");

        id[0] = version[0] = '\0';
        if (!f)
                f = fopen("/usr/lib/os-release", "re");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                char *dst = startswith(line, "ID=") ? id : startswith(line, "VERSION_ID=") ? version : NULL;
                if (!dst)
                        continue;
                const char *v = strchr(line, '=') + 1;
                v += *v == '"';
                snprintf(dst, size, "%s", v);
                dst[strcspn(dst, "\"\n")] = '\0';
        }
        fclose(f);
}

static int host_json(bool podman, VlJson **ret) {
        struct sysinfo si = {};
        struct utsname u = {};
        char host[256] = "", up[64], id[64], ver[64];
        VlJson *h = vl_json_new_object(), *d = NULL;

        (void)sysinfo(&si);
        (void)uname(&u);
        (void)gethostname(host, sizeof(host) - 1);
        snprintf(up, sizeof(up), "%ldh %ldm %lds", si.uptime / 3600, si.uptime / 60 % 60, si.uptime % 60);
        if (!h)
                return -ENOMEM;
        if (podman) {
                os_release(id, ver, sizeof(id));
                d = vl_json_new_object();
                if (vl_json_object_set_string(h, "buildah_version", "") < 0 || !d ||
                    vl_json_object_set_string(d, "distribution", id) < 0 ||
                    vl_json_object_set_string(d, "version", ver) < 0 ||
                    vl_json_object_set(h, "distribution", d) < 0)
                        goto nomem;
        }
        uint64_t unit = si.mem_unit ? si.mem_unit : 1;
        if (vl_json_object_set_int(h, "mem_free", (int64_t)(si.freeram * unit)) < 0 ||
            vl_json_object_set_int(h, "mem_total", (int64_t)(si.totalram * unit)) < 0 ||
            vl_json_object_set_int(h, "swap_free", (int64_t)(si.freeswap * unit)) < 0 ||
            vl_json_object_set_int(h, "swap_total", (int64_t)(si.totalswap * unit)) < 0 ||
            vl_json_object_set_string(h, "arch", go_arch()) < 0 ||
            vl_json_object_set_int(h, "cpus", sysconf(_SC_NPROCESSORS_ONLN)) < 0 ||
            vl_json_object_set_string(h, "hostname", host) < 0 ||
            vl_json_object_set_string(h, "kernel", u.release) < 0 ||
            vl_json_object_set_string(h, "os", "linux") < 0 ||
            vl_json_object_set_string(h, "uptime", up) < 0 ||
            (podman && vl_json_object_set_string(h, "eventlogger", "file") < 0))
                goto nomem;
        *ret = h;
        return 0;
nomem:
        vl_json_unref(h);
        return -ENOMEM;
}

static const char *fs_name(const char *path) {
        static const struct {
                unsigned long magic;
                const char *name;
        } map[] = {
                {0xEF53, "extfs"},     {0x58465342, "xfs"},       {0x9123683E, "btrfs"},
                {0x01021994, "tmpfs"}, {0x794c7630, "overlayfs"}, {0x2FC12FC1, "zfs"},
        };
        struct statfs sf;

        if (!path || statfs(path, &sf) < 0)
                return "";
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if ((unsigned long)sf.f_type == map[i].magic)
                        return map[i].name;
        return "unknown";
}

static int store_json(Engine *e, VlJson **ret, CpodError *err) {
        Image *imgs = NULL;
        size_t n = 0;
        StoreUsage usage = {};
        int r;

        r = image_list(e, &imgs, &n, err);
        if (r < 0)
                return r;
        image_array_free(imgs, n);
        if (store_usage(e, &usage, NULL) < 0)
                usage.containers = 0;

        VlJson *s = vl_json_new_object(), *g = vl_json_new_object();
        if (!s || !g || vl_json_object_set_int(s, "containers", usage.containers) < 0 ||
            vl_json_object_set_int(s, "images", (int64_t)n) < 0 ||
            vl_json_object_set_string(s, "graph_driver_name", engine_storage_driver(e)) < 0 ||
            vl_json_object_set_string(s, "graph_driver_options", "") < 0 ||
            vl_json_object_set_string(s, "graph_root", engine_root(e)) < 0 ||
            vl_json_object_set_string(g, "backing_filesystem", fs_name(engine_root(e))) < 0 ||
            vl_json_object_set_string(g, "native_overlay_diff", "true") < 0 ||
            vl_json_object_set_string(g, "supports_d_type", "true") < 0 ||
            vl_json_object_set(s, "graph_status", TAKE_PTR(g)) < 0 ||
            vl_json_object_set_string(s, "run_root", engine_runroot(e)) < 0) {
                vl_json_unref(s);
                vl_json_unref(g);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

/* search, insecure and blocked registries; a config that cannot be read lists none. */
static int registries_json(const EngineOptions *o, VlJson **ret_search, VlJson **ret_insecure,
                           VlJson **ret_blocked) {
        Registries regs = {};
        VlJson *ins = vl_json_new_array(), *blk = vl_json_new_array();

        (void)registries_load(o->registries_conf, &regs, NULL);
        VlJson *search = json_strv(regs.search, regs.n_search);
        for (size_t i = 0; i < regs.n_registries && ins && blk; i++) {
                const Registry *g = &regs.registries[i];
                const char *name = g->location && g->location[0] ? g->location : g->prefix;
                if (!name)
                        continue;
                if ((g->insecure && vl_json_array_append(ins, vl_json_new_string(name)) < 0) ||
                    (g->blocked && vl_json_array_append(blk, vl_json_new_string(name)) < 0))
                        break;
        }
        registries_done(&regs);
        if (!search || !ins || !blk) {
                vl_json_unref(search);
                vl_json_unref(ins);
                vl_json_unref(blk);
                return -ENOMEM;
        }
        *ret_search = search;
        *ret_insecure = ins;
        if (ret_blocked)
                *ret_blocked = blk;
        else
                vl_json_unref(blk);
        return 0;
}

static int binary_json(VlJson **ret) {
        VlJson *b = vl_json_new_object();
        if (!b || vl_json_object_set_string(b, "compiler", COMPILER_NAME) < 0 ||
            vl_json_object_set_string(b, "go_version", COMPILER_VERSION) < 0 ||
            vl_json_object_set_string(b, "podman_version", PROJECT_VERSION) < 0 ||
            vl_json_object_set_string(b, "git_commit", CPOD_GIT_COMMIT) < 0) {
                vl_json_unref(b);
                return -ENOMEM;
        }
        *ret = b;
        return 0;
}

int service_info(Engine *e, const EngineOptions *o, bool podman, VlJson **ret, CpodError *err) {
        VlJson *host = NULL, *store = NULL, *bin = NULL, *search = NULL, *ins = NULL, *blk = NULL;
        int r;

        r = store_json(e, &store, err);
        if (r < 0)
                return r;

        VlJson *info = vl_json_new_object(), *regs = podman ? vl_json_new_object() : NULL;
        if (!info || (podman && !regs) || host_json(podman, &host) < 0 || binary_json(&bin) < 0 ||
            registries_json(o, &search, &ins, podman ? &blk : NULL) < 0 ||
            vl_json_object_set(info, "host", TAKE_PTR(host)) < 0)
                goto nomem;
        if (podman) {
                if (vl_json_object_set(regs, "search", TAKE_PTR(search)) < 0 ||
                    vl_json_object_set(regs, "insecure", TAKE_PTR(ins)) < 0 ||
                    vl_json_object_set(regs, "blocked", TAKE_PTR(blk)) < 0 ||
                    vl_json_object_set(info, "registries", TAKE_PTR(regs)) < 0)
                        goto nomem;
        } else if (vl_json_object_set(info, "registries", TAKE_PTR(search)) < 0 ||
                   vl_json_object_set(info, "insecure_registries", TAKE_PTR(ins)) < 0)
                goto nomem;
        if (vl_json_object_set(info, "store", TAKE_PTR(store)) < 0 ||
            vl_json_object_set(info, "podman", TAKE_PTR(bin)) < 0)
                goto nomem;
        *ret = info;
        return 0;
nomem:
        vl_json_unref(info);
        vl_json_unref(regs);
        vl_json_unref(host);
        vl_json_unref(store);
        vl_json_unref(bin);
        vl_json_unref(search);
        vl_json_unref(ins);
        vl_json_unref(blk);
        return cpod_error(err, ENOMEM, "out of memory");
}

static int method_get_info(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        Service *svc = userdata;
        VlJson *info = NULL;
        CpodError err = {};
        Engine *e;

        if (service_engine(svc, call, &e) < 0)
                return 0;
        int r = service_info(e, &svc->options, !call_is_atomic(call), &info, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        return reply_one(call, "info", info);
}

static int method_reset(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        Service *svc = userdata;
        CpodError err = {};
        Engine *e;

        if (service_engine(svc, call, &e) < 0)
                return 0;
        int r = store_reset(e, &err);
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        return vl_call_reply(call, NULL);
}

int system_bind(VlServer *s, Service *svc) {
        static const struct {
                const char *method;
                VlMethodFn fn;
        } table[] = {
                {ATOMIC_IFACE ".Ping", method_ping},        {ATOMIC_IFACE ".GetVersion", method_get_version},
                {ATOMIC_IFACE ".GetInfo", method_get_info}, {PODMAN_IFACE ".GetVersion", method_get_version},
                {PODMAN_IFACE ".GetInfo", method_get_info}, {PODMAN_IFACE ".Reset", method_reset},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = vl_server_bind(s, table[i].method, table[i].fn, svc);
                if (r < 0)
                        return r;
        }
        return 0;
}
