/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Remote play kube, rename, port, cp and system check/df/reset: io.cpod calls (io.podman.Reset for reset)
 * printed by the local commands' printers. cp moves tar streams over upgraded connections, staged through
 * a directory on each side so that both apply the rules of `cpod cp` (docs/design/service-ext.md). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vl/varlink.h>

#include "cmd-container.h"
#include "container.h"
#include "kube.h"
#include "layer.h"
#include "remote-ext.h"
#include "yaml.h"
#include "transfer.h"

/* ---- play kube ---- */

static VlJson *params_string(const char *key, const char *s, size_t n) {
        VlJson *p = vl_json_new_object();
        if (p && vl_json_object_set(p, key, vl_json_new_stringn(s, n)) < 0)
                return vl_json_unref(p);
        return p;
}

/* io.cpod PlayKubeReports as kube_play's result ({"Pod", "Containers"} and {"Volume"}). */
static VlJson *play_result(const VlJson *reports) {
        VlJson *result = vl_json_new_array();
        const VlJson *x;

        VL_JSON_FOREACH_ELEMENT (x, reports) {
                bool volume = streq(vl_json_get_string(vl_json_object_get(x, "kind")) ?: "", "volume");
                VlJson *o = vl_json_new_object();
                const VlJson *ctrs = vl_json_object_get(x, "containers");
                int r = o ? 0 : -ENOMEM;
                r = r < 0 ? r
                          : vl_json_object_set(o, volume ? "Volume" : "Pod",
                                               vl_json_copy(vl_json_object_get(x, "id")));
                if (!volume)
                        r = r < 0 ? r
                                  : vl_json_object_set(o, "Containers",
                                                       ctrs ? vl_json_copy(ctrs) : vl_json_new_array());
                r = r < 0 ? r : result ? vl_json_array_append(result, o) : -ENOMEM;
                if (r < 0) {
                        vl_json_unref(o);
                        return vl_json_unref(result);
                }
        }
        return result;
}

static int remote_play_kube(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"down", no_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *docs = NULL, *reply = NULL, *result = NULL;
        _cleanup_free_ char *text = NULL;
        CpodError err = {};
        bool down = false;
        size_t len = 0;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                down = down || c == 'd';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        const char *path = argv[optind];
        /* read and checked here: the errors name the file as local mode does */
        if ((r = kube_read_file(path, &text, &len)) < 0)
                return cli_error(CLI_EXIT_ERROR, "%s: %s", path, strerror(-r));
        if ((r = yaml_parse(text, len, &docs, &err)) < 0)
                return cli_error(CLI_EXIT_ERROR, "%s: %s", path, err.message);
        if ((r = kube_validate(docs, &err)) < 0)
                return cli_error(CLI_EXIT_ERROR, "%s: %s", path, err.message);
        r = remote_cpod_call(cli, down ? "PlayKubeDown" : "PlayKube", params_string("yaml", text, len),
                             &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        if (down) {
                kube_print_down(vl_json_object_get(reply, "pods"));
                return CLI_EXIT_OK;
        }
        if (!(result = play_result(vl_json_object_get(reply, "reports"))))
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        kube_print_play(result);
        return CLI_EXIT_OK;
}

/* ---- rename, port ---- */

static int remote_rename(Cli *cli, int argc, char **argv) {
        CpodError err = {};
        int r = remote_help_only(cli, argc, argv, NULL, NULL, 2, 2);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        VlJson *p = remote_params1("name", argv[optind]);
        if (!p || vl_json_object_set_string(p, "newName", argv[optind + 1]) < 0) {
                vl_json_unref(p);
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        }
        r = remote_cpod_call(cli, "RenameContainer", p, NULL, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

/* The lines of cmd_port for one container's ContainerPortMappings. */
static void port_lines(const VlJson *ports, const char *id, const char *filter) {
        char want[64] = "", line[256];
        const VlJson *m;

        if (filter)
                snprintf(want, sizeof want, "%s%s -> ", filter, strchr(filter, '/') ? "" : "/tcp");
        VL_JSON_FOREACH_ELEMENT (m, ports) {
                snprintf(line, sizeof line, "%s/%s -> %s:%s",
                         vl_json_get_string(vl_json_object_get(m, "container_port")) ?: "",
                         vl_json_get_string(vl_json_object_get(m, "protocol")) ?: "",
                         vl_json_get_string(vl_json_object_get(m, "host_ip")) ?: "",
                         vl_json_get_string(vl_json_object_get(m, "host_port")) ?: "");
                if (filter && startswith(line, want))
                        printf("%s\n", line + strlen(want));
                else if (!filter && id)
                        printf("%.12s\t%s\n", id, line);
                else if (!filter)
                        printf("%s\n", line);
        }
}

static int remote_port(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        CpodError err = {};
        bool all = false;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "alh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                all = all || c == 'a';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, all ? 0 : 1, all ? 0 : 2) < 0)
                return CLI_EXIT_ERROR;
        if (!all) {
                r = remote_cpod_call(cli, "ContainerPort", remote_params1("name", argv[optind]), &reply,
                                     &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                port_lines(vl_json_object_get(reply, "ports"), NULL,
                           optind + 1 < argc ? argv[optind + 1] : NULL);
                return CLI_EXIT_OK;
        }
        r = remote_cpod_call(cli, "ListContainerPorts", NULL, &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *x;
        VL_JSON_FOREACH_ELEMENT (x, vl_json_object_get(reply, "containers"))
                port_lines(vl_json_object_get(x, "ports"),
                           vl_json_get_string(vl_json_object_get(x, "id")) ?: "", NULL);
        return CLI_EXIT_OK;
}

/* ---- cp ---- */

/* As cmd_cp reads "CONTAINER:PATH". */
static bool split_container_path(const char *arg, char **ret_ctr, const char **ret_path) {
        const char *colon = strchr(arg, ':');

        if (!colon || colon == arg || arg[0] == '/' || arg[0] == '.' || memchr(arg, '/', colon - arg))
                return false;
        *ret_ctr = strndup(arg, colon - arg);
        *ret_path = colon + 1;
        return *ret_ctr != NULL;
}

static int stage_open(TransferStage *st, CpodError *err) {
        const char *tmp = getenv("TMPDIR");
        return transfer_stage_open(st, tmp && *tmp == '/' ? tmp : "/var/tmp", "cpod-cp-", err);
}

/* The status message that ends CopyToContainer. */
static int read_status(int sock, CpodError *err) {
        char buf[8192];
        size_t n = 0;

        while (n < sizeof(buf) - 1) {
                ssize_t k = read(sock, buf + n, sizeof(buf) - 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t)k;
                if (memchr(buf, '\0', n))
                        break;
        }
        buf[n] = '\0';
        _cleanup_(vl_json_unrefp) VlJson *m = NULL;
        if (n == 0 || vl_json_parse(buf, strlen(buf), NULL, &m, NULL) < 0)
                return cpod_error(err, EPROTO, "the service closed the connection without a status");
        if (!vl_json_object_get(m, "error"))
                return 0;
        const char *reason =
                vl_json_get_string(vl_json_object_get(vl_json_object_get(m, "parameters"), "reason"));
        return cpod_error(err, EIO, "%s", reason ?: vl_json_get_string(vl_json_object_get(m, "error")) ?: "error");
}

static int cp_into(Cli *cli, const char *src, const char *ctr, const char *dst, CpodError *err) {
        _cleanup_free_ char *entry = NULL, *staged = NULL, *pending = NULL;
        TransferStage st = {.fd = -1};
        size_t n_pending = 0;
        bool contents = false;

        int r = transfer_copy_entry(src, &entry, &contents);
        if (r < 0)
                return cpod_error(err, -r, "cannot copy `%s`", src);
        r = stage_open(&st, err);
        if (r < 0)
                return r;
        if (asprintf(&staged, "%s/%s", st.path, entry) < 0) {
                transfer_stage_done(&st);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        r = container_copy_host(src, staged, err);
        if (r < 0) {
                transfer_message_replace(err, staged, dst);
                transfer_stage_done(&st);
                return r;
        }
        VlJson *p = remote_params1("name", ctr);
        if (!p || vl_json_object_set_string(p, "path", dst) < 0 ||
            vl_json_object_set_string(p, "entry", entry) < 0 ||
            vl_json_object_set_bool(p, "contents", contents) < 0 ||
            vl_json_object_set_string(p, "source", src) < 0) {
                vl_json_unref(p);
                transfer_stage_done(&st);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        r = remote_cpod_call_flags(cli, "CopyToContainer", p, VL_CALL_UPGRADE, NULL, err);
        int sock = r < 0 ? r : remote_take_socket(cli, &pending, &n_pending, err);
        if (sock >= 0) {
                r = tar_write_dir(st.fd, sock, false, err);
                (void)shutdown(sock, SHUT_WR);
                int k = read_status(sock, err);
                r = r < 0 && k >= 0 ? r : k;
                close(sock);
        } else
                r = sock;
        transfer_stage_done(&st);
        return r;
}

static int cp_out(Cli *cli, const char *ctr, const char *src, const char *dst, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        _cleanup_free_ char *pending = NULL, *staged = NULL;
        _cleanup_close_ int tmp = -1;
        TransferStage st = {.fd = -1};
        size_t n_pending = 0;

        VlJson *p = remote_params1("name", ctr);
        if (!p || vl_json_object_set_string(p, "path", src) < 0) {
                vl_json_unref(p);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        int r = remote_cpod_call_flags(cli, "CopyFromContainer", p, VL_CALL_UPGRADE, &reply, err);
        if (r < 0)
                return r;
        const char *entry = vl_json_get_string(vl_json_object_get(reply, "entry")) ?: "";
        bool contents = vl_json_get_bool(vl_json_object_get(reply, "contents"));
        if (!*entry || strchr(entry, '/') || streq(entry, "..") || streq(entry, "."))
                return cpod_error(err, EPROTO, "the service named a bad entry `%s`", entry);
        _cleanup_close_ int sock = remote_take_socket(cli, &pending, &n_pending, err);
        if (sock < 0)
                return sock;
        if ((r = stage_open(&st, err)) < 0)
                return r;
        /* the bytes that came with the reply, then the rest: spooled, then extracted */
        char *dir = strdup(st.path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash)
                *slash = '\0';
        tmp = dir ? open(*dir ? dir : "/", O_RDWR | O_TMPFILE | O_CLOEXEC, 0600) : -1;
        free(dir);
        if (tmp < 0)
                r = cpod_error_errno(err, errno, "create a spool file");
        else if ((r = transfer_write_all(tmp, pending ?: "", n_pending)) < 0)
                r = cpod_error_errno(err, -r, "write the spool file");
        char buf[65536];
        while (r >= 0) {
                ssize_t k = read(sock, buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        r = cpod_error_errno(err, errno, "read the archive");
                if (k <= 0)
                        break;
                if ((r = transfer_write_all(tmp, buf, (size_t)k)) < 0)
                        r = cpod_error_errno(err, -r, "write the spool file");
        }
        if (r >= 0 && lseek(tmp, 0, SEEK_SET) < 0)
                r = cpod_error_errno(err, errno, "rewind the spool file");
        if (r >= 0)
                r = layer_extract_to(tmp, st.fd, err);
        if (r >= 0 && asprintf(&staged, "%s/%s%s", st.path, entry, contents ? "/." : "") < 0)
                r = cpod_error(err, ENOMEM, "out of memory");
        if (r >= 0) {
                r = container_copy_host(staged, dst, err);
                if (r < 0)
                        transfer_message_replace(err, staged, src);
        }
        transfer_stage_done(&st);
        return r;
}

static int remote_cp(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"archive", optional_argument, NULL, 'a'},
                {"overwrite", no_argument, NULL, 'o'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_free_ char *src_ctr = NULL, *dst_ctr = NULL;
        const char *src_path = NULL, *dst_path = NULL;
        CpodError err = {};
        int r;

        r = remote_help_only(cli, argc, argv, "h", options, 2, 2);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        split_container_path(argv[optind], &src_ctr, &src_path);
        split_container_path(argv[optind + 1], &dst_ctr, &dst_path);
        if (src_ctr && dst_ctr)
                return cli_error(CLI_EXIT_ERROR, "copying from a container to another container is not "
                                                 "supported");
        if (!src_ctr && !dst_ctr)
                return cli_error(CLI_EXIT_ERROR, "invalid arguments %s, %s you must use just one container",
                                 argv[optind], argv[optind + 1]);
        if ((src_ctr && !*src_path) || (dst_ctr && !*dst_path))
                return cli_error(CLI_EXIT_ERROR, "copy needs a source and a destination");
        if (src_ctr)
                r = cp_out(cli, src_ctr, src_path, argv[optind + 1], &err);
        else
                r = cp_into(cli, argv[optind], dst_ctr, dst_path, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

/* ---- info, system check, df, reset ---- */

static int remote_info(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        const char *format;
        CpodError err = {};
        int r = cli_info_args(cli, argc, argv, &format);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        r = remote_call(cli, "GetInfo", NULL, &reply, &err);
        if (r >= 0)
                r = system_info_print(vl_json_object_get(reply, "info"), format, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

static int remote_system_check(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"repair", no_argument, NULL, 'r'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        StoreReport report = {};
        CpodError err = {};
        bool repair = false;
        const VlJson *x;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "rh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                repair = repair || c == 'r';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        VlJson *p = vl_json_new_object();
        if (!p || vl_json_object_set_bool(p, "repair", repair) < 0) {
                vl_json_unref(p);
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        }
        r = remote_cpod_call(cli, "SystemCheck", p, &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *rep = vl_json_object_get(reply, "report");
        VL_JSON_FOREACH_ELEMENT (x, vl_json_object_get(rep, "problems"))
                if (strv_push(&report.problems, &report.n_problems, vl_json_get_string(x) ?: "") < 0) {
                        store_report_done(&report);
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
                }
        report.repaired = (unsigned)vl_json_get_int(vl_json_object_get(rep, "repaired"));
        return system_check_print(&report);
}

static int remote_system_df(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"format", required_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        CpodError err = {};
        Output out = {};
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                out.format = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        r = remote_cpod_call(cli, "SystemDf", NULL, &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *df = vl_json_object_get(reply, "df");
#define DF_INT(k) vl_json_get_int(vl_json_object_get(df, k))
        StoreUsage u = {
                .images = (unsigned)DF_INT("images"),
                .images_active = (unsigned)DF_INT("imagesActive"),
                .images_size = (uint64_t)DF_INT("imagesSize"),
                .images_reclaimable = (uint64_t)DF_INT("imagesReclaimable"),
                .layers = (unsigned)DF_INT("layers"),
                .layers_size = (uint64_t)DF_INT("layersSize"),
                .containers = (unsigned)DF_INT("containers"),
                .volumes = (unsigned)DF_INT("volumes"),
        };
#undef DF_INT
        r = system_df_print(&u, &out, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

static int remote_system_reset(Cli *cli, int argc, char **argv) {
        CpodError err = {};
        bool force;
        int r = remote_force_args(cli, argc, argv, 0, 0, NULL, &force);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!force && !cli_confirm("WARNING! This will remove:\n"
                                   "        - all containers\n"
                                   "        - all pods\n"
                                   "        - all images\n"
                                   "        - all volumes\n"
                                   "Are you sure you want to continue?"))
                return CLI_EXIT_OK;
        r = remote_call(cli, "Reset", NULL, NULL, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

const RemoteCommand remote_system_commands[] = {
        {"play kube", remote_play_kube},
        {"rename", remote_rename},
        {"container rename", remote_rename},
        {"port", remote_port},
        {"container port", remote_port},
        {"cp", remote_cp},
        {"container cp", remote_cp},
        {"info", remote_info},
        {"system info", remote_info},
        {"system check", remote_system_check},
        {"system df", remote_system_df},
        {"system reset", remote_system_reset},
        {},
};
