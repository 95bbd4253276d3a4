/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod load, save, import and image export: images to and from archives. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd-load.h"

int cli_stdin_to_file(char **ret_path, CpodError *err) {
        const char *dir = getenv("TMPDIR") ?: "/var/tmp";
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        char buf[65536];
        ssize_t n;

        if (asprintf(&path, "%s/cpod-load-XXXXXX", dir) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
                return cpod_error_errno(err, errno, "creating a temporary file in `%s`", dir);
        while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || write(fd, buf, n) != n) {
                        int r = cpod_error_errno(err, errno ?: ENOSPC, "copying standard input to `%s`",
                                                 path);
                        unlink(path);
                        return r;
                }
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

void cli_print_loaded(char **names, size_t n) {
        for (size_t i = 0; i < n; i++) {
                bool id = strlen(names[i]) == 64 && strspn(names[i], "0123456789abcdef") == 64;
                printf("Loaded image: %s%s\n", id ? "sha256:" : "", names[i]);
                free(names[i]);
        }
        free(names);
}

const char cli_load_options[] = "  -i, --input string   Read from specified archive file (default: stdin)\n"
                                "  -q, --quiet          Suppress the output\n";

int cmd_load(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"input", required_argument, NULL, 'i'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_free_ char *tmp = NULL;
        const char *input = NULL;
        CpodError err = {};
        char **names = NULL;
        size_t n = 0;
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "i:qh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, cli_load_options);
                if (c == 'i')
                        input = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        if (!input && isatty(STDIN_FILENO))
                return cli_error(
                        CLI_EXIT_ERROR,
                        "cannot read from terminal, use command-line redirection or the --input flag");
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (!input || streq(input, "-")) {
                r = cli_stdin_to_file(&tmp, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                input = tmp;
        }
        r = image_load(e, input, &names, &n, &err);
        if (tmp)
                unlink(tmp);
        if (r < 0)
                return cli_engine_error(&err, r);
        cli_print_loaded(names, n);
        return CLI_EXIT_OK;
}

int cli_parse_save_format(const char *s, ImageFormat *ret) {
        if (streq(s, "docker-archive"))
                *ret = IMAGE_FORMAT_DOCKER_ARCHIVE;
        else if (streq(s, "oci-archive"))
                *ret = IMAGE_FORMAT_OCI_ARCHIVE;
        else if (streq(s, "oci-dir"))
                *ret = IMAGE_FORMAT_OCI_DIR;
        else
                return -EINVAL;
        return 0;
}

static const char save_options[] =
        "      --compress                 Compress tarball image layers when saving to a directory using "
        "the "
        "'dir' transport\n"
        "      --format string            Save image to oci-archive, oci-dir (directory with oci manifest "
        "type), docker-archive (default \"docker-archive\")\n"
        "  -m, --multi-image-archive      Interpret additional arguments as images not tags and create a "
        "multi-image-archive (only for docker-archive)\n"
        "  -o, --output string            Write to a specified file (default: stdout, which must be "
        "redirected)\n"
        "  -q, --quiet                    Suppress the output\n";

int cli_save_args(Cli *cli, int argc, char **argv, int (*help)(Cli *cli, int argc, char **argv),
                  CliSaveArgs *ret) {
        enum { ARG_FORMAT = 0x100, ARG_COMPRESS };
        static const struct option options[] = {
                {"compress", no_argument, NULL, ARG_COMPRESS},
                {"format", required_argument, NULL, ARG_FORMAT},
                {"multi-image-archive", no_argument, NULL, 'm'},
                {"output", required_argument, NULL, 'o'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        CliSaveArgs a = {.format = IMAGE_FORMAT_DOCKER_ARCHIVE, .format_name = "docker-archive"};
        bool multi = false;
        int c;

        while ((c = cli_getopt(cli, argc, argv, "mo:qh", options)) >= 0) {
                if (c == 'h') {
                        int r = help ? help(cli, argc, argv) : cli_command_help(cli, save_options);
                        return r == 0 ? -1 : r;
                }
                if (c == 'o')
                        a.output = optarg;
                else if (c == 'm')
                        multi = true;
                else if (c == ARG_FORMAT && cli_parse_save_format(a.format_name = optarg, &a.format) < 0)
                        return cli_error(CLI_EXIT_ERROR,
                                         "unsupported format \"%s\" (docker-archive, "
                                         "oci-archive, oci-dir)",
                                         optarg);
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        if (multi && a.format != IMAGE_FORMAT_DOCKER_ARCHIVE)
                return cli_error(CLI_EXIT_ERROR,
                                 "--multi-image-archive can only be used with docker-archive");
        if (!a.output && a.format == IMAGE_FORMAT_OCI_DIR)
                return cli_error(CLI_EXIT_ERROR, "--output is required for %s", a.format_name);
        *ret = a;
        return 0;
}

int cmd_save(Cli *cli, int argc, char **argv) {
        CliSaveArgs a;
        CpodError err = {};
        Engine *e;
        int r = cli_save_args(cli, argc, argv, NULL, &a);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if ((!a.output || streq(a.output, "-")) && isatty(STDOUT_FILENO))
                return cli_error(CLI_EXIT_ERROR, "refusing to save to terminal. Use -o flag or redirect");
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        fflush(stdout);
        r = image_save(e, (const char *const *)argv + optind, argc - optind, a.format, a.output ?: "-",
                       &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

static const char import_options[] =
        "  -c, --change stringArray   Apply the following possible instructions to the created image "
        "(default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | STOPSIGNAL | USER | VOLUME | WORKDIR\n"
        "  -m, --message string       Set commit message for imported image\n"
        "  -q, --quiet                Suppress output\n";

int cmd_import(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"change", required_argument, NULL, 'c'},
                {"message", required_argument, NULL, 'm'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_free_ const char **changes = NULL;
        size_t n_changes = 0, cap = 0;
        const char *message = NULL;
        CpodError err = {};
        char id[65];
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "c:m:qh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, import_options);
                if (c == 'm')
                        message = optarg;
                else if (c == 'c') {
                        if (VL_GROW(changes, cap, n_changes + 1) < 0)
                                return cli_error(CLI_EXIT_ERROR, "out of memory");
                        changes[n_changes++] = optarg;
                }
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 2) < 0)
                return CLI_EXIT_ERROR;
        if (streq(argv[optind], "-") && isatty(STDIN_FILENO))
                return cli_error(CLI_EXIT_ERROR, "cannot read from terminal, use command-line redirection");
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = image_import(e, argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL, message, changes,
                         n_changes, id, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        printf("sha256:%s\n", id);
        return CLI_EXIT_OK;
}

int cmd_image_export(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"output", required_argument, NULL, 'o'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *output = NULL;
        CpodError err = {};
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "o:h", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, "  -o, --output string   Write to a specified file "
                                                     "(default: stdout, which must be redirected)\n");
                if (c == 'o')
                        output = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        if ((!output || streq(output, "-")) && isatty(STDOUT_FILENO))
                return cli_error(CLI_EXIT_ERROR, "refusing to export to terminal. Use -o flag or redirect");
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        fflush(stdout);
        r = image_export(e, argv[optind], output ?: "-", &err);
        if (r == -ENOENT)
                return cli_image_error(argv[optind], &err, r);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}
