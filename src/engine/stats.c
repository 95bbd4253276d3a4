/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `top` and `stats`: read what the kernel says about a running container's
 * processes. The container's cgroups are found from its init process
 * (/proc/<pid>/cgroup against the cgroup mounts in /proc/self/mountinfo),
 * so it works whatever cgroup layout the runtime chose: each value is read
 * from the v1 controller when the container has one, else from cgroup v2.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "util.h"

#define STATS_SAMPLE_NS 100000000LL /* the interval CPU % is measured over */
#define TOP_MAX_PROCS   65536u

/* ---- small file readers ---- */

/* Read a small file (/proc, cgroupfs) into a NUL-terminated buffer; returns its length. */
static int read_small(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;

        if (fd < 0)
                return -errno;
        for (;;) {
                if (VL_GROW(buf, cap, len + 4097) < 0)
                        return -ENOMEM;
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > 16u * 1024u * 1024u)
                        return -EFBIG;
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        return (int)len;
}

static int read_u64(const char *dir, const char *file, uint64_t *ret) {
        _cleanup_free_ char *path = NULL, *s = NULL;
        if (!dir || asprintf(&path, "%s/%s", dir, file) < 0)
                return -ENOENT;
        int r = read_small(path, &s);
        if (r < 0)
                return r;
        if (strncmp(s, "max", 3) == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* The value of "key N" in a flat-keyed file (memory.stat, cpu.stat). */
static int read_keyed(const char *dir, const char *file, const char *key, uint64_t *ret) {
        _cleanup_free_ char *path = NULL, *s = NULL;
        if (!dir || asprintf(&path, "%s/%s", dir, file) < 0)
                return -ENOENT;
        int r = read_small(path, &s);
        if (r < 0)
                return r;
        size_t kl = strlen(key);
        for (char *line = s; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
                if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
                        *ret = strtoull(line + kl + 1, NULL, 10);
                        return 0;
                }
        return -ENOENT;
}

/* ---- finding the container's cgroups ---- */

typedef struct Cgroups {
        char *memory, *cpuacct, *pids, *blkio; /* v1 directories */
        char *unified;                         /* the v2 directory */
} Cgroups;

static void cgroups_done(Cgroups *c) {
        free(c->memory);
        free(c->cpuacct);
        free(c->pids);
        free(c->blkio);
        free(c->unified);
}

static bool opt_has(const char *opts, const char *name) {
        size_t l = strlen(name);
        for (const char *p = opts; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
                if (strncmp(p, name, l) == 0 && (p[l] == ',' || p[l] == 0))
                        return true;
        return false;
}

/* Where the hierarchy with this controller (NULL: cgroup2) is mounted, and the root it shows. */
static int cgroup_mount_of(const char *mountinfo, const char *controller, char **ret_mp, char **ret_root) {
        const char *line = mountinfo;
        while (line && *line) {
                const char *nl = strchr(line, '\n');
                char root[4096], mp[4096], fstype[64], super[1024];
                const char *sep = strstr(line, " - ");
                if (sep && (!nl || sep < nl) && sscanf(line, "%*s %*s %*s %4095s %4095s", root, mp) == 2 &&
                    sscanf(sep + 3, "%63s %*s %1023s", fstype, super) == 2) {
                        bool match = controller ? streq(fstype, "cgroup") && opt_has(super, controller)
                                                : streq(fstype, "cgroup2");
                        if (match) {
                                *ret_mp = strdup(mp);
                                *ret_root = strdup(root);
                                if (!*ret_mp || !*ret_root) {
                                        free(*ret_mp);
                                        free(*ret_root);
                                        return -ENOMEM;
                                }
                                return 0;
                        }
                }
                line = nl ? nl + 1 : NULL;
        }
        return -ENOENT;
}

/* The directory of cgroup path p (as /proc/<pid>/cgroup shows it) for a controller, NULL if none. */
static int cgroup_dir(const char *mountinfo, const char *controller, const char *p, char **ret) {
        _cleanup_free_ char *mp = NULL, *root = NULL;
        int r = cgroup_mount_of(mountinfo, controller, &mp, &root);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        const char *rel = p;
        if (!streq(root, "/") && startswith(p, root))
                rel = p + strlen(root);
        return asprintf(ret, "%s%s", mp, rel) < 0 ? -ENOMEM : 0;
}

static int cgroups_of(pid_t pid, Cgroups *ret) {
        _cleanup_free_ char *mountinfo = NULL, *cg = NULL, *path = NULL;
        static const char *const v1[] = {"memory", "cpuacct", "pids", "blkio"};
        Cgroups c = {};
        char **slot[] = {&c.memory, &c.cpuacct, &c.pids, &c.blkio};
        int r;

        if (asprintf(&path, "/proc/%d/cgroup", (int)pid) < 0)
                return -ENOMEM;
        r = read_small("/proc/self/mountinfo", &mountinfo);
        if (r >= 0)
                r = read_small(path, &cg);
        for (char *line = cg; r >= 0 && line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (c2) {
                        *c2 = 0;
                        const char *ctrls = c1 + 1, *p = c2 + 1;
                        if (*ctrls == 0 && !c.unified)
                                r = cgroup_dir(mountinfo, NULL, p, &c.unified);
                        for (size_t i = 0; r >= 0 && *ctrls && i < ELEMENTSOF(v1); i++)
                                if (opt_has(ctrls, v1[i]) && !*slot[i])
                                        r = cgroup_dir(mountinfo, v1[i], p, slot[i]);
                }
                line = nl ? nl + 1 : NULL;
        }
        if (r < 0) {
                cgroups_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

/* Whether a v1 directory is usable for a value (the file exists). */
static bool has_file(const char *dir, const char *file) {
        char path[4200];
        return dir && snprintf(path, sizeof(path), "%s/%s", dir, file) < (int)sizeof(path) &&
               access(path, R_OK) == 0;
}

/* ---- stats ---- */

static uint64_t cpu_usage_ns(const Cgroups *c) {
        uint64_t v = 0;
        if (has_file(c->cpuacct, "cpuacct.usage") && read_u64(c->cpuacct, "cpuacct.usage", &v) >= 0)
                return v;
        if (read_keyed(c->unified, "cpu.stat", "usage_usec", &v) >= 0)
                return v * 1000;
        return 0;
}

static uint64_t host_memory(void) {
        struct sysinfo si;
        return sysinfo(&si) == 0 ? (uint64_t)si.totalram * si.mem_unit : 0;
}

static void memory_stats(const Cgroups *c, uint64_t *usage, uint64_t *limit) {
        uint64_t u = 0, l = UINT64_MAX, inactive = 0;
        if (has_file(c->memory, "memory.usage_in_bytes")) {
                (void)read_u64(c->memory, "memory.usage_in_bytes", &u);
                (void)read_u64(c->memory, "memory.limit_in_bytes", &l);
                (void)read_keyed(c->memory, "memory.stat", "total_inactive_file", &inactive);
        } else if (has_file(c->unified, "memory.current")) {
                (void)read_u64(c->unified, "memory.current", &u);
                (void)read_u64(c->unified, "memory.max", &l);
                (void)read_keyed(c->unified, "memory.stat", "inactive_file", &inactive);
        }
        /* like podman: page cache the kernel can drop at once is not counted */
        *usage = inactive < u ? u - inactive : u;
        uint64_t host = host_memory();
        *limit = host && l > host ? host : l;
}

static uint64_t count_procs(const char *dir) {
        _cleanup_free_ char *path = NULL, *s = NULL;
        uint64_t n = 0;
        if (!dir || asprintf(&path, "%s/cgroup.procs", dir) < 0 || read_small(path, &s) < 0)
                return 0;
        for (const char *p = s; *p; p++)
                n += *p == '\n';
        return n;
}

static uint64_t pids_current(const Cgroups *c) {
        uint64_t v;
        if (has_file(c->pids, "pids.current") && read_u64(c->pids, "pids.current", &v) >= 0)
                return v;
        if (read_u64(c->unified, "pids.current", &v) >= 0)
                return v;
        return count_procs(c->memory ? c->memory : c->unified);
}

/* blkio lines "MAJ:MIN Read N" / "MAJ:MIN Write N"; io.stat lines "MAJ:MIN rbytes=N wbytes=N …". */
static void block_stats(const Cgroups *c, uint64_t *in, uint64_t *out) {
        static const char *const v1[] = {"blkio.throttle.io_service_bytes_recursive",
                                         "blkio.throttle.io_service_bytes",
                                         "blkio.io_service_bytes_recursive"};
        _cleanup_free_ char *s = NULL;
        char path[4200];

        *in = *out = 0;
        for (size_t i = 0; c->blkio && !s && i < ELEMENTSOF(v1); i++)
                if (snprintf(path, sizeof(path), "%s/%s", c->blkio, v1[i]) < (int)sizeof(path))
                        (void)read_small(path, &s);
        if (s) {
                for (char *line = s; line && *line;
                     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                        char op[16];
                        unsigned long long v;
                        if (sscanf(line, "%*u:%*u %15s %llu", op, &v) != 2)
                                continue;
                        if (streq(op, "Read"))
                                *in += v;
                        else if (streq(op, "Write"))
                                *out += v;
                }
                return;
        }
        if (!c->unified || snprintf(path, sizeof(path), "%s/io.stat", c->unified) >= (int)sizeof(path) ||
            read_small(path, &s) < 0)
                return;
        for (char *tok = strtok(s, " \n"); tok; tok = strtok(NULL, " \n")) {
                const char *v;
                if ((v = startswith(tok, "rbytes=")))
                        *in += strtoull(v, NULL, 10);
                else if ((v = startswith(tok, "wbytes=")))
                        *out += strtoull(v, NULL, 10);
        }
}

/* Bytes received and sent on every interface but loopback, in the network namespace of pid. */
static void net_stats(pid_t pid, uint64_t *in, uint64_t *out) {
        _cleanup_free_ char *s = NULL;
        char path[64];

        *in = *out = 0;
        snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
        if (read_small(path, &s) < 0)
                return;
        for (char *line = s; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                char name[64];
                unsigned long long rx, tx;
                while (*line == ' ')
                        line++;
                if (sscanf(line, "%63[^:]: %llu %*u %*u %*u %*u %*u %*u %*u %llu", name, &rx, &tx) != 3)
                        continue;
                if (streq(name, "lo"))
                        continue;
                *in += rx;
                *out += tx;
        }
}

static int64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int container_running(Engine *e, const char *ref, Container *c, CpodError *err) {
        int r = container_get(e, ref, c, err);
        if (r < 0)
                return r;
        if ((c->state != CONTAINER_RUNNING && c->state != CONTAINER_PAUSED) || c->pid <= 0) {
                r = cpod_error(err, EINVAL, "container %s is not running (state %s)", c->name,
                               container_state_name(c->state));
                container_done(c);
                return r;
        }
        return 0;
}

int container_stats(Engine *e, const char *ref, ContainerStats *ret, CpodError *err) {
        Container c = {};
        Cgroups cg = {};
        int r = container_running(e, ref, &c, err);

        if (r < 0)
                return r;
        r = cgroups_of(c.pid, &cg);
        if (r < 0) {
                r = cpod_error_errno(err, -r, "read the cgroups of container %s (pid %d)", c.name,
                                     (int)c.pid);
                container_done(&c);
                return r;
        }
        ContainerStats s = {};
        int64_t t0 = now_ns();
        uint64_t cpu0 = cpu_usage_ns(&cg);
        struct timespec pause = {.tv_nsec = STATS_SAMPLE_NS};
        while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
                ;
        s.cpu_nano = cpu_usage_ns(&cg);
        int64_t wall = now_ns() - t0;
        /* podman's measure: 100% is one CPU busy all the time */
        if (wall > 0 && s.cpu_nano >= cpu0)
                s.cpu_percent = (double)(s.cpu_nano - cpu0) * 100.0 / (double)wall;
        memory_stats(&cg, &s.mem_usage, &s.mem_limit);
        s.pids = pids_current(&cg);
        block_stats(&cg, &s.block_in, &s.block_out);
        net_stats(c.pid, &s.net_in, &s.net_out);
        memcpy(s.id, c.id, sizeof(s.id));
        s.name = TAKE_PTR(c.name);
        cgroups_done(&cg);
        container_done(&c);
        if (!s.name)
                return cpod_error(err, ENOMEM, "out of memory");
        *ret = s;
        return 0;
}

/* ---- top ---- */

/* Go's time.Duration format, which podman's top and stats print ("2.5s", "1m3.25s", "9.00651ms"). */
static void go_duration(int64_t ns, char *buf, size_t n) {
        static const struct {
                int64_t unit;
                const char *name;
        } small[] = {{1000000, "ms"}, {1000, "µs"}, {1, "ns"}};
        char frac[16] = "";
        int64_t unit = 1000000000LL, whole;
        const char *suffix = "s";

        if (ns <= 0) {
                snprintf(buf, n, "0s");
                return;
        }
        for (size_t i = 0; ns < 1000000000LL && i < ELEMENTSOF(small); i++)
                if (ns >= small[i].unit || small[i].unit == 1) {
                        unit = small[i].unit;
                        suffix = small[i].name;
                        break;
                }
        whole = ns / unit;
        int64_t rest = ns % unit;
        if (rest) {
                int digits = unit == 1000000000LL ? 9 : unit == 1000000 ? 6 : 3;
                snprintf(frac, sizeof(frac), ".%0*" PRId64, digits, rest);
                for (size_t l = strlen(frac); l > 1 && frac[l - 1] == '0'; l--)
                        frac[l - 1] = 0;
        }
        if (unit != 1000000000LL || whole < 60)
                snprintf(buf, n, "%" PRId64 "%s%s", whole, frac, suffix);
        else if (whole < 3600)
                snprintf(buf, n, "%" PRId64 "m%" PRId64 "%ss", whole / 60, whole % 60, frac);
        else
                snprintf(buf, n, "%" PRId64 "h%" PRId64 "m%" PRId64 "%ss", whole / 3600, whole / 60 % 60,
                         whole % 60, frac);
}

typedef struct ProcInfo {
        pid_t pid, ppid, ns_pid;
        unsigned uid;
        unsigned long long utime, stime, start;
        unsigned tty_major, tty_minor;
        char *cmd;
} ProcInfo;

static int proc_read(pid_t pid, ProcInfo *p) {
        _cleanup_free_ char *stat = NULL, *status = NULL, *cmdline = NULL;
        char path[64];
        int r;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        if ((r = read_small(path, &stat)) < 0)
                return r;
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        if ((r = read_small(path, &status)) < 0)
                return r;

        /* the command name may hold spaces and parentheses: fields start after the last ')' */
        char *close = strrchr(stat, ')'), *open = strchr(stat, '(');
        int ppid = 0, tty = 0;
        if (!close || !open ||
            sscanf(close + 2,
                   "%*c %d %*d %*d %d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu", &ppid,
                   &tty, &p->utime, &p->stime, &p->start) != 5)
                return -EBADMSG;
        p->pid = pid;
        p->ppid = ppid;
        p->tty_major = ((unsigned)tty >> 8) & 0xfff;
        p->tty_minor = ((unsigned)tty & 0xff) | (((unsigned)tty >> 12) & 0xfff00);
        p->ns_pid = pid;
        const char *l;
        if ((l = strstr(status, "\nUid:")))
                p->uid = (unsigned)strtoul(l + 5, NULL, 10);
        if ((l = strstr(status, "\nNSpid:"))) {
                /* the last field is the pid as the container sees it */
                const char *end = strchr(l + 1, '\n');
                for (const char *q = l + 7; *q && (!end || q < end); q++)
                        if (isdigit((unsigned char)*q) && (q[-1] == ' ' || q[-1] == '\t'))
                                p->ns_pid = (pid_t)strtol(q, NULL, 10);
        }
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
        int n = read_small(path, &cmdline);
        if (n > 0) {
                /* arguments are NUL-separated */
                while (n > 0 && cmdline[n - 1] == 0)
                        n--;
                for (int i = 0; i < n; i++)
                        if (cmdline[i] == 0)
                                cmdline[i] = ' ';
                p->cmd = TAKE_PTR(cmdline);
        } else {
                *close = 0;
                if (asprintf(&p->cmd, "[%s]", open + 1) < 0)
                        p->cmd = NULL;
        }
        return p->cmd ? 0 : -ENOMEM;
}

/* The user name of uid in the container's /etc/passwd (as the container sees it), else the number. */
static char *user_name(const char *passwd, unsigned uid) {
        char *res = NULL;
        for (const char *line = passwd; line && *line;) {
                const char *nl = strchr(line, '\n'), *c1 = strchr(line, ':');
                const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (c2 && (!nl || c2 < nl) && strtoul(c2 + 1, NULL, 10) == uid &&
                    isdigit((unsigned char)c2[1]))
                        return strndup(line, (size_t)(c1 - line));
                line = nl ? nl + 1 : NULL;
        }
        return asprintf(&res, "%u", uid) < 0 ? NULL : res;
}

static void tty_name(const ProcInfo *p, char *buf, size_t n) {
        if (p->tty_major >= 136 && p->tty_major <= 143)
                snprintf(buf, n, "pts/%u", (p->tty_major - 136) * 256 + p->tty_minor);
        else if (p->tty_major == 4 && p->tty_minor < 64)
                snprintf(buf, n, "tty%u", p->tty_minor);
        else if (p->tty_major == 4)
                snprintf(buf, n, "ttyS%u", p->tty_minor - 64);
        else
                snprintf(buf, n, "?");
}

#define TOP_NCOLS 8

/* One row: USER PID PPID %CPU ELAPSED TTY TIME COMMAND, podman top's default columns. */
static int top_row(const ProcInfo *p, const ProcInfo *all, size_t n, const char *passwd, char ***ret) {
        static long ticks;
        struct timespec boot;
        char pid[32], ppid[32] = "0", cpu[32], elapsed[64], tty[32], time_s[64];

        if (!ticks)
                ticks = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
        clock_gettime(CLOCK_BOOTTIME, &boot);
        int64_t up = (int64_t)boot.tv_sec * 1000000000LL + boot.tv_nsec;
        int64_t started = (int64_t)(p->start * 1000000000ULL / (unsigned long long)ticks);
        int64_t cpu_ns = (int64_t)((p->utime + p->stime) * 1000000000ULL / (unsigned long long)ticks);
        int64_t el = up > started ? up - started : 0;

        snprintf(pid, sizeof(pid), "%d", (int)p->ns_pid);
        /* a parent outside the container (conmon) shows as 0, as inside the container */
        for (size_t i = 0; i < n; i++)
                if (all[i].pid == p->ppid)
                        snprintf(ppid, sizeof(ppid), "%d", (int)all[i].ns_pid);
        snprintf(cpu, sizeof(cpu), "%.3f", el > 0 ? (double)cpu_ns * 100.0 / (double)el : 0.0);
        go_duration(el, elapsed, sizeof(elapsed));
        tty_name(p, tty, sizeof(tty));
        go_duration(cpu_ns, time_s, sizeof(time_s));

        char **row = calloc(TOP_NCOLS, sizeof(char *));
        if (!row)
                return -ENOMEM;
        const char *cols[TOP_NCOLS] = {NULL, pid, ppid, cpu, elapsed, tty, time_s, p->cmd};
        row[0] = user_name(passwd, p->uid);
        for (size_t i = 1; i < TOP_NCOLS; i++)
                row[i] = strdup(cols[i]);
        for (size_t i = 0; i < TOP_NCOLS; i++)
                if (!row[i]) {
                        for (size_t j = 0; j < TOP_NCOLS; j++)
                                free(row[j]);
                        free(row);
                        return -ENOMEM;
                }
        *ret = row;
        return 0;
}

/* The host pids of the container's processes, from one of its cgroups. */
static int container_pids(pid_t init, pid_t **ret, size_t *ret_n) {
        _cleanup_free_ char *path = NULL, *s = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, cap = 0;
        Cgroups cg = {};
        int r = cgroups_of(init, &cg);

        if (r < 0)
                return r;
        const char *dir = cg.pids ? cg.pids : cg.memory ? cg.memory : cg.cpuacct ? cg.cpuacct : cg.unified;
        if (dir && asprintf(&path, "%s/cgroup.procs", dir) < 0)
                r = -ENOMEM;
        cgroups_done(&cg);
        if (r < 0)
                return r;
        if (path)
                (void)read_small(path, &s);
        for (char *p = s; p && *p && n < TOP_MAX_PROCS;) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (VL_GROW(pids, cap, n + 1) < 0)
                        return -ENOMEM;
                pids[n++] = (pid_t)v;
                p = end + (*end == '\n');
        }
        /* no readable cgroup of its own (a runtime that made none): the init process alone */
        bool has_init = false;
        for (size_t i = 0; i < n; i++)
                has_init = has_init || pids[i] == init;
        if (!has_init) {
                n = 0;
                if (VL_GROW(pids, cap, 1) < 0)
                        return -ENOMEM;
                pids[n++] = init;
        }
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}

static void top_free(char ***rows, size_t n) {
        for (size_t i = 0; rows && i < n; i++) {
                for (size_t j = 0; rows[i] && j < TOP_NCOLS; j++)
                        free(rows[i][j]);
                free(rows[i]);
        }
        free(rows);
}

static int top_header(char ***ret) {
        static const char *const names[TOP_NCOLS] = {"USER",    "PID", "PPID", "%CPU",
                                                     "ELAPSED", "TTY", "TIME", "COMMAND"};
        char **h = calloc(TOP_NCOLS, sizeof(char *));
        if (!h)
                return -ENOMEM;
        for (size_t i = 0; i < TOP_NCOLS; i++)
                if (!(h[i] = strdup(names[i]))) {
                        for (size_t j = 0; j < i; j++)
                                free(h[j]);
                        free(h);
                        return -ENOMEM;
                }
        *ret = h;
        return 0;
}

int container_top(Engine *e, const char *ref, char ***ret_header, size_t *ret_ncols, char ****ret_rows,
                  size_t *ret_nrows, CpodError *err) {
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_free_ char *passwd = NULL, *pw_path = NULL;
        ProcInfo *procs = NULL;
        char ***rows = NULL, **header = NULL;
        size_t n = 0, np = 0;
        Container c = {};
        int r = container_running(e, ref, &c, err);

        if (r < 0)
                return r;
        r = container_pids(c.pid, &pids, &n);
        if (r >= 0 && asprintf(&pw_path, "/proc/%d/root/etc/passwd", (int)c.pid) < 0)
                r = -ENOMEM;
        if (r >= 0)
                (void)read_small(pw_path, &passwd);
        if (r >= 0 && (!(procs = calloc(n, sizeof(ProcInfo))) || !(rows = calloc(n, sizeof(char **)))))
                r = -ENOMEM;
        /* a process that exits meanwhile is left out */
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (proc_read(pids[i], &procs[np]) >= 0)
                        np++;
        for (size_t i = 0; r >= 0 && i < np; i++)
                r = top_row(&procs[i], procs, np, passwd, &rows[i]);
        if (r >= 0)
                r = top_header(&header);
        for (size_t i = 0; procs && i < np; i++)
                free(procs[i].cmd);
        free(procs);
        if (r < 0) {
                top_free(rows, np);
                r = cpod_error_errno(err, -r, "list the processes of container %s", c.name);
                container_done(&c);
                return r;
        }
        container_done(&c);
        *ret_header = header;
        *ret_ncols = TOP_NCOLS;
        *ret_rows = rows;
        *ret_nrows = np;
        return 0;
}
