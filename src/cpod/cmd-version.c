/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod version: podman's version table, or --format. */
#include <string.h>
#include <sys/utsname.h>

#include "cpod.h"
#include "output.h"
#include "template.h"

/* Go's names for machines, which users of podman read in OS/Arch. */
static const char *go_arch(const char *machine) {
        static const char *const map[][2] = {
                {"x86_64", "amd64"}, {"aarch64", "arm64"},   {"i686", "386"},    {"i386", "386"},
                {"armv7l", "arm"},   {"ppc64le", "ppc64le"}, {"s390x", "s390x"}, {"riscv64", "riscv64"},
        };

        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(machine, map[i][0]))
                        return map[i][1];
        return machine;
}

static VlJson *version_json(void) {
        struct utsname u;
        char osarch[128];
        VlJson *o = vl_json_new_object(), *client = vl_json_new_object();
        int r = 0;

        if (!o || !client) {
                vl_json_unref(o);
                vl_json_unref(client);
                return NULL;
        }
        if (uname(&u) < 0)
                strcpy(u.machine, "unknown");
        snprintf(osarch, sizeof(osarch), "linux/%s", go_arch(u.machine));
        r |= vl_json_object_set_string(client, "APIVersion", PROJECT_VERSION);
        r |= vl_json_object_set_string(client, "Version", PROJECT_VERSION);
        r |= vl_json_object_set_string(client, "CVersion", "C17");
        r |= vl_json_object_set_string(client, "BuiltTime", __DATE__);
        r |= vl_json_object_set_string(client, "OsArch", osarch);
        r |= vl_json_object_set_string(client, "Os", "linux");
        r |= vl_json_object_set(o, "Client", client);
        return r < 0 ? vl_json_unref(o) : o;
}

int cmd_version(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"format", required_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *v = NULL;
        const char *format = NULL;
        const VlJson *client;
        int c;

        while ((c = cli_getopt(cli, argc, argv, "f:h", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli,
                                                "  -f, --format string   Change the output format to JSON "
                                                "or a Go template\n");
                format = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        if (!(v = version_json()))
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        if (output_is_json(format))
                return output_json(v, 4) < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
        if (format) {
                CpodError err = {};
                Template *t = NULL;
                VlBuf b = VL_BUF_INIT;
                int r = template_parse(format, &t, &err);
                if (r >= 0)
                        r = template_render(t, v, &b, &err);
                if (r >= 0)
                        printf("%.*s%s", (int)b.len, b.data, b.len && b.data[b.len - 1] == '\n' ? "" : "\n");
                template_free(t);
                vl_buf_free(&b);
                return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
        }
        client = vl_json_object_get(v, "Client");
        printf("Client:       cpod\n"
               "Version:      %s\n"
               "API Version:  %s\n"
               "C Version:    C17\n"
               "Built:        %s\n"
               "OS/Arch:      %s\n",
               PROJECT_VERSION, PROJECT_VERSION, vl_json_get_string(vl_json_object_get(client, "BuiltTime")),
               vl_json_get_string(vl_json_object_get(client, "OsArch")));
        return CLI_EXIT_OK;
}
