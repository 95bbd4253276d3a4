/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Remote create and run: the local flags, parsed as local mode parses them, sent as io.podman's Create, or
 * with io.cpod's CreateExtra for what that record cannot carry; a foreground run attaches through
 * remote_attach. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cmd-container.h"
#include "remote.h"

static int set_strv(VlJson *o, const char *key, char *const *v, size_t n) {
        VlJson *a;

        if (n == 0)
                return 0;
        if (!(a = vl_json_new_array()))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (vl_json_array_append(a, vl_json_new_string(v[i])) < 0) {
                        vl_json_unref(a);
                        return -ENOMEM;
                }
        return vl_json_object_set(o, key, a);
}

static int set_str(VlJson *o, const char *key, const char *s) {
        return s ? vl_json_object_set_string(o, key, s) : 0;
}

static int set_true(VlJson *o, const char *key, bool b) {
        return b ? vl_json_object_set_bool(o, key, true) : 0;
}

/* The mounts as Create's "volume" ("SRC:DST[:OPTS]", binds and named volumes) and "tmpfs" ("DST[:OPTS]");
 * anonymous volumes as "DST[:OPTS]" in extra's "volume". */
static int mount_specs(const ContainerCreateOptions *c, VlJson *o, VlJson *extra) {
        _cleanup_(vl_json_unrefp) VlJson *volumes = vl_json_new_array(), *tmpfs = vl_json_new_array(),
                                         *anonymous = vl_json_new_array();
        int r = volumes && tmpfs && anonymous ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < c->n_mounts; i++) {
                const ContainerMount *m = &c->mounts[i];
                bool is_tmpfs = streq_ptr(m->type, "tmpfs"),
                     is_anonymous = !is_tmpfs && (!m->source || !*m->source);
                VlBuf b = VL_BUF_INIT;
                if (!is_tmpfs && !streq_ptr(m->type, "bind") && !streq_ptr(m->type, "volume"))
                        return cli_error(-EOPNOTSUPP, "%s mounts are not supported in remote mode yet",
                                         m->type ?: "these");
                if (!is_tmpfs && !is_anonymous)
                        r = vl_buf_append_str(&b, m->source) ?: vl_buf_append_char(&b, ':');
                r = r ?: vl_buf_append_str(&b, m->destination ?: "");
                for (size_t k = 0; r >= 0 && k < m->n_options; k++)
                        r = vl_buf_append_char(&b, k == 0 ? ':' : ',')
                                    ?: vl_buf_append_str(&b, m->options[k]);
                r = r ?: vl_buf_append_char(&b, '\0');
                VlJson *list = is_tmpfs ? tmpfs : is_anonymous ? anonymous : volumes;
                r = r ?: vl_json_array_append(list, vl_json_new_string(b.data));
                vl_buf_free(&b);
        }
        if (r >= 0 && vl_json_array_length(volumes) > 0)
                r = vl_json_object_set(o, "volume", TAKE_PTR(volumes));
        if (r >= 0 && vl_json_array_length(tmpfs) > 0)
                r = vl_json_object_set(o, "tmpfs", TAKE_PTR(tmpfs));
        if (r >= 0 && vl_json_array_length(anonymous) > 0)
                r = vl_json_object_set(extra, "volume", TAKE_PTR(anonymous));
        return r;
}

/* What io.podman's Create record cannot carry to cpod's engine, as io.cpod's CreateExtra: published ports
 * (cpod's io.podman.CreateContainer refuses them), the network flags, the runtime. */
static int extra_record(const ContainerCreateOptions *c, VlJson *x) {
        int r = set_strv(x, "publish", c->publish, c->n_publish);

        r = r ?: set_true(x, "publishAll", c->publish_all);
        r = r ?: set_strv(x, "dns", c->dns, c->n_dns);
        r = r ?: set_strv(x, "addHost", c->add_hosts, c->n_add_hosts);
        r = r ?: set_str(x, "ip", c->ip);
        r = r ?: set_str(x, "macAddress", c->mac_address);
        r = r ?: set_strv(x, "networkAlias", c->network_aliases, c->n_network_aliases);
        r = r ?: set_str(x, "runtime", c->runtime);
        return r;
}

/* The Create record for the parsed options, and in *ret_extra (NULL when empty) what it cannot carry;
 * -EOPNOTSUPP (printed) for options neither can. */
static int create_record(const ContainerCreateOptions *c, VlJson **ret, VlJson **ret_extra) {
        _cleanup_(vl_json_unrefp) VlJson *o = vl_json_new_object(), *args = vl_json_new_array(),
                                         *extra = vl_json_new_object();
        char buf[64];
        int r = o && args && extra ? 0 : -ENOMEM;

        r = r ?: mount_specs(c, o, extra);
        r = r ?: extra_record(c, extra);
        if (r < 0)
                return r;
        r = r ?: vl_json_array_append(args, vl_json_new_string(c->image));
        for (size_t i = 0; r >= 0 && i < c->n_command; i++)
                r = vl_json_array_append(args, vl_json_new_string(c->command[i]));
        r = r ?: vl_json_object_set(o, "args", TAKE_PTR(args));
        if (r >= 0 && c->entrypoint_set) {
                _cleanup_(vl_json_unrefp) VlJson *ep = vl_json_new_array();
                _cleanup_free_ char *s = NULL;
                for (size_t i = 0; ep && i < c->n_entrypoint; i++)
                        vl_json_array_append(ep, vl_json_new_string(c->entrypoint[i]));
                if (!ep || !(s = vl_json_to_string(ep, 0)))
                        return -ENOMEM;
                r = vl_json_object_set_string(o, "entrypoint", s);
        }
        r = r ?: set_str(o, "name", c->name);
        r = r ?: set_str(o, "pod", c->pod);
        r = r ?: set_strv(o, "env", c->env, c->n_env);
        r = r ?: set_strv(o, "label", c->labels, c->n_labels);
        r = r ?: set_str(o, "user", c->user);
        r = r ?: set_str(o, "workDir", c->workdir);
        r = r ?: set_str(o, "hostname", c->hostname);
        r = r ?: set_true(o, "privileged", c->privileged);
        r = r ?: set_true(o, "readonly", c->read_only);
        r = r ?: set_true(o, "tty", c->tty);
        r = r ?: set_true(o, "interactive", c->interactive);
        r = r ?: set_true(o, "init", c->init);
        r = r ?: set_true(o, "rm", c->rm);
        r = r ?: set_strv(o, "capAdd", c->cap_add, c->n_cap_add);
        r = r ?: set_strv(o, "capDrop", c->cap_drop, c->n_cap_drop);
        r = r ?: set_strv(o, "securityOpt", c->security_opt, c->n_security_opt);
        if (r >= 0 && c->memory > 0) {
                snprintf(buf, sizeof(buf), "%lld", (long long)c->memory);
                r = vl_json_object_set_string(o, "memory", buf);
        }
        if (r >= 0 && c->cpus > 0)
                r = vl_json_object_set_double(o, "cpus", c->cpus);
        if (r >= 0 && c->pids_limit != 0)
                r = vl_json_object_set_int(o, "pidsLimit", c->pids_limit);
        r = r ?: set_strv(o, "ulimit", c->ulimits, c->n_ulimits);
        r = r ?: set_str(o, "restart", c->restart);
        r = r ?: set_str(o, "network", c->network);
        r = r ?: set_str(o, "logDriver", c->log_driver);
        r = r ?: set_str(o, "stopSignal", c->stop_signal);
        if (r >= 0 && c->stop_timeout != 10)
                r = vl_json_object_set_int(o, "stopTimeout", c->stop_timeout);
        r = r ?: set_str(o, "detachKeys", c->detach_keys);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        *ret_extra = vl_json_object_length(extra) > 0 ? TAKE_PTR(extra) : NULL;
        return 0;
}

/* For a service without io.cpod (podman 1.x): extra's members moved into io.podman's Create record, which
 * has the same names for all but --network-alias and --runtime (-EOPNOTSUPP) and takes anonymous volumes in
 * its "volume". */
static int podman_record(VlJson *record, const VlJson *extra) {
        static const char *const same[] = {"publish", "publishAll", "dns", "addHost", "ip", "macAddress"};
        const VlJson *item;

        for (size_t i = 0; i < vl_json_object_length(extra); i++) {
                const char *key = vl_json_object_key(extra, i);
                const VlJson *value = vl_json_object_value(extra, i);
                bool known = false;
                for (size_t k = 0; k < ELEMENTSOF(same); k++)
                        known = known || streq(key, same[k]);
                if (known) {
                        if (vl_json_object_set(record, key, vl_json_copy(value)) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (!streq(key, "volume"))
                        return -EOPNOTSUPP;
                if (!vl_json_object_get(record, "volume") &&
                    vl_json_object_set(record, "volume", vl_json_new_array()) < 0)
                        return -ENOMEM;
                VlJson *v = vl_json_object_get(record, "volume");
                VL_JSON_FOREACH_ELEMENT (item, value)
                        if (vl_json_array_append(v, vl_json_copy(item)) < 0)
                                return -ENOMEM;
        }
        return 0;
}

/* Create through io.cpod.CreateContainer when extra (taken, like record) holds something, else through
 * io.podman's; a service without io.cpod gets io.podman's when its record can carry the options. */
static int create_call(Cli *cli, VlJson *record, VlJson *extra, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *rec = record, *x = extra;
        VlJson *params = vl_json_new_object();
        int r;

        if (!params || vl_json_object_set(params, "create", vl_json_ref(rec)) < 0 ||
            (x && vl_json_object_set(params, "extra", vl_json_ref(x)) < 0)) {
                vl_json_unref(params);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        if (!x)
                return remote_call(cli, "CreateContainer", params, ret, err);
        r = remote_cpod_call_flags(cli, "CreateContainer", params, 0, ret, err);
        if (r != -ENOSYS || podman_record(rec, x) < 0)
                return r;
        if (!(params = vl_json_new_object()) || vl_json_object_set(params, "create", vl_json_ref(rec)) < 0) {
                vl_json_unref(params);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        *err = (CpodError){};
        return remote_call(cli, "CreateContainer", params, ret, err);
}

/* The client's file, as local mode writes it. */
static int write_cidfile(const char *path, const char *id) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        size_t n = strlen(id);

        if (fd < 0)
                return cli_error(-errno, "opening cidfile %s: %s", path, strerror(errno));
        if (write(fd, id, n) != (ssize_t)n)
                return cli_error(-EIO, "writing cidfile %s: %s", path, strerror(errno));
        return 0;
}

/* Parse and create; ret_id on success. 0, -1 after --help (printed by the local command), or an exit
 * code. */
static int create_remote(Cli *cli, int argc, char **argv, CreateArgs *a, char ret_id[65]) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        VlJson *record = NULL, *extra = NULL;
        CpodError err = {};
        int c, r;

        a->o.stop_timeout = 10;
        while ((c = cli_getopt(cli, argc, argv, create_short_options, create_long_options)) >= 0) {
                if (c == OPT_HELP)
                        return cli_command_help(cli, create_options_text) ?: -1;
                if (create_flag(a, c, optarg) != 0)
                        return CLI_EXIT_ERROR;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0 || create_args_check(a) < 0)
                return CLI_EXIT_ERROR;
        a->o.image = argv[optind];
        for (int i = optind + 1; i < argc; i++)
                if (strv_push(&a->o.command, &a->o.n_command, argv[i]) < 0)
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = create_record(&a->o, &record, &extra);
        if (r == -EOPNOTSUPP)
                return CLI_EXIT_ERROR;
        if (r < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = create_call(cli, record, extra, &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        snprintf(ret_id, 65, "%s", vl_json_get_string(vl_json_object_get(reply, "container")) ?: "");
        if (a->cidfile && write_cidfile(a->cidfile, ret_id) < 0)
                return CLI_EXIT_ERROR;
        return 0;
}

int remote_create(Cli *cli, int argc, char **argv) {
        CreateArgs a = {};
        char id[65];
        int r = create_remote(cli, argc, argv, &a, id);

        create_args_done(&a);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        printf("%s\n", id);
        return CLI_EXIT_OK;
}

int remote_run_command(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        CreateArgs a = {};
        CpodError err = {};
        char id[65];
        int r, code;

        r = create_remote(cli, argc, argv, &a, id);
        if (r != 0) {
                create_args_done(&a);
                return r < 0 ? CLI_EXIT_OK : r;
        }
        if (a.detach) {
                r = remote_call(cli, "StartContainer", remote_params1("name", id), &reply, &err);
                code = r < 0 ? cli_start_error(&err, r) : CLI_EXIT_OK;
                if (r >= 0)
                        printf("%s\n", id);
        } else
                code = remote_attach(cli, id, true, a.o.interactive, a.o.tty, a.o.detach_keys, true);
        /* as local mode: --rm removes a container that never ran, and one detached from */
        if (a.o.rm && (r < 0 || !a.detach)) {
                _cleanup_(vl_json_unrefp) VlJson *params = remote_params1("name", id);
                CpodError ignored = {};
                if (params && vl_json_object_set_bool(params, "force", true) >= 0 &&
                    vl_json_object_set_bool(params, "removeVolumes", true) >= 0)
                        (void)remote_call(cli, "RemoveContainer", TAKE_PTR(params), NULL, &ignored);
        }
        create_args_done(&a);
        return code;
}
