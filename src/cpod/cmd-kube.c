/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod generate kube and cpod play kube, over the engine's kube.h and yaml.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd-pod.h"
#include "kube.h"
#include "remote-ext.h"
#include "yaml.h"

const CliCommand cli_generate_commands[] = {
        {"kube", "[options] {CONTAINER...|POD...}", "Generate Kubernetes YAML based on containers or pods",
         cmd_generate_kube, NULL},
        {},
};

const CliCommand cli_play_commands[] = {
        {"kube", "[options] KUBEFILE", "Play a pod or volume based on Kubernetes YAML", cmd_play_kube, NULL},
        {},
};

static const char generate_text[] =
        "  -f, --filename string   Write output to the specified path\n"
        "  -s, --service           Generate YAML for a Kubernetes service object\n";

/* Write all of text to a new file (an existing one is not overwritten, as podman does). */
static int write_new_file(const char *path, const char *text, size_t len) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

        if (fd < 0)
                return -errno;
        while (len > 0) {
                ssize_t n = write(fd, text, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                text += n;
                len -= (size_t)n;
        }
        return 0;
}

int cli_kube_generate_output(const VlJson *docs, const char *file) {
        VlBuf b = VL_BUF_INIT;
        int r = vl_buf_append_str(&b,
                                  "# Save the output of this file and use kubectl create -f to import it "
                                  "into Kubernetes.\n#\n# Created with cpod\n");

        r = r < 0 ? r : yaml_write_stream(&b, docs);
        if (r < 0)
                r = cli_error(-ENOMEM, "out of memory");
        else if (!file)
                fwrite(b.data, 1, b.len, stdout);
        else if ((r = write_new_file(file, b.data, b.len)) < 0)
                cli_error(r, "cannot write to %s: %s", file, strerror(-r));
        vl_buf_free(&b);
        return r;
}

int cmd_generate_kube(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"filename", required_argument, NULL, 'f'},
                {"service", no_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *docs = NULL;
        const char *file = NULL;
        bool service = false;
        CpodError err = {};
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "f:sh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, generate_text);
                if (c == 'f')
                        file = optarg;
                if (c == 's')
                        service = true;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        if (argc - optind > 1)
                return cli_error(CLI_EXIT_ERROR, "generating YAML for more than one pod or container is not "
                                                 "supported");
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if ((r = kube_generate(e, argv[optind], service, &docs, &err)) < 0)
                return cli_engine_error(&err, r);
        return cli_kube_generate_output(docs, file) < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

/* The file's content (stdin for "-"), at most one byte over the YAML limit so that the parser reports
 * the size. */
int kube_read_file(const char *path, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = streq(path, "-") ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
        size_t cap = YAML_MAX_SIZE + 1, len = 0;
        _cleanup_free_ char *buf = NULL;
        ssize_t n;

        if (fd < 0)
                return -errno;
        if (!(buf = malloc(cap)))
                return -ENOMEM;
        while (len < cap && (n = read(fd, buf + len, cap - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                len += (size_t)n;
        }
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

void kube_print_play(const VlJson *result) {
        const VlJson *x, *id;

        VL_JSON_FOREACH_ELEMENT (x, result) {
                if (vl_json_object_get(x, "Volume")) {
                        printf("Volume:\n%s\n", vl_json_get_string(vl_json_object_get(x, "Volume")));
                        continue;
                }
                printf("Pod:\n%s\nContainers:\n", vl_json_get_string(vl_json_object_get(x, "Pod")));
                VL_JSON_FOREACH_ELEMENT (id, vl_json_object_get(x, "Containers"))
                        printf("%s\n", vl_json_get_string(id));
                printf("\n");
        }
}

void kube_print_down(const VlJson *removed) {
        const VlJson *id;

        if (vl_json_array_length(removed) == 0)
                return;
        printf("Pods stopped:\n");
        VL_JSON_FOREACH_ELEMENT (id, removed)
                printf("%s\n", vl_json_get_string(id));
        printf("Pods removed:\n");
        VL_JSON_FOREACH_ELEMENT (id, removed)
                printf("%s\n", vl_json_get_string(id));
}

int cmd_play_kube(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"down", no_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *docs = NULL, *result = NULL;
        _cleanup_free_ char *text = NULL;
        const char *path;
        CpodError err = {};
        bool down = false;
        size_t len = 0;
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, "      --down   Stop pods defined in the YAML file\n");
                if (c == 'd')
                        down = true;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        path = argv[optind];
        if ((r = kube_read_file(path, &text, &len)) < 0)
                return cli_error(CLI_EXIT_ERROR, "%s: %s", path, strerror(-r));
        if ((r = yaml_parse(text, len, &docs, &err)) < 0)
                return cli_error(CLI_EXIT_ERROR, "%s: %s", path, err.message);
        if ((r = kube_validate(docs, &err)) < 0)
                return cli_error(CLI_EXIT_ERROR, "%s: %s", path, err.message);
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = down ? kube_down(e, docs, &result, &err) : kube_play(e, docs, &result, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        if (down)
                kube_print_down(result);
        else
                kube_print_play(result);
        return CLI_EXIT_OK;
}
