/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The OCI runtime spec of a container, built from the create options and
 * the image config: what podman writes, minus what cpod does not do yet
 * (SELinux labels, hooks, user namespaces).
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include <sys/prctl.h>

#include "container-internal.h"
#include "util.h"

#define SPEC_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SPEC_RLIMIT_MAX   1048576ull
#define SPEC_PIDS_DEFAULT 2048
#define SPEC_INIT_PATH    "/run/cpod-init"
#define SPEC_SECCOMP_MAX  (4u * 1024u * 1024u)

static const char *const spec_caps_all[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

/* podman's default set */
static const char *const spec_caps_default[] = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",     "CAP_FSETID",
        "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",    "CAP_SETGID",
        "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT",
};

static const char *const spec_masked[] = {
        "/proc/acpi",       "/proc/kcore",       "/proc/keys",        "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
        "/sys/firmware",    "/sys/fs/selinux",   "/sys/dev/block",
};

static const char *const spec_readonly[] = {
        "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static const struct {
        const char *name, *type;
} spec_rlimit_names[] = {
        {"as", "RLIMIT_AS"},           {"core", "RLIMIT_CORE"},         {"cpu", "RLIMIT_CPU"},
        {"data", "RLIMIT_DATA"},       {"fsize", "RLIMIT_FSIZE"},       {"locks", "RLIMIT_LOCKS"},
        {"memlock", "RLIMIT_MEMLOCK"}, {"msgqueue", "RLIMIT_MSGQUEUE"}, {"nice", "RLIMIT_NICE"},
        {"nofile", "RLIMIT_NOFILE"},   {"nproc", "RLIMIT_NPROC"},       {"rss", "RLIMIT_RSS"},
        {"rtprio", "RLIMIT_RTPRIO"},   {"rttime", "RLIMIT_RTTIME"},     {"sigpending", "RLIMIT_SIGPENDING"},
        {"stack", "RLIMIT_STACK"},
};

/* ---- small helpers ---- */

void ctr_strv_free(char **v) {
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

int ctr_strv_push(char ***v, size_t *n, const char *s) {
        char *copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv) {
                free(copy);
                return -ENOMEM;
        }
        nv[(*n)++] = copy;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

static VlJson *json_strv(char *const *v, size_t n) {
        VlJson *a = vl_json_new_array();
        for (size_t i = 0; a && i < n; i++)
                if (vl_json_array_append(a, vl_json_new_string(v[i])) < 0)
                        a = vl_json_unref(a);
        return a;
}

static VlJson *json_cstrv(const char *const *v, size_t n) {
        return json_strv((char *const *)v, n);
}

static int oom(CpodError *err) {
        return cpod_error(err, ENOMEM, "out of memory");
}

/* Copy a JSON array of strings into a strv. */
static int strv_from_json(const VlJson *a, char ***v, size_t *n) {
        VlJson *x;
        VL_JSON_FOREACH_ELEMENT (x, a) {
                const char *s = vl_json_get_string(x);
                if (s && ctr_strv_push(v, n, s) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* ---- user ---- */

void spec_user_done(SpecUser *u) {
        free(u->additional_gids);
        free(u->home);
        *u = (SpecUser){};
}

static bool parse_id(const char *s, unsigned *ret) {
        char *end;
        if (!s || !*s || !isdigit((unsigned char)*s))
                return false;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || *end || v > UINT32_MAX - 1)
                return false;
        *ret = (unsigned)v;
        return true;
}

/* Find a line of a colon-separated database whose field key_field equals key
 * (or whose field 2, the ID, equals id when key is NULL); copies its fields. */
static bool db_file_find(FILE *f, const char *key, unsigned id, char *line, size_t size, char *fields[7],
                         size_t n_fields) {
        rewind(f);
        while (fgets(line, (int)size, f)) {
                line[strcspn(line, "\n")] = 0;
                size_t k = 0;
                char *p = line;
                for (; k < n_fields; k++) {
                        fields[k] = p;
                        p = strchr(p, ':');
                        if (!p)
                                break;
                        *p++ = 0;
                }
                if (k + 1 < 3)
                        continue;
                for (k++; k < n_fields; k++)
                        fields[k] = (char *)"";
                unsigned v;
                if (key ? streq(fields[0], key) : (parse_id(fields[2], &v) && v == id))
                        return true;
        }
        return false;
}

static int user_groups(FILE *group, const char *user_name, gid_t primary, SpecUser *u) {
        char line[4096], *f[7];
        size_t cap = 0;
        if (!group || !user_name)
                return 0;
        rewind(group);
        while (fgets(line, sizeof line, group)) {
                line[strcspn(line, "\n")] = 0;
                char *p = line;
                size_t k = 0;
                for (; k < 4 && p; k++) {
                        f[k] = p;
                        p = strchr(p, ':');
                        if (p)
                                *p++ = 0;
                }
                unsigned gid;
                if (k < 4 || !parse_id(f[2], &gid) || gid == primary)
                        continue;
                for (char *save = NULL, *m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
                        if (streq(m, user_name)) {
                                if (VL_GROW(u->additional_gids, cap, u->n_additional_gids + 1) < 0)
                                        return -ENOMEM;
                                u->additional_gids[u->n_additional_gids++] = gid;
                                break;
                        }
        }
        return 0;
}

static int resolve_group(FILE *group, const char *name, gid_t *ret, CpodError *err) {
        char line[4096], *f[7];
        unsigned id;
        if (parse_id(name, &id)) {
                *ret = id;
                return 0;
        }
        if (!group || !db_file_find(group, name, 0, line, sizeof line, f, 4))
                return cpod_error(err, ENOENT, "unable to find group %s: no matching entries in group file",
                                  name);
        if (!parse_id(f[2], &id))
                return cpod_error(err, EINVAL, "invalid group entry for %s", name);
        *ret = id;
        return 0;
}

int spec_resolve_user_files(const char *passwd, const char *group, const char *user, SpecUser *ret,
                            CpodError *err) {
        _cleanup_free_ char *copy = strdup(user && *user ? user : "0");
        SpecUser u = {};
        char line[4096], *f[7];
        unsigned id;
        int r = 0;

        if (!copy)
                return oom(err);
        char *grp = strchr(copy, ':');
        if (grp)
                *grp++ = 0;
        FILE *pw = passwd ? fopen(passwd, "re") : NULL;
        FILE *gr = group ? fopen(group, "re") : NULL;
        const char *user_name = NULL;
        bool numeric = parse_id(copy, &id);
        bool found = pw && db_file_find(pw, numeric ? NULL : copy, id, line, sizeof line, f, 7);
        if (!numeric && !found) {
                r = cpod_error(err, ENOENT, "unable to find user %s: no matching entries in passwd file",
                               copy);
                goto out;
        }
        if (found) {
                unsigned uid, gid;
                if (!parse_id(f[2], &uid) || !parse_id(f[3], &gid)) {
                        r = cpod_error(err, EINVAL, "invalid passwd entry for user %s", copy);
                        goto out;
                }
                u.uid = uid;
                u.gid = gid;
                u.home = strdup(*f[5] ? f[5] : "/");
                user_name = f[0];
        } else {
                u.uid = id;
                u.gid = 0;
                u.home = strdup("/");
        }
        if (!u.home) {
                r = oom(err);
                goto out;
        }
        if (grp) {
                r = resolve_group(gr, grp, &u.gid, err);
                if (r < 0)
                        goto out;
        }
        if (user_groups(gr, user_name, u.gid, &u) < 0)
                r = oom(err);
out:
        if (pw)
                fclose(pw);
        if (gr)
                fclose(gr);
        if (r < 0)
                spec_user_done(&u);
        else
                *ret = u;
        return r;
}

int spec_resolve_user(const char *rootfs, const char *user, SpecUser *ret, CpodError *err) {
        char pw[4200], gr[4200];
        snprintf(pw, sizeof pw, "%s/etc/passwd", rootfs);
        snprintf(gr, sizeof gr, "%s/etc/group", rootfs);
        return spec_resolve_user_files(pw, gr, user, ret, err);
}

/* ---- process ---- */

int spec_process_args(const ContainerCreateOptions *o, const VlJson *image_config, char ***ret,
                      size_t *ret_n, CpodError *err) {
        char **v = NULL;
        size_t n = 0;
        int r = 0;

        if (o->entrypoint_set) {
                for (size_t i = 0; r >= 0 && i < o->n_entrypoint; i++)
                        r = ctr_strv_push(&v, &n, o->entrypoint[i]);
        } else
                r = strv_from_json(vl_json_object_get(image_config, "Entrypoint"), &v, &n);
        if (o->n_command > 0) {
                for (size_t i = 0; r >= 0 && i < o->n_command; i++)
                        r = ctr_strv_push(&v, &n, o->command[i]);
        } else if (!o->entrypoint_set && r >= 0)
                r = strv_from_json(vl_json_object_get(image_config, "Cmd"), &v, &n);
        if (r < 0) {
                ctr_strv_free(v);
                return oom(err);
        }
        if (n == 0)
                return cpod_error(err, EINVAL,
                                  "no command or entrypoint provided, and no CMD or ENTRYPOINT "
                                  "from image");
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Set K=V in an environment list, replacing an existing K. A bare "K" takes the caller's value. */
static int env_set(char ***v, size_t *n, const char *kv) {
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *from_host = NULL;
        if (!eq) {
                const char *val = getenv(kv);
                if (!val)
                        return 0;
                if (asprintf(&from_host, "%s=%s", kv, val) < 0)
                        return -ENOMEM;
                kv = from_host;
                eq = strchr(kv, '=');
        }
        size_t kl = (size_t)(eq - kv) + 1;
        for (size_t i = 0; i < *n; i++)
                if (strncmp((*v)[i], kv, kl) == 0) {
                        char *c = strdup(kv);
                        if (!c)
                                return -ENOMEM;
                        free((*v)[i]);
                        (*v)[i] = c;
                        return 0;
                }
        return ctr_strv_push(v, n, kv);
}

int spec_process_env(const ContainerCreateOptions *o, const VlJson *image_config, const char *hostname,
                     char ***ret, size_t *ret_n, CpodError *err) {
        char **v = NULL;
        size_t n = 0;
        VlJson *x;
        int r = env_set(&v, &n, SPEC_DEFAULT_PATH);
        if (r >= 0)
                r = env_set(&v, &n, "container=podman");
        VL_JSON_FOREACH_ELEMENT (x, vl_json_object_get(image_config, "Env")) {
                const char *s = vl_json_get_string(x);
                if (r >= 0 && s && strchr(s, '='))
                        r = env_set(&v, &n, s);
        }
        if (o->tty && r >= 0)
                r = env_set(&v, &n, "TERM=xterm");
        for (size_t i = 0; r >= 0 && i < o->n_env; i++)
                r = env_set(&v, &n, o->env[i]);
        if (r >= 0 && hostname) {
                _cleanup_free_ char *h = NULL;
                r = asprintf(&h, "HOSTNAME=%s", hostname) < 0 ? -ENOMEM : env_set(&v, &n, h);
        }
        if (r < 0) {
                ctr_strv_free(v);
                return oom(err);
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- capabilities ---- */

/* "net_admin", "CAP_NET_ADMIN", "all" → canonical form, or NULL when unknown. */
static const char *cap_canonical(const char *name) {
        char buf[64];
        const char *s = startswith(name, "CAP_") ?: startswith(name, "cap_") ?: name;
        if (strlen(s) + 5 > sizeof buf)
                return NULL;
        if (strcasecmp(s, "ALL") == 0)
                return "ALL";
        snprintf(buf, sizeof buf, "CAP_%s", s);
        for (char *p = buf; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        for (size_t i = 0; i < ELEMENTSOF(spec_caps_all); i++)
                if (streq(spec_caps_all[i], buf))
                        return spec_caps_all[i];
        return NULL;
}

static int cap_list_has(char *const *list, size_t n, const char *cap, bool *ret, CpodError *err) {
        *ret = false;
        for (size_t i = 0; i < n; i++) {
                const char *c = cap_canonical(list[i]);
                if (!c)
                        return cpod_error(err, EINVAL, "unknown capability `%s`", list[i]);
                if (streq(c, cap) || streq(c, "ALL"))
                        *ret = true;
        }
        return 0;
}

int spec_capabilities(const ContainerCreateOptions *o, char ***ret, size_t *ret_n, CpodError *err) {
        bool drop_all = false, add_all = false;
        char **v = NULL;
        size_t n = 0;
        int r;

        r = cap_list_has(o->cap_drop, o->n_cap_drop, "ALL", &drop_all, err);
        if (r >= 0)
                r = cap_list_has(o->cap_add, o->n_cap_add, "ALL", &add_all, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(spec_caps_all); i++) {
                const char *c = spec_caps_all[i];
                bool def = false, add, drop;
                for (size_t k = 0; k < ELEMENTSOF(spec_caps_default); k++)
                        def = def || streq(spec_caps_default[k], c);
                (void)cap_list_has(o->cap_add, o->n_cap_add, c, &add, NULL);
                (void)cap_list_has(o->cap_drop, o->n_cap_drop, c, &drop, NULL);
                bool keep;
                if (o->privileged)
                        keep = true;
                else if (drop_all)
                        keep = add; /* add (or add ALL) after dropping everything */
                else
                        keep = (def || add) && !drop;
                if (o->privileged && drop && !drop_all)
                        keep = false;
                /* "all" means all that we have: the table is in kernel order, so i is the
                 * capability's number; asking for one outside our bounding set fails capset */
                if (keep && (o->privileged || add_all) &&
                    prctl(PR_CAPBSET_READ, (unsigned long)i, 0, 0, 0) != 1)
                        keep = false;
                if (keep && ctr_strv_push(&v, &n, c) < 0) {
                        ctr_strv_free(v);
                        return oom(err);
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static VlJson *spec_caps_json(char *const *caps, size_t n, bool root) {
        VlJson *o = vl_json_new_object();
        if (!o)
                return NULL;
        int r = vl_json_object_set(o, "bounding", json_strv(caps, n));
        r = r < 0 ? r : vl_json_object_set(o, "effective", json_strv(caps, root ? n : 0));
        r = r < 0 ? r : vl_json_object_set(o, "permitted", json_strv(caps, root ? n : 0));
        return r < 0 ? vl_json_unref(o) : o;
}

/* ---- rlimits ---- */

static int parse_rlimit_value(const char *s, uint64_t *ret) {
        char *end;
        if (streq(s, "-1") || streq(s, "unlimited")) {
                *ret = UINT64_MAX;
                return 0;
        }
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end || *s == '-')
                return -EINVAL;
        *ret = v;
        return 0;
}

static VlJson *rlimit_json(const char *type, uint64_t soft, uint64_t hard) {
        VlJson *o = vl_json_new_object();
        if (o && (vl_json_object_set_string(o, "type", type) < 0 ||
                  vl_json_object_set(o, "hard", vl_json_new_uint(hard)) < 0 ||
                  vl_json_object_set(o, "soft", vl_json_new_uint(soft)) < 0))
                o = vl_json_unref(o);
        return o;
}

/* One --ulimit "name=soft[:hard]" → rlimit entry (hard defaults to soft). */
static int spec_ulimit(const char *u, const SpecInput *in, VlJson *arr, const char **ret_type,
                       CpodError *err) {
        const char *eq = strchr(u, '=');
        char name[32], soft_s[32] = "", hard_s[32] = "";
        const char *type = NULL;
        uint64_t soft, hard;

        if (!eq || (size_t)(eq - u) >= sizeof name)
                return cpod_error(err, EINVAL, "invalid ulimit `%s`: expected NAME=SOFT[:HARD]", u);
        memcpy(name, u, (size_t)(eq - u));
        name[eq - u] = 0;
        for (size_t i = 0; i < ELEMENTSOF(spec_rlimit_names); i++)
                if (streq(spec_rlimit_names[i].name, name) ||
                    strcasecmp(spec_rlimit_names[i].type, name) == 0)
                        type = spec_rlimit_names[i].type;
        if (!type)
                return cpod_error(err, EINVAL, "invalid ulimit `%s`: unknown limit `%s`", u, name);
        if (sscanf(eq + 1, "%31[^:]:%31s", soft_s, hard_s) < 1 || parse_rlimit_value(soft_s, &soft) < 0 ||
            (*hard_s && parse_rlimit_value(hard_s, &hard) < 0))
                return cpod_error(err, EINVAL, "invalid ulimit `%s`: bad value", u);
        if (!*hard_s)
                hard = soft;
        if (soft > hard)
                return cpod_error(err, EINVAL, "invalid ulimit `%s`: soft limit above the hard limit", u);
        uint64_t cap = streq(type, "RLIMIT_NOFILE")  ? in->nofile_hard
                       : streq(type, "RLIMIT_NPROC") ? in->nproc_hard
                                                     : UINT64_MAX;
        if (hard > cap)
                return cpod_error(err, EPERM, "ulimit %s=%s exceeds the hard limit of the caller (%llu)",
                                  name, eq + 1, (unsigned long long)cap);
        *ret_type = type;
        return vl_json_array_append(arr, rlimit_json(type, soft, hard)) < 0 ? oom(err) : 0;
}

static int spec_rlimits(const SpecInput *in, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *arr = vl_json_new_array();
        bool have_nofile = false, have_nproc = false;
        if (!arr)
                return oom(err);
        for (size_t i = 0; i < in->o->n_ulimits; i++) {
                const char *type = NULL;
                int r = spec_ulimit(in->o->ulimits[i], in, arr, &type, err);
                if (r < 0)
                        return r;
                have_nofile = have_nofile || streq(type, "RLIMIT_NOFILE");
                have_nproc = have_nproc || streq(type, "RLIMIT_NPROC");
        }
        uint64_t nofile = MIN(in->nofile_hard, SPEC_RLIMIT_MAX),
                 nproc = MIN(in->nproc_hard, SPEC_RLIMIT_MAX);
        if (!have_nofile && vl_json_array_append(arr, rlimit_json("RLIMIT_NOFILE", nofile, nofile)) < 0)
                return oom(err);
        if (!have_nproc && vl_json_array_append(arr, rlimit_json("RLIMIT_NPROC", nproc, nproc)) < 0)
                return oom(err);
        *ret = TAKE_PTR(arr);
        return 0;
}

/* ---- mounts ---- */

static VlJson *mount_json(const char *dest, const char *type, const char *source, const char *const *opts,
                          size_t n_opts) {
        VlJson *m = vl_json_new_object();
        if (m && (vl_json_object_set_string(m, "destination", dest) < 0 ||
                  vl_json_object_set_string(m, "type", type) < 0 ||
                  vl_json_object_set_string(m, "source", source) < 0 ||
                  vl_json_object_set(m, "options", json_cstrv(opts, n_opts)) < 0))
                m = vl_json_unref(m);
        return m;
}

#define MOUNT(dest, type, src, ...)                                     \
        mount_json(dest, type, src, (const char *const[]){__VA_ARGS__}, \
                   sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static bool user_mounts_cover(const SpecInput *in, const char *dest) {
        for (size_t i = 0; i < in->o->n_mounts; i++)
                if (in->o->mounts[i].destination && streq(in->o->mounts[i].destination, dest))
                        return true;
        return false;
}

static int add_mount(VlJson *arr, const SpecInput *in, VlJson *m, CpodError *err) {
        if (!m)
                return oom(err);
        const char *dest = vl_json_get_string(vl_json_object_get(m, "destination"));
        if (user_mounts_cover(in, dest)) {
                vl_json_unref(m);
                return 0;
        }
        return vl_json_array_append(arr, m) < 0 ? oom(err) : 0;
}

static int spec_default_mounts(const SpecInput *in, VlJson *arr, CpodError *err) {
        char hosts[4200], resolv[4200], hostname[4200];
        snprintf(hosts, sizeof hosts, "%s/hosts", in->userdata);
        snprintf(resolv, sizeof resolv, "%s/resolv.conf", in->userdata);
        snprintf(hostname, sizeof hostname, "%s/hostname", in->userdata);
        VlJson *m[] = {
                MOUNT("/proc", "proc", "proc", "nosuid", "noexec", "nodev"),
                MOUNT("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
                MOUNT("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
                MOUNT("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                      "mode=0620", "gid=5"),
                MOUNT("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
                MOUNT("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
                MOUNT("/sys/fs/cgroup", "cgroup", "cgroup", "rprivate", "nosuid", "noexec", "nodev",
                      "relatime", in->o->privileged ? "rw" : "ro"),
                MOUNT("/etc/hosts", "bind", hosts, "bind", "rprivate"),
                MOUNT("/etc/resolv.conf", "bind", resolv, "bind", "rprivate"),
                MOUNT("/etc/hostname", "bind", hostname, "bind", "rprivate"),
        };
        int r = 0;
        for (size_t i = 0; i < ELEMENTSOF(m); i++) {
                if (r < 0)
                        vl_json_unref(m[i]);
                else
                        r = add_mount(arr, in, m[i], err);
        }
        if (r >= 0 && in->o->read_only)
                for (size_t i = 0; r >= 0 && i < 3; i++) {
                        static const char *const d[] = {"/tmp", "/var/tmp", "/run"};
                        r = add_mount(arr, in,
                                      MOUNT(d[i], "tmpfs", "tmpfs", "rw", "rprivate", "nosuid", "nodev",
                                            "tmpcopyup"),
                                      err);
                }
        if (r >= 0 && in->o->init)
                r = add_mount(arr, in, MOUNT(SPEC_INIT_PATH, "bind", in->init_path, "bind", "ro", "nosuid"),
                              err);
        return r;
}

static int user_mount_json(const SpecInput *in, const ContainerMount *cm, VlJson **ret, CpodError *err) {
        _cleanup_free_ char *vol = NULL;
        const char *type = cm->type ? cm->type : "bind", *src = cm->source;
        char **opts = NULL;
        size_t n = 0;
        struct stat st;
        int r = 0;

        if (!cm->destination || cm->destination[0] != '/')
                return cpod_error(err, EINVAL, "invalid mount destination `%s`: must be an absolute path",
                                  cm->destination ? cm->destination : "");
        if (streq(type, "volume")) {
                if (!src || strchr(src, '/') ||
                    asprintf(&vol, "%s/%s/_data", in->volumes_dir ? in->volumes_dir : "", src) < 0 ||
                    stat(vol, &st) < 0)
                        return cpod_error(err, EOPNOTSUPP,
                                          "volumes are not supported yet: volume `%s` does not "
                                          "exist",
                                          src ? src : "");
                src = vol;
                type = "bind";
        }
        if (streq(type, "bind")) {
                if (!src || stat(src, &st) < 0)
                        return cpod_error_errno(err, errno ? errno : EINVAL,
                                                "invalid bind mount source `%s`: it must exist",
                                                src ? src : "");
                r = ctr_strv_push(&opts, &n, "rbind");
                if (r >= 0)
                        r = ctr_strv_push(&opts, &n, "rprivate");
        } else if (streq(type, "tmpfs")) {
                src = "tmpfs";
                static const char *const d[] = {"rw", "rprivate", "nosuid", "nodev", "tmpcopyup"};
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(d); i++)
                        r = ctr_strv_push(&opts, &n, d[i]);
        } else
                return cpod_error(err, EINVAL, "unsupported mount type `%s`", type);
        for (size_t i = 0; r >= 0 && i < cm->n_options; i++) {
                const char *x = cm->options[i];
                if (streq(x, "z") || streq(x, "Z") || streq(x, "U")) /* SELinux relabel, chown: not done */
                        continue;
                if (streq(type, "tmpfs") && (streq(x, "rw") || streq(x, "ro")) && n > 0)
                        free(opts[0]), opts[0] = strdup(x), r = opts[0] ? 0 : -ENOMEM;
                else
                        r = ctr_strv_push(&opts, &n, x);
        }
        if (r >= 0) {
                *ret = mount_json(cm->destination, streq(type, "tmpfs") ? "tmpfs" : "bind", src,
                                  (const char *const *)opts, n);
                r = *ret ? 0 : -ENOMEM;
        }
        ctr_strv_free(opts);
        return r < 0 ? oom(err) : 0;
}

static int spec_mounts(const SpecInput *in, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *arr = vl_json_new_array();
        if (!arr)
                return oom(err);
        int r = spec_default_mounts(in, arr, err);
        for (size_t i = 0; r >= 0 && i < in->o->n_mounts; i++) {
                VlJson *m = NULL;
                r = user_mount_json(in, &in->o->mounts[i], &m, err);
                if (r >= 0 && vl_json_array_append(arr, m) < 0)
                        r = oom(err);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(arr);
        return 0;
}

/* ---- seccomp ---- */

static bool json_strs_has(const VlJson *a, const char *s) {
        VlJson *x;
        VL_JSON_FOREACH_ELEMENT (x, a) {
                if (streq_ptr(vl_json_get_string(x), s))
                        return true;
        }
        return false;
}

static const char *go_arch(const char *machine) {
        static const struct {
                const char *uname, *go;
        } map[] = {{"x86_64", "amd64"},    {"aarch64", "arm64"}, {"i686", "386"},       {"armv7l", "arm"},
                   {"ppc64le", "ppc64le"}, {"s390x", "s390x"},   {"riscv64", "riscv64"}};
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(map[i].uname, machine))
                        return map[i].go;
        return machine;
}

static const char *seccomp_arch(const char *machine) {
        static const struct {
                const char *uname, *scmp;
        } map[] = {{"x86_64", "SCMP_ARCH_X86_64"},   {"aarch64", "SCMP_ARCH_AARCH64"},
                   {"i686", "SCMP_ARCH_X86"},        {"armv7l", "SCMP_ARCH_ARM"},
                   {"ppc64le", "SCMP_ARCH_PPC64LE"}, {"s390x", "SCMP_ARCH_S390X"},
                   {"riscv64", "SCMP_ARCH_RISCV64"}};
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(map[i].uname, machine))
                        return map[i].scmp;
        return NULL;
}

/* Does a syscall rule apply here (includes/excludes by caps and arches)? */
static bool seccomp_rule_applies(const VlJson *rule, const char *goarch, char *const *caps, size_t n_caps) {
        const VlJson *inc = vl_json_object_get(rule, "includes"),
                     *exc = vl_json_object_get(rule, "excludes");
        const VlJson *a = vl_json_object_get(inc, "arches");
        VlJson *x;
        if (vl_json_array_length(a) > 0 && !json_strs_has(a, goarch))
                return false;
        VL_JSON_FOREACH_ELEMENT (x, vl_json_object_get(inc, "caps")) {
                bool have = false;
                for (size_t i = 0; i < n_caps; i++)
                        have = have || streq_ptr(vl_json_get_string(x), caps[i]);
                if (!have)
                        return false;
        }
        if (json_strs_has(vl_json_object_get(exc, "arches"), goarch))
                return false;
        VL_JSON_FOREACH_ELEMENT (x, vl_json_object_get(exc, "caps")) {
                for (size_t i = 0; i < n_caps; i++)
                        if (streq_ptr(vl_json_get_string(x), caps[i]))
                                return false;
        }
        return true;
}

static int seccomp_rule(const VlJson *rule, VlJson *out_arr) {
        VlJson *o = vl_json_new_object();
        const VlJson *v;
        int r = o ? 0 : -ENOMEM;
        if (r >= 0)
                r = vl_json_object_set(o, "names", vl_json_copy(vl_json_object_get(rule, "names")));
        if (r >= 0)
                r = vl_json_object_set(o, "action", vl_json_copy(vl_json_object_get(rule, "action")));
        if (r >= 0 && (v = vl_json_object_get(rule, "errnoRet")) && vl_json_is_number(v))
                r = vl_json_object_set(o, "errnoRet", vl_json_copy(v));
        if (r >= 0 && vl_json_array_length(v = vl_json_object_get(rule, "args")) > 0)
                r = vl_json_object_set(o, "args", vl_json_copy(v));
        if (r < 0) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        return vl_json_array_append(out_arr, o);
}

static int seccomp_arches(const VlJson *profile, const char *machine, VlJson *o) {
        const char *native = seccomp_arch(machine);
        VlJson *arr = vl_json_new_array(), *m;
        if (!arr)
                return -ENOMEM;
        VL_JSON_FOREACH_ELEMENT (m, vl_json_object_get(profile, "archMap")) {
                if (!native || !streq_ptr(vl_json_get_string(vl_json_object_get(m, "architecture")), native))
                        continue;
                int r = vl_json_array_append(arr, vl_json_new_string(native));
                VlJson *s;
                VL_JSON_FOREACH_ELEMENT (s, vl_json_object_get(m, "subArchitectures")) {
                        if (r >= 0)
                                r = vl_json_array_append(arr, vl_json_copy(s));
                }
                if (r < 0) {
                        vl_json_unref(arr);
                        return -ENOMEM;
                }
        }
        VlJson *given = vl_json_object_get(profile, "architectures");
        if (vl_json_array_length(arr) == 0 && given) {
                vl_json_unref(arr);
                arr = vl_json_copy(given);
        }
        return vl_json_object_set(o, "architectures", arr);
}

int spec_seccomp_translate(const VlJson *profile, const char *arch, char *const *caps, size_t n_caps,
                           VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *o = vl_json_new_object();
        VlJson *syscalls = vl_json_new_array(), *rule;
        const VlJson *def = vl_json_object_get(profile, "defaultAction"), *v;
        const char *goarch = go_arch(arch);
        int r = o && syscalls ? 0 : -ENOMEM;

        if (!vl_json_get_string(def)) {
                vl_json_unref(syscalls);
                return cpod_error(err, EINVAL, "seccomp profile: no defaultAction");
        }
        if (r >= 0)
                r = vl_json_object_set(o, "defaultAction", vl_json_copy(def));
        if (r >= 0 && (v = vl_json_object_get(profile, "defaultErrnoRet")) && vl_json_is_number(v))
                r = vl_json_object_set(o, "defaultErrnoRet", vl_json_copy(v));
        if (r >= 0)
                r = seccomp_arches(profile, arch, o);
        VL_JSON_FOREACH_ELEMENT (rule, vl_json_object_get(profile, "syscalls")) {
                if (r < 0)
                        break;
                if (vl_json_array_length(vl_json_object_get(rule, "names")) == 0 &&
                    !vl_json_get_string(vl_json_object_get(rule, "name")))
                        continue;
                if (!seccomp_rule_applies(rule, goarch, caps, n_caps))
                        continue;
                if (!vl_json_object_get(rule, "names")) {
                        /* the older single-name form */
                        VlJson *copy = vl_json_copy(rule), *names = vl_json_new_array();
                        r = copy && names ? vl_json_array_append(
                                                    names, vl_json_copy(vl_json_object_get(rule, "name")))
                                          : -ENOMEM;
                        r = r < 0 ? r : vl_json_object_set(copy, "names", TAKE_PTR(names));
                        r = r < 0 ? r : seccomp_rule(copy, syscalls);
                        vl_json_unref(names);
                        vl_json_unref(copy);
                } else
                        r = seccomp_rule(rule, syscalls);
        }
        if (r >= 0)
                r = vl_json_object_set(o, "syscalls", TAKE_PTR(syscalls));
        vl_json_unref(syscalls);
        if (r < 0)
                return oom(err);
        *ret = TAKE_PTR(o);
        return 0;
}

static int seccomp_load(const char *path, char *const *caps, size_t n_caps, const char *arch, VlJson **ret,
                        CpodError *err) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(vl_json_unrefp) VlJson *profile = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        VlJsonError jerr;

        if (fd < 0)
                return cpod_error_errno(err, errno, "open seccomp profile `%s`", path);
        if (fstat(fd, &st) < 0 || st.st_size > SPEC_SECCOMP_MAX)
                return cpod_error(err, EFBIG, "seccomp profile `%s` is too large", path);
        text = malloc((size_t)st.st_size + 1);
        if (!text)
                return oom(err);
        ssize_t n = read(fd, text, (size_t)st.st_size);
        if (n != st.st_size)
                return cpod_error_errno(err, n < 0 ? errno : EIO, "read seccomp profile `%s`", path);
        if (vl_json_parse(text, (size_t)n, NULL, &profile, &jerr) < 0)
                return cpod_error(err, EINVAL, "seccomp profile `%s`: line %u: %s", path, jerr.line,
                                  jerr.message);
        int r = spec_seccomp_translate(profile, arch, caps, n_caps, ret, err);
        return r < 0 ? cpod_error_wrap(err, "seccomp profile `%s`", path) : 0;
}

/* ---- linux ---- */

static int ns_add(VlJson *arr, const char *type, const char *path) {
        VlJson *o = vl_json_new_object();
        if (!o || vl_json_object_set_string(o, "type", type) < 0 ||
            (path && vl_json_object_set_string(o, "path", path) < 0)) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        return vl_json_array_append(arr, o);
}

static int spec_namespaces(const SpecInput *in, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *arr = vl_json_new_array();
        const char *net = in->o->network ? in->o->network : "none";
        int r = arr ? 0 : -ENOMEM;
        static const char *const types[] = {"pid", "ipc", "uts", "mount"};
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(types); i++)
                r = ns_add(arr, types[i], NULL);
        if (r >= 0 && in->netns_path)
                r = ns_add(arr, "network", in->netns_path);
        else if (r >= 0 && !streq(net, "host")) {
                if (!streq(net, "none") && !streq(net, "private") && !streq(net, "bridge"))
                        return cpod_error(err, EINVAL, "unsupported network mode `%s`", net);
                r = ns_add(arr, "network", NULL);
        }
        if (r < 0)
                return oom(err);
        *ret = TAKE_PTR(arr);
        return 0;
}

static int set_limit(VlJson *res, const char *section, const char *key, VlJson *val) {
        VlJson *o = vl_json_object_get(res, section);
        if (!val)
                return -ENOMEM;
        if (!o) {
                o = vl_json_new_object();
                if (!o || vl_json_object_set(res, section, o) < 0) {
                        vl_json_unref(val);
                        return -ENOMEM;
                }
        }
        return vl_json_object_set(o, key, val);
}

static int spec_resources(const SpecInput *in, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *res = vl_json_new_object();
        VlJson *devs = vl_json_new_array(), *deny = vl_json_new_object();
        int r = res && devs && deny ? 0 : -ENOMEM;

        if (r >= 0)
                r = vl_json_object_set_bool(deny, "allow", in->o->privileged);
        if (r >= 0)
                r = vl_json_object_set_string(deny, "access", "rwm");
        r = r < 0 ? r : vl_json_array_append(devs, TAKE_PTR(deny));
        r = r < 0 ? r : vl_json_object_set(res, "devices", TAKE_PTR(devs));
        vl_json_unref(deny);
        vl_json_unref(devs);
        if (r >= 0 && in->o->memory > 0)
                r = set_limit(res, "memory", "limit", vl_json_new_int(in->o->memory));
        if (r >= 0 && in->o->cpus > 0) {
                r = set_limit(res, "cpu", "quota", vl_json_new_int((int64_t)(in->o->cpus * 100000.0 + 0.5)));
                r = r < 0 ? r : set_limit(res, "cpu", "period", vl_json_new_int(100000));
        }
        int64_t pids = in->o->pids_limit == 0 ? SPEC_PIDS_DEFAULT : in->o->pids_limit;
        if (r >= 0 && pids > 0)
                r = set_limit(res, "pids", "limit", vl_json_new_int(pids));
        if (r < 0)
                return oom(err);
        *ret = TAKE_PTR(res);
        return 0;
}

/* privileged: every host device in /dev (top level) */
static int spec_host_devices(VlJson *arr) {
        DIR *d = opendir("/dev");
        struct dirent *de;
        int r = 0;
        if (!d)
                return 0;
        while (r >= 0 && (de = readdir(d))) {
                char path[300];
                struct stat st;
                snprintf(path, sizeof path, "/dev/%s", de->d_name);
                if (lstat(path, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
                        continue;
                if (startswith(de->d_name, "tty") || streq(de->d_name, "console") ||
                    streq(de->d_name, "ptmx"))
                        continue;
                VlJson *o = vl_json_new_object();
                r = o ? 0 : -ENOMEM;
                r = r < 0 ? r : vl_json_object_set_string(o, "path", path);
                r = r < 0 ? r : vl_json_object_set_string(o, "type", S_ISCHR(st.st_mode) ? "c" : "b");
                r = r < 0 ? r : vl_json_object_set_int(o, "major", major(st.st_rdev));
                r = r < 0 ? r : vl_json_object_set_int(o, "minor", minor(st.st_rdev));
                r = r < 0 ? r : vl_json_object_set_int(o, "fileMode", st.st_mode & 07777);
                r = r < 0 ? r : vl_json_object_set_int(o, "uid", st.st_uid);
                r = r < 0 ? r : vl_json_object_set_int(o, "gid", st.st_gid);
                if (r < 0)
                        vl_json_unref(o);
                else
                        r = vl_json_array_append(arr, o);
        }
        closedir(d);
        return r;
}

static int spec_security(const SpecInput *in, char *const *caps, size_t n_caps, VlJson *linux_o,
                         bool *ret_nnp, CpodError *err) {
        const char *seccomp = NULL;
        bool unconfined = in->o->privileged;
        *ret_nnp = false;
        for (size_t i = 0; i < in->o->n_security_opt; i++) {
                const char *s = in->o->security_opt[i], *v;
                if ((v = startswith(s, "seccomp=")) || (v = startswith(s, "seccomp:"))) {
                        unconfined = streq(v, "unconfined");
                        seccomp = unconfined ? NULL : v;
                } else if (streq(s, "no-new-privileges") || streq(s, "no-new-privileges=true") ||
                           streq(s, "no-new-privileges:true"))
                        *ret_nnp = true;
                else if (streq(s, "no-new-privileges=false") || streq(s, "no-new-privileges:false"))
                        *ret_nnp = false;
                else if (!startswith(s, "label=") && !startswith(s, "label:") &&
                         !startswith(s, "apparmor=") && !startswith(s, "mask=") && !startswith(s, "unmask="))
                        return cpod_error(err, EINVAL, "invalid --security-opt `%s`", s);
        }
        if (!seccomp && !unconfined && in->seccomp_path && access(in->seccomp_path, R_OK) == 0)
                seccomp = in->seccomp_path;
        if (seccomp) {
                struct utsname u;
                VlJson *sc = NULL;
                uname(&u);
                int r = seccomp_load(seccomp, caps, n_caps, in->arch ? in->arch : u.machine, &sc, err);
                if (r < 0)
                        return r;
                if (vl_json_object_set(linux_o, "seccomp", sc) < 0)
                        return oom(err);
        }
        return 0;
}

static int spec_linux(const SpecInput *in, char *const *caps, size_t n_caps, bool *ret_nnp, VlJson **ret,
                      CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *l = vl_json_new_object();
        VlJson *x = NULL;
        char cg[128];
        int r;

        if (!l)
                return oom(err);
        r = spec_resources(in, &x, err);
        if (r >= 0 && vl_json_object_set(l, "resources", x) < 0)
                r = oom(err);
        snprintf(cg, sizeof cg, "/cpod/%s", in->id);
        if (r >= 0 && vl_json_object_set_string(l, "cgroupsPath", cg) < 0)
                r = oom(err);
        if (r >= 0)
                r = spec_namespaces(in, &x, err);
        if (r >= 0 && vl_json_object_set(l, "namespaces", x) < 0)
                r = oom(err);
        if (r >= 0 && in->o->privileged) {
                x = vl_json_new_array();
                if (!x || spec_host_devices(x) < 0 || vl_json_object_set(l, "devices", x) < 0)
                        r = oom(err);
        }
        if (r >= 0)
                r = spec_security(in, caps, n_caps, l, ret_nnp, err);
        if (r >= 0 && !in->o->privileged &&
            (vl_json_object_set(l, "maskedPaths", json_cstrv(spec_masked, ELEMENTSOF(spec_masked))) < 0 ||
             vl_json_object_set(l, "readonlyPaths", json_cstrv(spec_readonly, ELEMENTSOF(spec_readonly))) <
                     0))
                r = oom(err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- process and the whole spec ---- */

static int spec_user_json(const SpecUser *u, VlJson **ret) {
        VlJson *o = vl_json_new_object(), *gids = vl_json_new_array();
        int r = o && gids ? 0 : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_int(o, "uid", u ? u->uid : 0);
        r = r < 0 ? r : vl_json_object_set_int(o, "gid", u ? u->gid : 0);
        for (size_t i = 0; u && r >= 0 && i < u->n_additional_gids; i++)
                r = vl_json_array_append(gids, vl_json_new_int(u->additional_gids[i]));
        if (r >= 0 && vl_json_array_length(gids) > 0)
                r = vl_json_object_set(o, "additionalGids", TAKE_PTR(gids));
        vl_json_unref(gids);
        if (r < 0) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

static int spec_process(const SpecInput *in, char *const *caps, size_t n_caps, const char *hostname,
                        VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *p = vl_json_new_object();
        char **args = NULL, **env = NULL;
        size_t n_args = 0, n_env = 0;
        VlJson *x = NULL;
        const char *cwd = in->o->workdir && *in->o->workdir
                                  ? in->o->workdir
                                  : vl_json_get_string(vl_json_object_get(in->image_config, "WorkingDir"));
        int r = p ? 0 : oom(err);

        if (r >= 0)
                r = spec_process_args(in->o, in->image_config, &args, &n_args, err);
        if (r >= 0 && in->o->init) {
                char **wrapped = NULL;
                size_t n = 0;
                r = ctr_strv_push(&wrapped, &n, SPEC_INIT_PATH);
                r = r < 0 ? r : ctr_strv_push(&wrapped, &n, "--");
                for (size_t i = 0; r >= 0 && i < n_args; i++)
                        r = ctr_strv_push(&wrapped, &n, args[i]);
                ctr_strv_free(args);
                args = wrapped;
                n_args = n;
                if (r < 0)
                        r = oom(err);
        }
        if (r >= 0)
                r = spec_process_env(in->o, in->image_config, hostname, &env, &n_env, err);
        if (r >= 0 &&
            (vl_json_object_set_bool(p, "terminal", in->o->tty) < 0 || spec_user_json(in->user, &x) < 0 ||
             vl_json_object_set(p, "user", x) < 0 ||
             vl_json_object_set(p, "args", json_strv(args, n_args)) < 0 ||
             vl_json_object_set(p, "env", json_strv(env, n_env)) < 0 ||
             vl_json_object_set_string(p, "cwd", cwd && *cwd ? cwd : "/") < 0 ||
             vl_json_object_set(p, "capabilities",
                                spec_caps_json(caps, n_caps, !in->user || in->user->uid == 0)) < 0))
                r = oom(err);
        if (r >= 0)
                r = spec_rlimits(in, &x, err);
        if (r >= 0 && vl_json_object_set(p, "rlimits", x) < 0)
                r = oom(err);
        ctr_strv_free(args);
        ctr_strv_free(env);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int spec_build(const SpecInput *in, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *s = vl_json_new_object();
        VlJson *process = NULL, *lin = NULL, *mounts = NULL, *root = NULL, *ann = NULL;
        char **caps = NULL, hostname[65];
        size_t n_caps = 0;
        bool nnp = false;
        int r;

        if (!s)
                return oom(err);
        snprintf(hostname, sizeof hostname, "%s", in->hostname ? in->hostname : in->id);
        if (!in->hostname)
                hostname[MIN(strlen(hostname), 12u)] = 0;
        r = spec_capabilities(in->o, &caps, &n_caps, err);
        if (r >= 0)
                r = spec_process(in, caps, n_caps, hostname, &process, err);
        if (r >= 0)
                r = spec_linux(in, caps, n_caps, &nnp, &lin, err);
        if (r >= 0 && nnp)
                r = vl_json_object_set_bool(process, "noNewPrivileges", true) < 0 ? oom(err) : 0;
        if (r >= 0)
                r = spec_mounts(in, &mounts, err);
        ctr_strv_free(caps);
        if (r < 0) {
                vl_json_unref(process);
                vl_json_unref(lin);
                return r;
        }
        root = vl_json_new_object();
        ann = vl_json_new_object();
        if (!root || vl_json_object_set_string(root, "path", in->rootfs) < 0 ||
            vl_json_object_set_bool(root, "readonly", in->o->read_only) < 0 || !ann ||
            vl_json_object_set_string(ann, "io.container.manager", "cpod") < 0 ||
            vl_json_object_set_string(ann, "org.opencontainers.image.stopSignal",
                                      in->o->stop_signal ? in->o->stop_signal : "15") < 0)
                r = -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_string(s, "ociVersion", "1.0.2-dev");
        r = r < 0 ? r : vl_json_object_set(s, "process", TAKE_PTR(process));
        r = r < 0 ? r : vl_json_object_set(s, "root", TAKE_PTR(root));
        r = r < 0 ? r : vl_json_object_set_string(s, "hostname", hostname);
        r = r < 0 ? r : vl_json_object_set(s, "mounts", TAKE_PTR(mounts));
        r = r < 0 ? r : vl_json_object_set(s, "annotations", TAKE_PTR(ann));
        r = r < 0 ? r : vl_json_object_set(s, "linux", TAKE_PTR(lin));
        vl_json_unref(process);
        vl_json_unref(root);
        vl_json_unref(mounts);
        vl_json_unref(ann);
        vl_json_unref(lin);
        if (r < 0)
                return oom(err);
        *ret = TAKE_PTR(s);
        return 0;
}
