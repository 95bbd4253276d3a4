/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Containers on bridge networks: the options stored at create, the named
 * network namespace, netavark setup and teardown, published ports,
 * /etc/hosts and /etc/resolv.conf, connect and disconnect.
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container-internal.h"
#include "db.h"
#include "engine-internal.h"
#include "network-internal.h"
#include "network.h"
#include "util.h"

extern char **environ;

#define NETAVARK_OUTPUT_MAX (1024 * 1024)

static int oom(CpodError *err) {
        return cpod_error(err, ENOMEM, "out of memory");
}

static const char *doc_str(const VlJson *doc, const char *key) {
        return vl_json_get_string(vl_json_object_get(doc, key)) ?: "";
}

static char *run_path(Engine *e, const char *id, const char *suffix) {
        char *p = NULL;
        return asprintf(&p, "%s/netns/%s%s", e->runroot, id, suffix) < 0 ? NULL : p;
}

static int read_json(const char *path, VlJson **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size > NETAVARK_OUTPUT_MAX)
                return -EFBIG;
        if (!(buf = malloc(st.st_size + 1)))
                return -ENOMEM;
        ssize_t n = read(fd, buf, st.st_size);
        if (n < 0)
                return -errno;
        return vl_json_parse(buf, n, NULL, ret, NULL) < 0 ? -EBADMSG : 0;
}

static int write_atomic(const char *path, const char *text, CpodError *err) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        size_t len = strlen(text);
        if (fd < 0)
                return cpod_error_errno(err, errno, "create `%s`", tmp);
        if (write(fd, text, len) != (ssize_t)len || rename(tmp, path) < 0) {
                int k = errno ?: EIO;
                unlink(tmp);
                return cpod_error_errno(err, k, "write `%s`", path);
        }
        return 0;
}

/* /etc/hosts and /etc/resolv.conf are bind-mounted into the container by the runtime, which may already
 * have happened (setup runs while the container is created): rewrite the file the mount shows, not a
 * new one renamed over it. The container's process has not started yet, so no reader sees it half
 * written. */
static int write_in_place(const char *path, const char *text, CpodError *err) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        size_t len = strlen(text);
        if (fd < 0 || write(fd, text, len) != (ssize_t)len)
                return cpod_error_errno(err, errno ?: EIO, "write `%s`", path);
        return 0;
}

static int write_json(const char *path, const VlJson *doc, CpodError *err) {
        _cleanup_free_ char *text = vl_json_to_string(doc, 0);
        return text ? write_atomic(path, text, err) : oom(err);
}

/* ---- netavark ---- */

static const char *find_binary(const char *env, const char *name) {
        static char buf[2][512];
        const char *v = getenv(env);
        if (v && *v)
                return v;
        static const char *const dirs[] = {"/usr/libexec/podman", "/usr/lib/podman",
                                           "/usr/local/libexec/podman", "/usr/local/lib/podman", "/usr/bin"};
        char *b = buf[streq(name, "netavark") ? 0 : 1];
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                snprintf(b, sizeof buf[0], "%s/%s", dirs[i], name);
                if (access(b, X_OK) == 0)
                        return b;
        }
        return NULL;
}

static int64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One netavark process: started, then waited for, so the caller can do other work meanwhile. Its
 * output is small (a few hundred bytes of JSON, a line of error), far below a pipe's capacity, so it
 * never blocks on a full pipe while nobody reads. */
typedef struct NvCall {
        const char *cmd;
        pid_t pid;
        int out, err_fd, pidfd, spawn_error;
        int64_t t0;
} NvCall;

#define NV_CALL_INIT \
        { .pid = -1, .out = -1, .err_fd = -1, .pidfd = -1 }

static int pidfd_open_(pid_t pid) {
#ifdef SYS_pidfd_open
        return (int)syscall(SYS_pidfd_open, pid, 0);
#else
        errno = ENOSYS;
        return -1;
#endif
}

/* Read stdout and stderr until the child exits (aardvark-dns, which netavark starts, may keep copies of
 * them open long after). The pidfd reports the exit at once; without one, look every 50 ms. */
static int collect(NvCall *c, VlBuf *ob, VlBuf *eb, int *ret_status) {
        struct pollfd p[3] = {{.fd = c->out, .events = POLLIN},
                              {.fd = c->err_fd, .events = POLLIN},
                              {.fd = c->pidfd, .events = POLLIN}};
        VlBuf *bufs[2] = {ob, eb};
        bool exited = false;
        for (;;) {
                int n = poll(p, 3, exited ? 0 : c->pidfd >= 0 ? -1 : 50);
                if (n < 0 && errno == EINTR)
                        continue;
                for (int i = 0; i < 2 && n > 0; i++) {
                        char chunk[8192];
                        if (!(p[i].revents & (POLLIN | POLLHUP)))
                                continue;
                        ssize_t k = read(p[i].fd, chunk, sizeof chunk);
                        if (k <= 0)
                                p[i].fd = -1;
                        else if (bufs[i]->len + k > NETAVARK_OUTPUT_MAX ||
                                 vl_buf_append(bufs[i], chunk, k) < 0)
                                return -EFBIG;
                }
                if (p[0].fd < 0 && p[1].fd < 0 && !exited)
                        return waitpid(c->pid, ret_status, 0) < 0 ? -errno : 0;
                if (exited && n <= 0)
                        return 0;
                if (!exited && waitpid(c->pid, ret_status, WNOHANG) == c->pid) {
                        exited = true;
                        p[2].fd = -1;
                }
        }
}

static int spawn_netavark(Engine *e, const char *cmd, const char *nspath, int in, int out, int errp,
                          pid_t *ret) {
        const char *nv = find_binary("CPOD_NETAVARK", "netavark");
        const char *dns = find_binary("CPOD_AARDVARK", "aardvark-dns");
        char config[4200];
        if (!nv)
                return -ENOENT;
        snprintf(config, sizeof config, "%s/networks", e->runroot);
        const char *argv[12];
        size_t n = 0;
        argv[n++] = nv;
        argv[n++] = "--config";
        argv[n++] = config;
        argv[n++] = "--rootless";
        argv[n++] = geteuid() == 0 ? "false" : "true";
        if (dns) {
                argv[n++] = "--aardvark-binary";
                argv[n++] = dns;
        }
        argv[n++] = cmd;
        argv[n++] = nspath;
        argv[n] = NULL;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in, 0);
        posix_spawn_file_actions_adddup2(&fa, out, 1);
        posix_spawn_file_actions_adddup2(&fa, errp, 2);
        int r = posix_spawn(ret, nv, &fa, NULL, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        return -r;
}

static int netavark_fail(const char *cmd, const VlBuf *ob, VlBuf *eb, int status, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *doc = NULL;
        const char *msg = NULL;
        if (ob->len > 0 && vl_json_parse(ob->data, ob->len, NULL, &doc, NULL) >= 0)
                msg = vl_json_get_string(vl_json_object_get(doc, "error"));
        if (!msg && eb->len > 0 && vl_buf_append_char(eb, 0) >= 0) {
                msg = eb->data;
                while (eb->len > 1 && (eb->data[eb->len - 2] == '\n' || eb->data[eb->len - 2] == ' '))
                        eb->data[--eb->len - 1] = 0;
        }
        return cpod_error(err, EIO, "netavark %s: %s", cmd,
                          msg
                                  ?: WIFEXITED(status) ? "failed"
                                                       : "killed by a signal");
}

/* Start `netavark setup|teardown NSPATH` with input on stdin (written whole before returning). A
 * failure to start is kept in c and reported by nv_wait. */
static void nv_start(Engine *e, const char *cmd, const char *nspath, const VlJson *input, NvCall *c) {
        _cleanup_free_ char *text = vl_json_to_string(input, 0);
        int in[2] = {-1, -1}, out[2] = {-1, -1}, ep[2] = {-1, -1};
        *c = (NvCall)NV_CALL_INIT;
        c->cmd = cmd;
        c->t0 = now_usec();
        int r = !text                                                                               ? -ENOMEM
                : pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0 ? -errno
                                                                                                    : 0;
        if (r >= 0)
                r = spawn_netavark(e, cmd, nspath, in[0], out[1], ep[1], &c->pid);
        safe_close(in[0]);
        safe_close(out[1]);
        safe_close(ep[1]);
        if (r >= 0) {
                size_t len = strlen(text);
                void (*old)(int) = signal(SIGPIPE, SIG_IGN);
                if (write(in[1], text, len) != (ssize_t)len)
                        r = -errno;
                signal(SIGPIPE, old);
                c->pidfd = pidfd_open_(c->pid);
                if (c->pidfd >= 0)
                        (void)fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
        }
        safe_close(in[1]);
        c->out = out[0];
        c->err_fd = ep[0];
        if (r < 0 && c->pid < 0) {
                c->spawn_error = r;
                c->out = safe_close(c->out);
                c->err_fd = safe_close(c->err_fd);
        } else if (r < 0)
                c->spawn_error = r; /* started, but its input was not written whole: wait, then fail */
}

/* Wait for a started call; *ret (may be NULL) gets the JSON netavark printed. With CPOD_NET_TIMING set,
 * print the call's wall time (from the start to the exit cpod saw) and how long cpod waited for it. */
static int nv_wait(NvCall *c, VlJson **ret, CpodError *err) {
        VlBuf ob = VL_BUF_INIT, eb = VL_BUF_INIT;
        int status = 0, r = c->spawn_error;
        int64_t waited = now_usec();
        if (c->pid > 0) {
                int k = collect(c, &ob, &eb, &status);
                r = r < 0 ? r : k;
        }
        c->pid = -1;
        c->out = safe_close(c->out);
        c->err_fd = safe_close(c->err_fd);
        c->pidfd = safe_close(c->pidfd);
        if (getenv("CPOD_NET_TIMING")) {
                int64_t now = now_usec();
                fprintf(stderr, "cpod: netavark %s: %.1f ms (waited %.1f ms)\n", c->cmd,
                        (now - c->t0) / 1000.0, (now - waited) / 1000.0);
        }
        if (r == -ENOENT)
                r = cpod_error(err, ENOENT,
                               "netavark is not installed (looked in /usr/libexec/podman and "
                               "/usr/lib/podman)");
        else if (r < 0)
                r = cpod_error_errno(err, -r, "run netavark %s", c->cmd);
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                r = netavark_fail(c->cmd, &ob, &eb, status, err);
        else if (ret && vl_json_parse(ob.data ?: "{}", ob.data ? ob.len : 2, NULL, ret, NULL) < 0)
                r = cpod_error(err, EBADMSG, "netavark %s: output is not JSON", c->cmd);
        vl_buf_free(&ob);
        vl_buf_free(&eb);
        return r;
}

/* Run `netavark setup|teardown NSPATH` with input on stdin and wait; *ret (may be NULL) gets the JSON it
 * prints. */
static int netavark(Engine *e, const char *cmd, const char *nspath, const VlJson *input, VlJson **ret,
                    CpodError *err) {
        NvCall c;
        nv_start(e, cmd, nspath, input, &c);
        return nv_wait(&c, ret, err);
}

/* netavark calls on one host are serialized (podman does the same): bridges and firewall chains are
 * shared by every container. */
static int netavark_lock(Engine *e, CpodError *err) {
        char path[4200];
        snprintf(path, sizeof path, "%s/networks", e->runroot);
        (void)mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/networks/netavark.lock", e->runroot);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return cpod_error_errno(err, errno, "open `%s`", path);
        if (flock(fd, LOCK_EX) < 0) {
                int k = errno;
                close(fd);
                return cpod_error_errno(err, k, "lock `%s`", path);
        }
        return fd;
}

/* ---- the namespace ---- */

/* A new network namespace bind-mounted on path (what `ip netns add` does): a child unshares one and
 * mounts its own nsfs file, so this process keeps its namespace. */
static int netns_create(Engine *e, const char *path, CpodError *err) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/netns", e->runroot);
        (void)mkdir(dir, 0755);
        (void)umount2(path, MNT_DETACH); /* a leftover of a crash */
        int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
        if (fd < 0)
                return cpod_error_errno(err, errno, "create `%s`", path);
        close(fd);
        pid_t pid = fork();
        if (pid < 0)
                return cpod_error_errno(err, errno, "fork");
        if (pid == 0) {
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                _exit(mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0 ? 2 : 0);
        }
        int status;
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                unlink(path);
                return cpod_error(err, EPERM, "create network namespace `%s`: %s", path,
                                  WIFEXITED(status) && WEXITSTATUS(status) == 1 ? "unshare failed"
                                                                                : "mount failed");
        }
        return 0;
}

static void netns_remove(const char *path) {
        (void)umount2(path, MNT_DETACH);
        (void)unlink(path);
}

/* ---- options stored at create ---- */

static char *options_path(Engine *e, const char *id) {
        return container_path(e, id, "network.json");
}

static int load_options(Engine *e, const char *id, VlJson **ret) {
        _cleanup_free_ char *p = options_path(e, id);
        return p ? read_json(p, ret) : -ENOMEM;
}

int net_container_uses_bridge(Engine *e, const char *id) {
        _cleanup_free_ char *p = options_path(e, id);
        return p && access(p, F_OK) == 0;
}

/* "bridge" or "" is the default network; else comma-separated network names. */
static int add_networks(Engine *e, VlJson *nets, const char *mode, const ContainerCreateOptions *o,
                        CpodError *err) {
        _cleanup_free_ char *copy = strdup(streq(mode, "bridge") || !*mode ? NET_DEFAULT_NAME : mode);
        unsigned idx = 0;
        char *save = NULL;
        if (!copy)
                return oom(err);
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                _cleanup_(vl_json_unrefp) VlJson *doc = NULL;
                char iface[16];
                int r = net_get(e, tok, &doc, err);
                if (r < 0)
                        return r;
                VlJson *pn = vl_json_new_object(), *al = vl_json_new_array(), *ips = vl_json_new_array();
                snprintf(iface, sizeof iface, "eth%u", idx++);
                r = pn && al && ips ? 0 : -ENOMEM;
                for (size_t i = 0; r >= 0 && i < o->n_network_aliases; i++)
                        r = vl_json_array_append(al, vl_json_new_string(o->network_aliases[i]));
                if (r >= 0 && o->ip)
                        r = vl_json_array_append(ips, vl_json_new_string(o->ip));
                r = r < 0 ? r : vl_json_object_set_string(pn, "interface_name", iface);
                r = r < 0 ? r : vl_json_object_set(pn, "aliases", TAKE_PTR(al));
                r = r < 0 ? r : vl_json_object_set(pn, "static_ips", TAKE_PTR(ips));
                if (r >= 0 && o->mac_address)
                        r = vl_json_object_set_string(pn, "static_mac", o->mac_address);
                r = r < 0 ? r : vl_json_object_set(nets, doc_str(doc, "name"), TAKE_PTR(pn));
                vl_json_unref(pn);
                vl_json_unref(al);
                vl_json_unref(ips);
                if (r < 0)
                        return oom(err);
        }
        return 0;
}

/* -P: the image's ExposedPorts ("8080/tcp") on random host ports. */
static int add_exposed(VlJson *ports, const VlJson *image_config, CpodError *err) {
        const VlJson *exposed = vl_json_object_get(image_config, "ExposedPorts");
        const char *k;
        const VlJson *v;
        VL_JSON_FOREACH_MEMBER (k, v, exposed) {
                int r = net_parse_publish(k, ports, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int strv_array(VlJson *doc, const char *key, char *const *v, size_t n) {
        VlJson *a = vl_json_new_array();
        int r = a ? vl_json_object_set(doc, key, a) : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = vl_json_array_append(a, vl_json_new_string(v[i]));
        return r;
}

static int check_options(const ContainerCreateOptions *o, CpodError *err) {
        uint8_t a[16];
        for (size_t i = 0; i < o->n_dns; i++)
                if (inet_pton(AF_INET, o->dns[i], a) != 1 && inet_pton(AF_INET6, o->dns[i], a) != 1)
                        return cpod_error(err, EINVAL, "%s is not an IP address", o->dns[i]);
        for (size_t i = 0; i < o->n_add_hosts; i++) {
                const char *c = strchr(o->add_hosts[i], ':');
                if (!c || c == o->add_hosts[i] ||
                    (inet_pton(AF_INET, c + 1, a) != 1 && inet_pton(AF_INET6, c + 1, a) != 1))
                        return cpod_error(err, EINVAL, "invalid IP address in add-host: \"%s\"",
                                          o->add_hosts[i]);
        }
        if (o->ip && inet_pton(AF_INET, o->ip, a) != 1 && inet_pton(AF_INET6, o->ip, a) != 1)
                return cpod_error(err, EINVAL, "%s is not an IP address", o->ip);
        return 0;
}

static bool mode_is_bridge(const ContainerCreateOptions *o) {
        const char *m = o->network;
        if (!m)
                return o->n_publish > 0 || o->publish_all; /* ports need a bridge */
        return !streq(m, "none") && !streq(m, "host") && !streq(m, "private") &&
               !startswith(m, "container:") && !startswith(m, "ns:");
}

int net_container_prepare(Engine *e, const char *id, const char *name, const ContainerCreateOptions *o,
                          const VlJson *image_config, char **ret_netns, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *doc = vl_json_new_object();
        _cleanup_free_ char *path = options_path(e, id), *ns = run_path(e, id, "");
        VlJson *nets = vl_json_new_object(), *ports = vl_json_new_array();
        *ret_netns = NULL;
        if (!doc || !path || !ns || !nets || !ports || vl_json_object_set(doc, "networks", nets) < 0 ||
            vl_json_object_set(doc, "port_mappings", ports) < 0) {
                vl_json_unref(nets);
                vl_json_unref(ports);
                return oom(err);
        }
        int r = check_options(o, err);
        if (r < 0 || !mode_is_bridge(o))
                return r < 0 ? r : 0;
        r = add_networks(e, nets, o->network ?: "bridge", o, err);
        for (size_t i = 0; r >= 0 && i < o->n_publish; i++)
                r = net_parse_publish(o->publish[i], ports, err);
        if (r >= 0 && o->publish_all)
                r = add_exposed(ports, image_config, err);
        if (r < 0)
                return r;
        if (strv_array(doc, "dns", o->dns, o->n_dns) < 0 ||
            strv_array(doc, "add_hosts", o->add_hosts, o->n_add_hosts) < 0 ||
            vl_json_object_set_string(doc, "name", name) < 0)
                return oom(err);
        r = write_json(path, doc, err);
        const char *k;
        const VlJson *v;
        VL_JSON_FOREACH_MEMBER (k, v, nets)
                if (r >= 0)
                        r = db_run(e->db,
                                   "INSERT OR IGNORE INTO container_networks(container_id, network) "
                                   "VALUES (?1, ?2)",
                                   DB_PARAMS(id, k), err);
        if (r < 0) {
                net_container_forget(e, id);
                return r;
        }
        *ret_netns = TAKE_PTR(ns);
        return 0;
}

void net_container_forget(Engine *e, const char *id) {
        _cleanup_free_ char *p = options_path(e, id);
        (void)db_run(e->db, "DELETE FROM container_networks WHERE container_id = ?1", DB_PARAMS(id), NULL);
        net_ip_release(e, id, NULL);
        if (p)
                (void)unlink(p);
}

/* ---- published ports ---- */

static int sock_type(const char *proto) {
        return streq(proto, "udp") ? SOCK_DGRAM : streq(proto, "sctp") ? SOCK_SEQPACKET : SOCK_STREAM;
}

/* Bind host_ip:port (port 0: any) and return the port bound, or -errno. */
static int probe_port(const char *host_ip, const char *proto, unsigned port) {
        struct sockaddr_storage ss = {};
        socklen_t len;
        bool v6 = host_ip && strchr(host_ip, ':');
        int fd = socket(v6 ? AF_INET6 : AF_INET, sock_type(proto) | SOCK_CLOEXEC,
                        streq(proto, "sctp") ? IPPROTO_SCTP : 0);
        if (fd < 0)
                return -errno;
        if (v6) {
                struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
                s->sin6_family = AF_INET6;
                s->sin6_port = htons(port);
                inet_pton(AF_INET6, host_ip, &s->sin6_addr);
                len = sizeof *s;
        } else {
                struct sockaddr_in *s = (struct sockaddr_in *)&ss;
                s->sin_family = AF_INET;
                s->sin_port = htons(port);
                if (host_ip && *host_ip)
                        inet_pton(AF_INET, host_ip, &s->sin_addr);
                len = sizeof *s;
        }
        int r = bind(fd, (struct sockaddr *)&ss, len) < 0 ? -errno : 0;
        if (r >= 0 && getsockname(fd, (struct sockaddr *)&ss, &len) >= 0)
                r = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                             : ((struct sockaddr_in *)&ss)->sin_port);
        close(fd);
        return r;
}

static bool ips_overlap(const char *a, const char *b) {
        return !*a || !*b || streq(a, "0.0.0.0") || streq(b, "0.0.0.0") || streq(a, b);
}

/* Another running container of ours publishing the same host port (DNAT rules bind nothing). */
static bool port_claimed(Engine *e, const char *id, const char *ip, const char *proto, unsigned lo,
                         unsigned n) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/netns", e->runroot);
        DIR *d = opendir(dir);
        struct dirent *de;
        bool hit = false;
        while (d && !hit && (de = readdir(d))) {
                _cleanup_(vl_json_unrefp) VlJson *st = NULL;
                char p[4300];
                const VlJson *m;
                size_t len = strlen(de->d_name);
                if (len != 69 || !streq(de->d_name + 64, ".json") || strncmp(de->d_name, id, 64) == 0)
                        continue;
                snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
                if (read_json(p, &st) < 0)
                        continue;
                VL_JSON_FOREACH_ELEMENT (
                        m, vl_json_object_get(vl_json_object_get(st, "input"), "port_mappings")) {
                        int64_t hp = vl_json_get_int(vl_json_object_get(m, "host_port"));
                        int64_t hn = vl_json_get_int(vl_json_object_get(m, "range")) ?: 1;
                        if (streq(doc_str(m, "protocol"), proto) && ips_overlap(doc_str(m, "host_ip"), ip) &&
                            hp < (int64_t)(lo + n) && (int64_t)lo < hp + hn)
                                hit = true;
                }
        }
        if (d)
                closedir(d);
        return hit;
}

static int check_range(Engine *e, const char *id, const char *ip, const char *proto, unsigned lo,
                       unsigned n) {
        if (port_claimed(e, id, ip, proto, lo, n))
                return -EADDRINUSE;
        for (unsigned i = 0; i < n; i++) {
                int r = probe_port(ip, proto, lo + i);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Fixed host ports must be free; host port 0 gets a free one (a free run of ports for a range). */
static int resolve_ports(Engine *e, const char *id, VlJson *ports, CpodError *err) {
        VlJson *m;
        VL_JSON_FOREACH_ELEMENT (m, ports) {
                const char *ip = doc_str(m, "host_ip"), *proto = doc_str(m, "protocol");
                unsigned hp = vl_json_get_int(vl_json_object_get(m, "host_port"));
                unsigned n = vl_json_get_int(vl_json_object_get(m, "range")) ?: 1;
                int r = -EADDRINUSE;
                if (hp != 0 && (r = check_range(e, id, ip, proto, hp, n)) < 0)
                        return cpod_error_errno(err, -r, "cannot listen on the %s port %s:%u", proto,
                                                *ip ? ip : "0.0.0.0", hp);
                for (unsigned tries = 0; hp == 0 && tries < 200 && r < 0; tries++) {
                        uint16_t rnd = 0;
                        (void)getrandom(&rnd, sizeof rnd, 0);
                        int got = n == 1 ? probe_port(ip, proto, 0) : (int)(32768 + rnd % (28000 - n));
                        if (got > 0 && (r = check_range(e, id, ip, proto, got, n)) >= 0)
                                r = vl_json_object_set_int(m, "host_port", got);
                }
                if (hp == 0 && r < 0)
                        return cpod_error(err, EADDRINUSE, "could not find a free host port for %u/%s",
                                          (unsigned)vl_json_get_int(vl_json_object_get(m, "container_port")),
                                          proto);
        }
        return 0;
}

/* ---- /etc/hosts and /etc/resolv.conf ---- */

static int append_host_resolvers(VlBuf *b) {
        FILE *f = fopen("/etc/resolv.conf", "re");
        char line[1024];
        int r = 0;
        while (f && r >= 0 && fgets(line, sizeof line, f)) {
                char ns[256];
                if (sscanf(line, " nameserver %255s", ns) == 1 &&
                    (startswith(ns, "127.") || streq(ns, "::1")))
                        continue;
                r = vl_buf_append_str(b, line);
        }
        if (f)
                fclose(f);
        return r;
}

static int write_resolv(const char *userdata, const VlJson *opts, const VlJson *result, CpodError *err) {
        VlBuf b = VL_BUF_INIT;
        const VlJson *dns = vl_json_object_get(opts, "dns"), *v, *res;
        const char *k;
        bool aardvark = false;
        char line[300], path[4200];
        int r = 0;
        VL_JSON_FOREACH_MEMBER (k, res, result)
                VL_JSON_FOREACH_ELEMENT (v, vl_json_object_get(res, "dns_server_ips")) {
                        if (!aardvark)
                                r = r < 0 ? r : vl_buf_append_str(&b, "search dns.podman\n");
                        aardvark = true;
                        snprintf(line, sizeof line, "nameserver %s\n", vl_json_get_string(v) ?: "");
                        r = r < 0 ? r : vl_buf_append_str(&b, line);
                }
        VL_JSON_FOREACH_ELEMENT (v, dns) {
                snprintf(line, sizeof line, "nameserver %s\n", vl_json_get_string(v) ?: "");
                r = r < 0 ? r : vl_buf_append_str(&b, line);
        }
        if (r >= 0 && vl_json_array_length(dns) == 0)
                r = append_host_resolvers(&b);
        r = r < 0 ? r : vl_buf_append_char(&b, 0);
        snprintf(path, sizeof path, "%s/resolv.conf", userdata);
        r = r < 0 ? oom(err) : write_in_place(path, b.data, err);
        vl_buf_free(&b);
        return r;
}

/* localhost, the container's own addresses under its hostname and name, --add-host entries, and
 * host.containers.internal (the first gateway). */
static int write_hosts(const char *userdata, const char *hostname, const char *name, const VlJson *opts,
                       const VlJson *result, CpodError *err) {
        VlBuf b = VL_BUF_INIT;
        const VlJson *res, *ifc, *s, *v;
        const char *k, *k2, *gw = NULL;
        char line[600], path[4200];
        int r = vl_buf_append_str(&b, "127.0.0.1\tlocalhost localhost.localdomain\n"
                                      "::1\tlocalhost localhost.localdomain\n");
        VL_JSON_FOREACH_MEMBER (k, res, result)
                VL_JSON_FOREACH_MEMBER (k2, ifc, vl_json_object_get(res, "interfaces"))
                        VL_JSON_FOREACH_ELEMENT (s, vl_json_object_get(ifc, "subnets")) {
                                char ip[64];
                                snprintf(ip, sizeof ip, "%s", doc_str(s, "ipnet"));
                                if (strchr(ip, '/'))
                                        *strchr(ip, '/') = 0;
                                snprintf(line, sizeof line, "%s\t%s %s\n", ip, hostname, name);
                                r = r < 0 ? r : vl_buf_append_str(&b, line);
                                if (!gw && *doc_str(s, "gateway"))
                                        gw = doc_str(s, "gateway");
                        }
        VL_JSON_FOREACH_ELEMENT (v, vl_json_object_get(opts, "add_hosts")) {
                const char *h = vl_json_get_string(v) ?: "", *c = strchr(h, ':');
                snprintf(line, sizeof line, "%s\t%.*s\n", c ? c + 1 : "", (int)(c ? c - h : 0), h);
                r = r < 0 ? r : vl_buf_append_str(&b, line);
        }
        if (gw) {
                snprintf(line, sizeof line, "%s\thost.containers.internal\n", gw);
                r = r < 0 ? r : vl_buf_append_str(&b, line);
        }
        r = r < 0 ? r : vl_buf_append_char(&b, 0);
        snprintf(path, sizeof path, "%s/hosts", userdata);
        r = r < 0 ? oom(err) : write_in_place(path, b.data, err);
        vl_buf_free(&b);
        return r;
}

/* ---- setup and teardown ---- */

/* netavark's input for the networks in opts (only the one named only, when set), with addresses
 * allocated now. */
static int build_input(Engine *e, const char *id, const VlJson *opts, const char *only, VlJson **ret,
                       CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *in = vl_json_new_object();
        VlJson *nets = vl_json_new_object(), *info = vl_json_new_object();
        const VlJson *pn;
        const char *name;
        int r = in && nets && info ? 0 : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_string(in, "container_id", id);
        r = r < 0 ? r : vl_json_object_set_string(in, "container_name", doc_str(opts, "name"));
        r = r < 0 ? r
                  : vl_json_object_set(in, "port_mappings",
                                       only ? vl_json_new_array()
                                            : vl_json_copy(vl_json_object_get(opts, "port_mappings")));
        r = r < 0 ? r : vl_json_object_set(in, "networks", nets);
        r = r < 0 ? r : vl_json_object_set(in, "network_info", info);
        if (r < 0)
                return oom(err);
        VL_JSON_FOREACH_MEMBER (name, pn, vl_json_object_get(opts, "networks")) {
                _cleanup_(vl_json_unrefp) VlJson *doc = NULL, *ips = NULL;
                if (only && !streq(name, only))
                        continue;
                VlJson *per = vl_json_copy(pn);
                const char *want =
                        vl_json_get_string(vl_json_array_get(vl_json_object_get(pn, "static_ips"), 0));
                r = per ? net_get(e, name, &doc, err) : oom(err);
                r = r < 0 ? r : net_ip_allocate(e, doc, id, want, &ips, err);
                if (r >= 0 && vl_json_get_bool(vl_json_object_get(doc, "dns_enabled"))) {
                        char shortid[13];
                        snprintf(shortid, sizeof shortid, "%.12s", id);
                        r = vl_json_array_append(vl_json_object_get(per, "aliases"),
                                                 vl_json_new_string(shortid));
                }
                r = r < 0 ? r : vl_json_object_set(per, "static_ips", TAKE_PTR(ips));
                r = r < 0 ? r : vl_json_object_set(nets, name, per);
                r = r < 0 ? r : vl_json_object_set(info, name, TAKE_PTR(doc));
                if (r < 0)
                        return r == -ENOMEM ? oom(err) : r;
        }
        *ret = TAKE_PTR(in);
        return 0;
}

static int save_status(Engine *e, const char *id, const VlJson *input, const VlJson *result,
                       CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *st = vl_json_new_object();
        _cleanup_free_ char *p = run_path(e, id, ".json");
        if (!st || !p || vl_json_object_set(st, "input", vl_json_copy(input)) < 0 ||
            vl_json_object_set(st, "result", result ? vl_json_copy(result) : vl_json_null()) < 0)
                return oom(err);
        return write_json(p, st, err);
}

/* A netavark setup or teardown under way, with what its end needs. Holds the netavark lock. */
struct NetPending {
        NvCall call;
        int lock;
        char *id, *ns;
        VlJson *input, *opts;
        char *hostname;
};

static NetPending *pending_new(Engine *e, const char *id, int lock) {
        NetPending *p = calloc(1, sizeof *p);
        if (!p)
                return NULL;
        p->call = (NvCall)NV_CALL_INIT;
        p->lock = lock;
        p->id = strdup(id);
        p->ns = run_path(e, id, "");
        if (!p->id || !p->ns) {
                free(p->id);
                free(p->ns);
                free(p);
                return NULL;
        }
        return p;
}

static void pending_free(NetPending *p) {
        if (p->call.pid > 0) /* never leave netavark running behind the lock */
                (void)nv_wait(&p->call, NULL, NULL);
        safe_close(p->lock);
        free(p->id);
        free(p->ns);
        free(p->hostname);
        vl_json_unref(p->input);
        vl_json_unref(p->opts);
        free(p);
}

static int teardown_locked(Engine *e, const char *id, CpodError *err) {
        _cleanup_free_ char *ns = run_path(e, id, ""), *st = run_path(e, id, ".json");
        _cleanup_(vl_json_unrefp) VlJson *status = NULL;
        int r = 0;
        if (!ns || !st)
                return oom(err);
        if (read_json(st, &status) >= 0)
                r = netavark(e, "teardown", ns, vl_json_object_get(status, "input"), NULL, err);
        netns_remove(ns);
        (void)unlink(st);
        net_ip_release(e, id, NULL);
        return r;
}

/* Undo a setup that failed after the namespace and the addresses (and maybe netavark's work). */
static void setup_undo(Engine *e, NetPending *p, bool netavark_done) {
        _cleanup_free_ char *st = run_path(e, p->id, ".json");
        if (netavark_done)
                (void)netavark(e, "teardown", p->ns, p->input, NULL, NULL);
        if (st)
                (void)unlink(st);
        netns_remove(p->ns);
        net_ip_release(e, p->id, NULL);
}

static char *stored_hostname(Engine *e, const char *id) {
        _cleanup_free_ char *hp = container_path(e, id, "userdata/hostname");
        char hn[256] = "";
        FILE *f = hp ? fopen(hp, "re") : NULL;
        if (f && fgets(hn, sizeof hn, f))
                hn[strcspn(hn, "\n")] = 0;
        if (f)
                fclose(f);
        return strdup(*hn ? hn : id);
}

int net_container_setup_begin(Engine *e, const char *id, const char *name, const char *hostname,
                              NetPending **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *opts = NULL;
        _cleanup_free_ char *st = run_path(e, id, ".json");
        *ret = NULL;
        int r = load_options(e, id, &opts);
        if (r == -ENOENT)
                return 0;
        if (r < 0 || !st)
                return cpod_error_errno(err, r < 0 ? -r : ENOMEM, "read the network options of %s", id);
        if (name && vl_json_object_set_string(opts, "name", name) < 0) /* renamed since create */
                return oom(err);
        int lock = netavark_lock(e, err);
        if (lock < 0)
                return lock;
        NetPending *p = pending_new(e, id, lock);
        if (!p) {
                close(lock);
                return oom(err);
        }
        if (access(st, F_OK) == 0) /* left by a crash */
                (void)teardown_locked(e, id, NULL);
        p->opts = TAKE_PTR(opts);
        p->hostname = hostname ? strdup(hostname) : stored_hostname(e, id);
        r = p->hostname ? build_input(e, id, p->opts, NULL, &p->input, err) : oom(err);
        r = r < 0 ? r : resolve_ports(e, id, vl_json_object_get(p->input, "port_mappings"), err);
        r = r < 0 ? r : netns_create(e, p->ns, err);
        /* the input first: a cpod killed while netavark runs leaves what a later teardown needs */
        r = r < 0 ? r : save_status(e, id, p->input, NULL, err);
        if (r < 0) {
                setup_undo(e, p, false);
                pending_free(p);
                return r;
        }
        nv_start(e, "setup", p->ns, p->input, &p->call);
        *ret = p;
        return 0;
}

int net_container_setup_finish(Engine *e, NetPending *p, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *result = NULL;
        if (!p)
                return 0;
        _cleanup_free_ char *userdata = container_path(e, p->id, "userdata");
        int r = nv_wait(&p->call, &result, err);
        bool done = r >= 0;
        r = r < 0 ? r : userdata ? save_status(e, p->id, p->input, result, err) : oom(err);
        r = r < 0 ? r : write_hosts(userdata, p->hostname, doc_str(p->opts, "name"), p->opts, result, err);
        r = r < 0 ? r : write_resolv(userdata, p->opts, result, err);
        if (r < 0)
                setup_undo(e, p, done);
        pending_free(p);
        return r;
}

int net_container_setup(Engine *e, const char *id, const char *name, const char *hostname, CpodError *err) {
        NetPending *p = NULL;
        int r = net_container_setup_begin(e, id, name, hostname, &p, err);
        return r < 0 ? r : net_container_setup_finish(e, p, err);
}

int net_container_teardown_begin(Engine *e, const char *id, NetPending **ret, CpodError *err) {
        _cleanup_free_ char *ns = run_path(e, id, ""), *st = run_path(e, id, ".json");
        _cleanup_(vl_json_unrefp) VlJson *status = NULL;
        *ret = NULL;
        if (!ns || !st)
                return oom(err);
        if (access(st, F_OK) < 0 && access(ns, F_OK) < 0)
                return 0; /* nothing set up: no lock, no database write */
        int lock = netavark_lock(e, err);
        if (lock < 0)
                return lock;
        NetPending *p = pending_new(e, id, lock);
        if (!p) {
                close(lock);
                return oom(err);
        }
        if (read_json(st, &status) >= 0) {
                p->input = vl_json_copy(vl_json_object_get(status, "input"));
                nv_start(e, "teardown", p->ns, p->input, &p->call);
        }
        *ret = p;
        return 0;
}

int net_container_teardown_finish(Engine *e, NetPending *p, CpodError *err) {
        if (!p)
                return 0;
        _cleanup_free_ char *st = run_path(e, p->id, ".json");
        int r = p->input ? nv_wait(&p->call, NULL, err) : 0;
        netns_remove(p->ns);
        if (st)
                (void)unlink(st);
        net_ip_release(e, p->id, NULL);
        pending_free(p);
        return r;
}

int net_container_teardown(Engine *e, const char *id, CpodError *err) {
        NetPending *p = NULL;
        int r = net_container_teardown_begin(e, id, &p, err);
        return r < 0 ? r : net_container_teardown_finish(e, p, err);
}

/* ---- ports, inspect ---- */

static int load_status(Engine *e, const char *id, VlJson **ret) {
        _cleanup_free_ char *st = run_path(e, id, ".json");
        return st ? read_json(st, ret) : -ENOMEM;
}

int net_container_ports(Engine *e, const char *id, bool ps_form, char ***ret, size_t *ret_n,
                        CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *doc = NULL;
        const VlJson *ports, *m;
        char **v = NULL;
        size_t n = 0;
        int r = 0;
        if (load_status(e, id, &doc) >= 0)
                ports = vl_json_object_get(vl_json_object_get(doc, "input"), "port_mappings");
        else if (load_options(e, id, &doc) >= 0)
                ports = vl_json_object_get(doc, "port_mappings");
        else
                ports = NULL;
        VL_JSON_FOREACH_ELEMENT (m, ports) {
                const char *ip = doc_str(m, "host_ip"), *proto = doc_str(m, "protocol");
                int64_t hp = vl_json_get_int(vl_json_object_get(m, "host_port"));
                int64_t cp = vl_json_get_int(vl_json_object_get(m, "container_port"));
                int64_t rn = vl_json_get_int(vl_json_object_get(m, "range")) ?: 1;
                for (int64_t i = 0; r >= 0 && i < rn; i++) {
                        char line[200];
                        if (ps_form)
                                snprintf(line, sizeof line, "%s:%lld->%lld/%s", *ip ? ip : "0.0.0.0",
                                         (long long)(hp ? hp + i : 0), (long long)(cp + i), proto);
                        else
                                snprintf(line, sizeof line, "%lld/%s -> %s:%lld", (long long)(cp + i), proto,
                                         *ip ? ip : "0.0.0.0", (long long)(hp ? hp + i : 0));
                        r = ctr_strv_push(&v, &n, line);
                }
        }
        if (r < 0) {
                ctr_strv_free(v);
                return oom(err);
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* One Networks member of inspect's NetworkSettings from netavark's answer for a network. */
static VlJson *settings_network(const char *id, const VlJson *res, const VlJson *per) {
        VlJson *o = vl_json_new_object();
        const VlJson *ifc =
                vl_json_object_get(vl_json_object_get(res, "interfaces"), doc_str(per, "interface_name"));
        const VlJson *s = vl_json_array_get(vl_json_object_get(ifc, "subnets"), 0);
        char ip[64];
        snprintf(ip, sizeof ip, "%s", doc_str(s, "ipnet"));
        char *slash = strchr(ip, '/');
        if (slash)
                *slash++ = 0;
        int r = o ? 0 : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_string(o, "EndpointID", "");
        r = r < 0 ? r : vl_json_object_set_string(o, "Gateway", doc_str(s, "gateway"));
        r = r < 0 ? r : vl_json_object_set_string(o, "IPAddress", ip);
        r = r < 0 ? r : vl_json_object_set_int(o, "IPPrefixLen", slash ? atoi(slash) : 0);
        r = r < 0 ? r : vl_json_object_set_string(o, "MacAddress", doc_str(ifc, "mac_address"));
        r = r < 0 ? r : vl_json_object_set_string(o, "NetworkID", id);
        r = r < 0 ? r : vl_json_object_set(o, "Aliases", vl_json_copy(vl_json_object_get(per, "aliases")));
        if (r < 0)
                return vl_json_unref(o);
        return o;
}

int net_container_settings(Engine *e, const char *id, VlJson *o) {
        _cleanup_(vl_json_unrefp) VlJson *st = NULL;
        VlJson *nets = vl_json_new_object(), *ports = vl_json_new_object();
        char **pv = NULL, key[64];
        size_t pn = 0;
        int r = o && nets && ports ? 0 : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set(o, "Networks", nets);
        r = r < 0 ? r : vl_json_object_set(o, "Ports", ports);
        if (r < 0 || net_container_ports(e, id, false, &pv, &pn, NULL) < 0)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < pn; i++) { /* "8080/tcp -> 127.0.0.1:41235" */
                char hip[64] = "", hport[16] = "";
                VlJson *arr, *b = vl_json_new_object();
                if (sscanf(pv[i], "%63s -> %63s", key, hip) != 2 || !b) {
                        vl_json_unref(b);
                        continue;
                }
                char *c = strrchr(hip, ':');
                snprintf(hport, sizeof hport, "%s", c ? c + 1 : "");
                if (c)
                        *c = 0;
                if (!(arr = vl_json_object_get(ports, key)) &&
                    vl_json_object_set(ports, key, (arr = vl_json_new_array())) < 0)
                        r = -ENOMEM;
                r = r < 0 ? r : vl_json_object_set_string(b, "HostIp", hip);
                r = r < 0 ? r : vl_json_object_set_string(b, "HostPort", hport);
                r = r < 0 ? r : vl_json_array_append(arr, b);
        }
        ctr_strv_free(pv);
        const char *name;
        const VlJson *per;
        if (r >= 0 && load_status(e, id, &st) >= 0) {
                const VlJson *in = vl_json_object_get(st, "input");
                VL_JSON_FOREACH_MEMBER (name, per, vl_json_object_get(in, "networks")) {
                        const VlJson *info =
                                vl_json_object_get(vl_json_object_get(in, "network_info"), name);
                        VlJson *n = settings_network(
                                doc_str(info, "id"),
                                vl_json_object_get(vl_json_object_get(st, "result"), name), per);
                        if (!n || vl_json_object_set(nets, name, n) < 0)
                                r = -ENOMEM;
                }
        }
        /* the first network's address at the top, as podman shows it */
        const VlJson *first = vl_json_object_value(nets, 0);
        static const char *const keys[] = {"IPAddress", "Gateway", "MacAddress", "IPPrefixLen"};
        for (size_t i = 0; r >= 0 && first && i < ELEMENTSOF(keys); i++)
                r = vl_json_object_set(o, keys[i], vl_json_copy(vl_json_object_get(first, keys[i])));
        return r;
}

/* ---- connect, disconnect ---- */

typedef struct Locked {
        Container c;
        int lock;
        VlJson *opts;
} Locked;

static void locked_done(Locked *l) {
        if (l->lock >= 0)
                container_unlock(l->lock);
        container_done(&l->c);
        vl_json_unref(l->opts);
}

static int lock_container(Engine *e, const char *ref, Locked *l, CpodError *err) {
        char id[65];
        l->lock = -1;
        int r = container_resolve(e, ref, id, err);
        r = r < 0 ? r : container_lock(e, id, &l->lock, err);
        r = r < 0 ? r : container_load_row(e, id, &l->c, err);
        r = r < 0 ? r : container_sync(e, &l->c, err);
        if (r < 0)
                return r;
        if (load_options(e, id, &l->opts) < 0)
                return cpod_error(err, EINVAL,
                                  "container %s is not on a bridge network: its network mode "
                                  "cannot be changed",
                                  ref);
        return 0;
}

static bool locked_running(const Locked *l) {
        return l->c.state == CONTAINER_RUNNING || l->c.state == CONTAINER_PAUSED;
}

static int save_options(Engine *e, const char *id, const VlJson *opts, CpodError *err) {
        _cleanup_free_ char *p = options_path(e, id);
        return p ? write_json(p, opts, err) : oom(err);
}

/* Set up the one network name of a running container and add it to the stored status. */
static int connect_running(Engine *e, const char *id, const VlJson *opts, const char *name, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *input = NULL, *result = NULL, *st = NULL;
        _cleanup_free_ char *ns = run_path(e, id, ""), *stp = run_path(e, id, ".json");
        if (!ns || !stp)
                return oom(err);
        int lock = netavark_lock(e, err);
        if (lock < 0)
                return lock;
        int r = load_status(e, id, &st) < 0
                        ? cpod_error(err, EINVAL, "container %s has no network set up", id)
                        : 0;
        r = r < 0 ? r : build_input(e, id, opts, name, &input, err);
        r = r < 0 ? r : netavark(e, "setup", ns, input, &result, err);
        if (r >= 0) {
                VlJson *in = vl_json_object_get(st, "input");
                const VlJson *n = vl_json_object_get(input, "networks"),
                             *i = vl_json_object_get(input, "network_info");
                if (vl_json_object_set(vl_json_object_get(in, "networks"), name,
                                       vl_json_copy(vl_json_object_get(n, name))) < 0 ||
                    vl_json_object_set(vl_json_object_get(in, "network_info"), name,
                                       vl_json_copy(vl_json_object_get(i, name))) < 0 ||
                    vl_json_object_set(vl_json_object_get(st, "result"), name,
                                       vl_json_copy(vl_json_object_get(result, name))) < 0)
                        r = oom(err);
        }
        r = r < 0 ? r : write_json(stp, st, err);
        if (r < 0 && !result)
                net_ip_release(e, id, name);
        close(lock);
        return r;
}

int net_connect(Engine *e, const char *ref, const char *network, char **aliases, size_t n_aliases,
                const char *ip, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *doc = NULL;
        Locked l = {.lock = -1};
        int r = lock_container(e, ref, &l, err);
        r = r < 0 ? r : net_get(e, network, &doc, err);
        VlJson *nets = vl_json_object_get(l.opts, "networks");
        const char *name = doc_str(doc, "name");
        if (r >= 0 && vl_json_object_get(nets, name))
                r = cpod_error(err, EEXIST, "container %s is already connected to network %s", l.c.name,
                               name);
        if (r >= 0) {
                VlJson *pn = vl_json_new_object(), *al = vl_json_new_array(), *ips = vl_json_new_array();
                char iface[16];
                snprintf(iface, sizeof iface, "eth%zu", vl_json_object_length(nets));
                r = pn && al && ips ? 0 : -ENOMEM;
                for (size_t i = 0; r >= 0 && i < n_aliases; i++)
                        r = vl_json_array_append(al, vl_json_new_string(aliases[i]));
                r = r < 0 || !ip ? r : vl_json_array_append(ips, vl_json_new_string(ip));
                r = r < 0 ? r : vl_json_object_set_string(pn, "interface_name", iface);
                r = r < 0 ? r : vl_json_object_set(pn, "aliases", al);
                r = r < 0 ? r : vl_json_object_set(pn, "static_ips", ips);
                r = r < 0 ? r : vl_json_object_set(nets, name, pn);
                r = r < 0 ? oom(err) : 0;
        }
        if (r >= 0 && locked_running(&l))
                r = connect_running(e, l.c.id, l.opts, name, err);
        r = r < 0 ? r : save_options(e, l.c.id, l.opts, err);
        r = r < 0 ? r
                  : db_run(e->db,
                           "INSERT OR IGNORE INTO container_networks(container_id, network) "
                           "VALUES (?1, ?2)",
                           DB_PARAMS(l.c.id, name), err);
        locked_done(&l);
        return r < 0 ? r : 0;
}

static int disconnect_running(Engine *e, const char *id, const char *name, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *st = NULL, *input = NULL;
        _cleanup_free_ char *ns = run_path(e, id, ""), *stp = run_path(e, id, ".json");
        int lock = netavark_lock(e, err);
        if (lock < 0)
                return lock;
        int r = load_status(e, id, &st) < 0 ? 0 : 1;
        VlJson *in = vl_json_object_get(st, "input");
        if (r > 0) {
                input = vl_json_new_object();
                VlJson *n = vl_json_new_object(), *i = vl_json_new_object();
                r = input && n && i ? 0 : -ENOMEM;
                r = r < 0 ? r : vl_json_object_set_string(input, "container_id", id);
                r = r < 0 ? r
                          : vl_json_object_set_string(input, "container_name",
                                                      doc_str(in, "container_name"));
                r = r < 0 ? r : vl_json_object_set(input, "port_mappings", vl_json_new_array());
                r = r < 0 ? r : vl_json_object_set(input, "networks", n);
                r = r < 0 ? r : vl_json_object_set(input, "network_info", i);
                r = r < 0 ? r
                          : vl_json_object_set(n, name,
                                               vl_json_copy(vl_json_object_get(
                                                       vl_json_object_get(in, "networks"), name)));
                r = r < 0 ? r
                          : vl_json_object_set(i, name,
                                               vl_json_copy(vl_json_object_get(
                                                       vl_json_object_get(in, "network_info"), name)));
                r = r < 0 ? oom(err) : netavark(e, "teardown", ns, input, NULL, err);
        }
        if (r >= 0 && in) {
                (void)vl_json_object_remove(vl_json_object_get(in, "networks"), name);
                (void)vl_json_object_remove(vl_json_object_get(in, "network_info"), name);
                (void)vl_json_object_remove(vl_json_object_get(st, "result"), name);
                r = stp ? write_json(stp, st, err) : oom(err);
        }
        close(lock);
        return r;
}

int net_disconnect(Engine *e, const char *ref, const char *network, bool force, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *doc = NULL;
        Locked l = {.lock = -1};
        (void)force;
        int r = lock_container(e, ref, &l, err);
        r = r < 0 ? r : net_get(e, network, &doc, err);
        VlJson *nets = vl_json_object_get(l.opts, "networks");
        const char *name = doc_str(doc, "name");
        if (r >= 0 && !vl_json_object_get(nets, name))
                r = cpod_error(err, ENOENT, "container %s is not connected to network %s", l.c.name, name);
        if (r >= 0 && locked_running(&l))
                r = disconnect_running(e, l.c.id, name, err);
        if (r >= 0) {
                (void)vl_json_object_remove(nets, name);
                r = save_options(e, l.c.id, l.opts, err);
                net_ip_release(e, l.c.id, name);
                (void)db_run(e->db,
                             "DELETE FROM container_networks WHERE container_id = ?1 AND network = ?2",
                             DB_PARAMS(l.c.id, name), NULL);
        }
        locked_done(&l);
        return r < 0 ? r : 0;
}
