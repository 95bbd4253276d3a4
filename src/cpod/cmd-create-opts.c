/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The flags of cpod create and cpod run, parsed into ContainerCreateOptions the way podman reads them. */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd-container.h"

int strv_push(char ***v, size_t *n, const char *s) {
        char **nv;
        char *copy = strdup(s);

        if (!copy)
                return -ENOMEM;
        nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv) {
                free(copy);
                return -ENOMEM;
        }
        nv[(*n)++] = copy;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

void strv_free_n(char **v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

static void mount_done(ContainerMount *m) {
        free(m->type);
        free(m->source);
        free(m->destination);
        strv_free_n(m->options, m->n_options);
}

void create_args_done(CreateArgs *a) {
        ContainerCreateOptions *o = &a->o;

        strv_free_n(o->command, o->n_command);
        strv_free_n(o->entrypoint, o->n_entrypoint);
        strv_free_n(o->env, o->n_env);
        strv_free_n(o->labels, o->n_labels);
        strv_free_n(o->cap_add, o->n_cap_add);
        strv_free_n(o->cap_drop, o->n_cap_drop);
        strv_free_n(o->security_opt, o->n_security_opt);
        strv_free_n(o->ulimits, o->n_ulimits);
        strv_free_n(o->publish, o->n_publish);
        strv_free_n(o->dns, o->n_dns);
        strv_free_n(o->add_hosts, o->n_add_hosts);
        strv_free_n(o->network_aliases, o->n_network_aliases);
        for (size_t i = 0; i < o->n_mounts; i++)
                mount_done(&o->mounts[i]);
        free(o->mounts);
        free(a->owned_image);
        *a = (CreateArgs){};
}

/* go-units' RAMInBytes: a number, an optional unit (b, k, m, g, t, p; 1024-based) with optional "b"/"ib". */
int parse_ram_bytes(const char *s, int64_t *ret) {
        static const char units[] = "bkmgtp";
        char *end;
        double v;
        int shift = 0;
        const char *u;

        if (!s || !isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s)
                return -EINVAL;
        if (*end == ' ')
                end++;
        if (*end) {
                u = strchr(units, tolower((unsigned char)*end));
                if (!u)
                        return -EINVAL;
                shift = (int)(u - units) * 10;
                end++;
                if (shift > 0 && tolower((unsigned char)*end) == 'i')
                        end++;
                if (shift > 0 && tolower((unsigned char)*end) == 'b')
                        end++;
                if (*end)
                        return -EINVAL;
        }
        v = ldexp(v, shift);
        if (v >= 9.2e18)
                return -ERANGE;
        *ret = (int64_t)v;
        return 0;
}

/* "K=V" as is; "K" takes the value from cpod's environment (skipped when unset); "K*" every match. */
static int add_env(CreateArgs *a, const char *s) {
        ContainerCreateOptions *o = &a->o;
        extern char **environ;
        size_t klen;

        if (strchr(s, '='))
                return strv_push(&o->env, &o->n_env, s);
        klen = strlen(s);
        if (klen > 0 && s[klen - 1] == '*') {
                for (char **e = environ; *e; e++)
                        if (strncmp(*e, s, klen - 1) == 0 && strv_push(&o->env, &o->n_env, *e) < 0)
                                return -ENOMEM;
                return 0;
        }
        for (char **e = environ; *e; e++)
                if (strncmp(*e, s, klen) == 0 && (*e)[klen] == '=')
                        return strv_push(&o->env, &o->n_env, *e);
        return 0;
}

static int add_env_file(CreateArgs *a, const char *path) {
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        FILE *f = fopen(path, "re");
        int r = 0;

        if (!f)
                return cli_error(-errno, "open %s: %s", path, strerror(errno));
        while ((len = getline(&line, &cap, f)) >= 0 && r >= 0) {
                char *p = line;
                while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                        line[--len] = 0;
                while (isspace((unsigned char)*p))
                        p++;
                if (*p == 0 || *p == '#')
                        continue;
                r = add_env(a, p);
        }
        fclose(f);
        return r < 0 ? cli_error(r, "out of memory") : 0;
}

/* --entrypoint: a JSON array of strings, or one string (the empty string clears the entrypoint). */
static int set_entrypoint(CreateArgs *a, const char *s) {
        ContainerCreateOptions *o = &a->o;
        _cleanup_(vl_json_unrefp) VlJson *arr = NULL;
        const VlJson *item;

        strv_free_n(o->entrypoint, o->n_entrypoint);
        o->entrypoint = NULL;
        o->n_entrypoint = 0;
        o->entrypoint_set = true;
        if (*s == 0)
                return 0;
        if (*s == '[' && vl_json_parse(s, strlen(s), NULL, &arr, NULL) >= 0 &&
            vl_json_type(arr) == VL_JSON_ARRAY) {
                VL_JSON_FOREACH_ELEMENT (item, arr)
                        if (!vl_json_get_string(item) ||
                            strv_push(&o->entrypoint, &o->n_entrypoint, vl_json_get_string(item)) < 0)
                                return cli_error(-EINVAL, "invalid entrypoint %s", s);
                return 0;
        }
        return strv_push(&o->entrypoint, &o->n_entrypoint, s);
}

static ContainerMount *new_mount(CreateArgs *a, const char *type) {
        ContainerCreateOptions *o = &a->o;
        ContainerMount *m = realloc(o->mounts, (o->n_mounts + 1) * sizeof(*m));

        if (!m)
                return NULL;
        o->mounts = m;
        m = &o->mounts[o->n_mounts];
        *m = (ContainerMount){.type = strdup(type)};
        if (!m->type)
                return NULL;
        o->n_mounts++;
        return m;
}

static int mount_option(ContainerMount *m, const char *opt, size_t n) {
        _cleanup_free_ char *s = strndup(opt, n);

        if (!s)
                return -ENOMEM;
        return strv_push(&m->options, &m->n_options, s);
}

/* A bind source: absolute, and existing (podman's "statfs" message). */
static int bind_source(const char *src, char **ret) {
        char buf[PATH_MAX];
        struct stat st;

        if (stat(src, &st) < 0)
                return cli_error(-ENOENT, "statfs %s: %s", src,
                                 errno == ENOENT ? "no such file or directory" : strerror(errno));
        if (!realpath(src, buf))
                return cli_error(-errno, "resolve %s: %s", src, strerror(errno));
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

static bool is_path(const char *s) {
        return s[0] == '/' || s[0] == '.';
}

/* -v SRC:DST[:OPTS], -v NAME:DST[:OPTS], -v DST (an anonymous volume). */
static int add_volume(CreateArgs *a, const char *spec) {
        _cleanup_free_ char *copy = strdup(spec);
        char *parts[3] = {}, *save = NULL, *p;
        size_t n = 0;
        ContainerMount *m;

        if (!copy)
                return -ENOMEM;
        for (p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
                if (n == 3)
                        return cli_error(-EINVAL, "invalid volume specification: \"%s\"", spec);
                parts[n++] = p;
        }
        if (n == 0)
                return cli_error(-EINVAL, "invalid volume specification: \"%s\"", spec);
        if (n == 2 && parts[1][0] != '/' && parts[0][0] == '/') { /* "/dst:ro" */
                parts[2] = parts[1];
                parts[1] = parts[0];
                parts[0] = NULL;
        } else if (n == 1) {
                parts[1] = parts[0];
                parts[0] = NULL;
        }
        if (parts[1][0] != '/')
                return cli_error(-EINVAL, "invalid container path \"%s\", must be an absolute path",
                                 parts[1]);
        m = new_mount(a, parts[0] && is_path(parts[0]) ? "bind" : "volume");
        if (!m || !(m->destination = strdup(parts[1])))
                return -ENOMEM;
        if (parts[0] && is_path(parts[0])) {
                if (bind_source(parts[0], &m->source) < 0)
                        return -EINVAL;
        } else if (parts[0] && !(m->source = strdup(parts[0])))
                return -ENOMEM;
        for (char *o = parts[2]; o && *o;) {
                size_t l = strcspn(o, ",");
                if (l > 0 && mount_option(m, o, l) < 0)
                        return -ENOMEM;
                o += l + (o[l] == ',');
        }
        return 0;
}

/* --tmpfs DST[:OPTS] */
static int add_tmpfs(CreateArgs *a, const char *spec) {
        const char *colon = strchr(spec, ':');
        ContainerMount *m = new_mount(a, "tmpfs");

        if (!m)
                return -ENOMEM;
        m->destination = colon ? strndup(spec, colon - spec) : strdup(spec);
        if (!m->destination)
                return -ENOMEM;
        if (m->destination[0] != '/')
                return cli_error(-EINVAL, "invalid tmpfs destination \"%s\", must be an absolute path",
                                 m->destination);
        for (const char *o = colon ? colon + 1 : ""; *o;) {
                size_t l = strcspn(o, ",");
                if (l > 0 && mount_option(m, o, l) < 0)
                        return -ENOMEM;
                o += l + (o[l] == ',');
        }
        return 0;
}

static int mount_field(ContainerMount *m, const char *f, size_t n, char **type) {
        const char *eq = memchr(f, '=', n);
        size_t kl = eq ? (size_t)(eq - f) : n;
        _cleanup_free_ char *val = eq ? strndup(eq + 1, n - kl - 1) : NULL;
        char **slot = NULL;

#define KEY(s) (kl == strlen(s) && strncmp(f, s, kl) == 0)
        if (eq && !val)
                return -ENOMEM;
        if (KEY("type"))
                slot = type;
        else if (KEY("src") || KEY("source"))
                slot = &m->source;
        else if (KEY("dst") || KEY("destination") || KEY("target"))
                slot = &m->destination;
        else if ((KEY("ro") || KEY("readonly")) && (!val || streq(val, "true") || streq(val, "1")))
                return mount_option(m, "ro", 2);
        else if ((KEY("ro") || KEY("readonly")) && val)
                return mount_option(m, "rw", 2);
        else if (KEY("tmpfs-size") && val) {
                char opt[64];
                snprintf(opt, sizeof(opt), "size=%s", val);
                return mount_option(m, opt, strlen(opt));
        } else if (KEY("tmpfs-mode") && val) {
                char opt[64];
                snprintf(opt, sizeof(opt), "mode=%s", val);
                return mount_option(m, opt, strlen(opt));
        } else if (KEY("bind-propagation") && val)
                return mount_option(m, val, strlen(val));
        else
                return mount_option(m, f, n);
#undef KEY
        if (!val)
                return -EINVAL;
        free(*slot);
        *slot = TAKE_PTR(val);
        return 0;
}

/* --mount type=bind|tmpfs|volume,src=…,dst=…,ro */
static int add_mount(CreateArgs *a, const char *spec) {
        _cleanup_free_ char *type = NULL, *src = NULL;
        ContainerMount *m = new_mount(a, "bind");

        if (!m)
                return -ENOMEM;
        for (const char *f = spec; *f;) {
                size_t l = strcspn(f, ",");
                if (l > 0 && mount_field(m, f, l, &type) < 0)
                        return cli_error(-EINVAL, "invalid mount option in \"%s\"", spec);
                f += l + (f[l] == ',');
        }
        if (!type)
                return cli_error(-EINVAL, "type must be specified in \"%s\"", spec);
        if (!streq(type, "bind") && !streq(type, "tmpfs") && !streq(type, "volume"))
                return cli_error(-EINVAL, "invalid filesystem type \"%s\"", type);
        free(m->type);
        m->type = TAKE_PTR(type);
        if (!m->destination || m->destination[0] != '/')
                return cli_error(-EINVAL, "must set an absolute target path in \"%s\"", spec);
        if (streq(m->type, "bind")) {
                if (!m->source)
                        return cli_error(-EINVAL, "must set a source for a bind mount in \"%s\"", spec);
                src = TAKE_PTR(m->source);
                if (bind_source(src, &m->source) < 0)
                        return -EINVAL;
        }
        return 0;
}

static int check_restart(const char *s) {
        const char *n;
        char *end;

        if (streq(s, "no") || streq(s, "always") || streq(s, "unless-stopped") || streq(s, "on-failure"))
                return 0;
        if ((n = startswith(s, "on-failure:"))) {
                errno = 0;
                long v = strtol(n, &end, 10);
                if (errno == 0 && end != n && !*end && v >= 0)
                        return 0;
                return cli_error(-EINVAL, "restart count \"%s\" must be a non-negative integer", n);
        }
        return cli_error(-EINVAL, "invalid restart policy \"%s\"", s);
}

/* Network names are checked by the engine (they must exist). */
static int check_network(const char *s) {
        if (!*s || streq(s, "slirp4netns") || streq(s, "pasta") || startswith(s, "slirp4netns:"))
                return cli_error(-ENOTSUP, "network mode \"%s\" is not supported", s);
        return 0;
}

/* Flags of bridge networks (network.h), numbered apart from cmd-container.h's. */
enum {
        OPT_PUBLISH_ALL = 0x1000,
        OPT_DNS,
        OPT_ADD_HOST,
        OPT_IP,
        OPT_MAC_ADDRESS,
        OPT_NETWORK_ALIAS,
};

static int network_flag(CreateArgs *a, int c, const char *arg) {
        ContainerCreateOptions *o = &a->o;

        switch (c) {
        case 'p':
                return strv_push(&o->publish, &o->n_publish, arg);
        case 'P':
                o->publish_all = true;
                return 0;
        case OPT_DNS:
                return strv_push(&o->dns, &o->n_dns, arg);
        case OPT_ADD_HOST:
                return strv_push(&o->add_hosts, &o->n_add_hosts, arg);
        case OPT_NETWORK_ALIAS:
                return strv_push(&o->network_aliases, &o->n_network_aliases, arg);
        case OPT_IP:
                o->ip = arg;
                return 0;
        case OPT_MAC_ADDRESS:
                o->mac_address = arg;
                return 0;
        default:
                return 1;
        }
}

static int parse_int(const char *flag, const char *s, int64_t min, int64_t *ret) {
        char *end;

        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end || v < min)
                return cli_error(-EINVAL, "invalid argument \"%s\" for \"%s\" flag: invalid value", s, flag);
        *ret = v;
        return 0;
}

static int add_label(ContainerCreateOptions *o, const char *arg) {
        _cleanup_free_ char *kv = NULL;

        if (strchr(arg, '='))
                return strv_push(&o->labels, &o->n_labels, arg);
        /* "-l key": an empty value */
        if (asprintf(&kv, "%s=", arg) < 0)
                return -ENOMEM;
        return strv_push(&o->labels, &o->n_labels, kv);
}

/* Flags of the process and its privileges: 0 handled, 1 not one of them, <0 error (printed or -ENOMEM). */
static int process_flag(CreateArgs *a, int c, const char *arg) {
        ContainerCreateOptions *o = &a->o;

        switch (c) {
        case 'e':
                return add_env(a, arg);
        case OPT_ENV_FILE:
                return add_env_file(a, arg);
        case OPT_ENTRYPOINT:
                return set_entrypoint(a, arg);
        case 'w':
                o->workdir = arg;
                return 0;
        case 'u':
                o->user = arg;
                return 0;
        case 'h':
                o->hostname = arg;
                return 0;
        case 'l':
                return add_label(o, arg);
        case OPT_CAP_ADD:
                return strv_push(&o->cap_add, &o->n_cap_add, arg);
        case OPT_CAP_DROP:
                return strv_push(&o->cap_drop, &o->n_cap_drop, arg);
        case OPT_SECURITY_OPT:
                return strv_push(&o->security_opt, &o->n_security_opt, arg);
        case OPT_PRIVILEGED:
                o->privileged = true;
                return 0;
        case OPT_INIT:
                o->init = true;
                return 0;
        case 't':
                o->tty = true;
                return 0;
        case 'i':
                o->interactive = true;
                return 0;
        case OPT_STOP_SIGNAL:
                if (cli_parse_signal(arg) < 0)
                        return cli_error(-EINVAL, "invalid signal: %s", arg);
                o->stop_signal = arg;
                return 0;
        default:
                return 1;
        }
}

/* Limits and storage flags. */
static int resource_flag(CreateArgs *a, int c, const char *arg) {
        ContainerCreateOptions *o = &a->o;
        int64_t v;
        char *end;

        switch (c) {
        case 'm':
                if (parse_ram_bytes(arg, &v) < 0)
                        return cli_error(-EINVAL, "invalid value for memory: invalid size: '%s'", arg);
                o->memory = v;
                return 0;
        case OPT_CPUS:
                errno = 0;
                o->cpus = strtod(arg, &end);
                if (errno != 0 || end == arg || *end || o->cpus < 0 || !isfinite(o->cpus))
                        return cli_error(-EINVAL, "invalid argument \"%s\" for \"--cpus\" flag", arg);
                return 0;
        case OPT_PIDS_LIMIT:
                if (parse_int("--pids-limit", arg, -1, &v) < 0)
                        return -EINVAL;
                o->pids_limit = v == 0 ? -1 : v;
                return 0;
        case OPT_ULIMIT:
                if (!strchr(arg, '='))
                        return cli_error(-EINVAL, "invalid ulimit argument: \"%s\"", arg);
                return strv_push(&o->ulimits, &o->n_ulimits, arg);
        case OPT_READ_ONLY:
                o->read_only = true;
                return 0;
        case OPT_TMPFS:
                return add_tmpfs(a, arg);
        case 'v':
                return add_volume(a, arg);
        case OPT_MOUNT:
                return add_mount(a, arg);
        default:
                return 1;
        }
}

/* Flags of the container's lifecycle and of this command. */
static int lifecycle_flag(CreateArgs *a, int c, const char *arg) {
        ContainerCreateOptions *o = &a->o;
        int64_t v;

        switch (c) {
        case OPT_NAME:
                o->name = arg;
                return 0;
        case OPT_RM:
                o->rm = true;
                return 0;
        case OPT_RESTART:
                if (check_restart(arg) < 0)
                        return -EINVAL;
                o->restart = arg;
                return 0;
        case OPT_NETWORK:
                if (check_network(arg) < 0)
                        return -EINVAL;
                o->network = arg;
                return 0;
        case 'd':
                a->detach = true;
                return 0;
        case OPT_DETACH_KEYS:
                o->detach_keys = arg;
                return 0;
        case OPT_LOG_DRIVER:
                if (!streq(arg, "k8s-file") && !streq(arg, "none"))
                        return cli_error(-ENOTSUP, "log driver \"%s\" is not supported (k8s-file, none)",
                                         arg);
                o->log_driver = arg;
                return 0;
        case OPT_RUNTIME:
                o->runtime = arg;
                return 0;
        case OPT_STOP_TIMEOUT:
                if (parse_int("--stop-timeout", arg, 0, &v) < 0)
                        return -EINVAL;
                o->stop_timeout = v > INT_MAX ? INT_MAX : (int)v;
                a->stop_timeout_set = true;
                return 0;
        case 'q':
                a->quiet = true;
                return 0;
        case OPT_CIDFILE:
                a->cidfile = arg;
                return 0;
        case OPT_PULL:
                return 0; /* images come from the local store; nothing is pulled implicitly yet */
        case OPT_POD:
                o->pod = arg;
                return 0;
        default:
                return 1;
        }
}

/* One create flag (c is the getopt code): 0 handled, 1 not a create flag, <0 error (printed). */
int create_flag(CreateArgs *a, int c, const char *arg) {
        int r = process_flag(a, c, arg);

        if (r == 1)
                r = resource_flag(a, c, arg);
        if (r == 1)
                r = lifecycle_flag(a, c, arg);
        if (r == 1)
                r = network_flag(a, c, arg);
        if (r == -ENOMEM)
                return cli_error(-ENOMEM, "out of memory");
        return r;
}

/* Checks across flags, after parsing. */
int create_args_check(CreateArgs *a) {
        ContainerCreateOptions *o = &a->o;

        if (!a->stop_timeout_set)
                o->stop_timeout = 10;
        if (o->rm && o->restart && !streq(o->restart, "no"))
                return cli_error(-EINVAL, "the --rm option conflicts with --restart, when the restartPolicy "
                                          "is not \"\" and \"no\"");
        if (o->privileged && (o->n_cap_add > 0 || o->n_cap_drop > 0))
                return 0; /* podman accepts and ignores them */
        return 0;
}

const char create_options_text[] =
        "      --cap-add strings          Add capabilities to the container\n"
        "      --cap-drop strings         Drop capabilities from the container\n"
        "      --cidfile string           Write the container ID to the file\n"
        "      --cpus float               Number of CPUs. The default is 0.000 which means no limit\n"
        "  -d, --detach                   Run container in background and print container ID\n"
        "      --detach-keys string       Override the key sequence for detaching a container\n"
        "      --entrypoint string        Overwrite the default ENTRYPOINT of the image\n"
        "  -e, --env stringArray          Set environment variables in container\n"
        "      --env-file stringArray     Read in a file of environment variables\n"
        "  -h, --hostname string          Set container hostname\n"
        "      --init                     Run an init binary inside the container\n"
        "  -i, --interactive              Keep STDIN open even if not attached\n"
        "  -l, --label stringArray        Set metadata on container\n"
        "      --log-driver string        Logging driver for the container (k8s-file, none)\n"
        "  -m, --memory string            Memory limit (format: <number>[<unit>], where unit = b "
        "(bytes), k (kibibytes), m (mebibytes), or g (gibibytes))\n"
        "      --mount stringArray        Attach a filesystem mount to the container\n"
        "      --name string              Assign a name to the container\n"
        "      --add-host host:ip         Add a custom host-to-IP mapping (host:ip)\n"
        "      --dns strings              Set custom DNS servers\n"
        "      --ip string                Specify a static IPv4 address for the container\n"
        "      --mac-address string       Container MAC address (e.g. 92:d0:c6:0a:29:33)\n"
        "      --network string           Connect a container to a network (bridge, NAME[,NAME], none, "
        "host, container:ID, ns:PATH)\n"
        "      --network-alias strings    Add network-scoped alias for the container\n"
        "  -p, --publish strings          Publish a container's port, or a range of ports, to the host\n"
        "  -P, --publish-all              Publish all exposed ports to random ports on the host interfaces\n"
        "      --pod string               Run container in an existing pod, or \"new:NAME\" to create one\n"
        "      --pids-limit int           Tune container pids limit (set -1 for unlimited)\n"
        "      --privileged               Give extended privileges to container\n"
        "      --read-only                Make containers root filesystem read-only\n"
        "      --restart string           Restart policy to apply when a container exits (\"always\"|\"no\"|"
        "\"on-failure\"|\"unless-stopped\")\n"
        "      --rm                       Remove container (and pod if created) after exit\n"
        "      --runtime string           Path to the OCI-compatible binary used to run containers\n"
        "      --security-opt stringArray Security Options\n"
        "      --stop-signal string       Signal to stop a container. Default is SIGTERM\n"
        "      --stop-timeout uint        Timeout (in seconds) that containers stopped by user command "
        "have to exit (default 10)\n"
        "      --tmpfs tmpfs              Mount a temporary filesystem (tmpfs) into a container\n"
        "  -t, --tty                      Allocate a pseudo-TTY for container\n"
        "      --ulimit strings           Ulimit options\n"
        "  -u, --user string              Username or UID (format: <name|uid>[:<group|gid>])\n"
        "  -v, --volume stringArray       Bind mount a volume into the container\n"
        "  -w, --workdir string           Working directory inside the container\n";

const struct option create_long_options[] = {
        {"name", required_argument, NULL, OPT_NAME},
        {"env", required_argument, NULL, 'e'},
        {"env-file", required_argument, NULL, OPT_ENV_FILE},
        {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
        {"workdir", required_argument, NULL, 'w'},
        {"user", required_argument, NULL, 'u'},
        {"hostname", required_argument, NULL, 'h'},
        {"label", required_argument, NULL, 'l'},
        {"cap-add", required_argument, NULL, OPT_CAP_ADD},
        {"cap-drop", required_argument, NULL, OPT_CAP_DROP},
        {"security-opt", required_argument, NULL, OPT_SECURITY_OPT},
        {"privileged", no_argument, NULL, OPT_PRIVILEGED},
        {"read-only", no_argument, NULL, OPT_READ_ONLY},
        {"memory", required_argument, NULL, 'm'},
        {"cpus", required_argument, NULL, OPT_CPUS},
        {"pids-limit", required_argument, NULL, OPT_PIDS_LIMIT},
        {"ulimit", required_argument, NULL, OPT_ULIMIT},
        {"init", no_argument, NULL, OPT_INIT},
        {"tmpfs", required_argument, NULL, OPT_TMPFS},
        {"volume", required_argument, NULL, 'v'},
        {"mount", required_argument, NULL, OPT_MOUNT},
        {"rm", no_argument, NULL, OPT_RM},
        {"restart", required_argument, NULL, OPT_RESTART},
        {"network", required_argument, NULL, OPT_NETWORK},
        {"net", required_argument, NULL, OPT_NETWORK},
        {"tty", no_argument, NULL, 't'},
        {"interactive", no_argument, NULL, 'i'},
        {"detach", no_argument, NULL, 'd'},
        {"detach-keys", required_argument, NULL, OPT_DETACH_KEYS},
        {"log-driver", required_argument, NULL, OPT_LOG_DRIVER},
        {"runtime", required_argument, NULL, OPT_RUNTIME},
        {"stop-signal", required_argument, NULL, OPT_STOP_SIGNAL},
        {"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
        {"quiet", no_argument, NULL, 'q'},
        {"cidfile", required_argument, NULL, OPT_CIDFILE},
        {"pull", required_argument, NULL, OPT_PULL},
        {"pod", required_argument, NULL, OPT_POD},
        {"publish", required_argument, NULL, 'p'},
        {"publish-all", no_argument, NULL, 'P'},
        {"dns", required_argument, NULL, OPT_DNS},
        {"add-host", required_argument, NULL, OPT_ADD_HOST},
        {"ip", required_argument, NULL, OPT_IP},
        {"mac-address", required_argument, NULL, OPT_MAC_ADDRESS},
        {"network-alias", required_argument, NULL, OPT_NETWORK_ALIAS},
        {"help", no_argument, NULL, OPT_HELP},
        {},
};

/* "+": options end at the image; what follows is the command. */
const char create_short_options[] = "+e:w:u:h:l:m:v:p:Ptidq";
