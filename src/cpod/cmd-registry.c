/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod pull, push, login, logout, search and manifest inspect: the registry commands. */
#include <inttypes.h>
#include <string.h>
#include <sys/time.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cmd-registry.h"
#include "output.h"
#include "registry.h"

const CliCommand cli_manifest_commands[] = {
        {"inspect", "[options] IMAGE", "Display the contents of a manifest list or image index",
         cmd_manifest_inspect, NULL},
        {},
};

/* ---- options shared by the registry commands ---- */

enum {
        ARG_AUTHFILE = 0x200,
        ARG_CERT_DIR,
        ARG_CREDS,
        ARG_TLS_VERIFY,
        ARG_PLATFORM,
        ARG_ARCH,
        ARG_OS,
        ARG_VARIANT,
        ARG_ALL_TAGS,
        ARG_LIMIT,
        ARG_LIST_TAGS,
        ARG_FORMAT,
        ARG_PASSWORD_STDIN,
        ARG_DIGESTFILE,
        ARG_NO_TRUNC,
        ARG_IGNORED,
};

#define REGISTRY_LONGOPTS                                                  \
        {"authfile", required_argument, NULL, ARG_AUTHFILE},               \
                {"cert-dir", required_argument, NULL, ARG_CERT_DIR},       \
                {"creds", required_argument, NULL, ARG_CREDS},             \
                {"tls-verify", optional_argument, NULL, ARG_TLS_VERIFY}, { \
                "help", no_argument, NULL, 'h'                             \
        }

#define REGISTRY_HELP                                                                                  \
        "      --authfile string    Path of the authentication file\n"                                 \
        "      --cert-dir string    Use certificates at the specified path to access the registry\n"   \
        "      --creds string       Use `[username[:password]]` for accessing the registry\n"          \
        "      --tls-verify         Require HTTPS and verify certificates when contacting registries " \
        "(default "                                                                                    \
        "true)\n"

/* 1 when c was a registry option (stored in o), 0 when not, -1 after printing an error. */
static int registry_option(int c, RegistryOptions *o) {
        bool b;
        switch (c) {
        case ARG_AUTHFILE:
                o->authfile = optarg;
                return 1;
        case ARG_CERT_DIR:
                o->cert_dir = optarg;
                return 1;
        case ARG_CREDS:
                o->creds = optarg;
                return 1;
        case ARG_TLS_VERIFY:
                if (cli_parse_bool(optarg, &b) < 0) {
                        cli_error(CLI_EXIT_ERROR, "invalid argument \"%s\" for \"--tls-verify\" flag",
                                  optarg);
                        return -1;
                }
                o->tls_verify = b;
                return 1;
        default:
                return 0;
        }
}

static void registry_options_init(Cli *cli, RegistryOptions *o) {
        *o = (RegistryOptions){.tls_verify = -1, .registries_conf = cli->options.registries_conf};
}

/* ---- progress ---- */

#define BARS_MAX 64

typedef struct Bar {
        char digest[DIGEST_MAX];
        uint64_t done, total;
        double start;
        bool finished;
} Bar;

typedef struct Progress {
        bool tty;
        Bar bars[BARS_MAX];
        size_t n_bars, drawn; /* drawn: lines of bars on screen below the last message */
        double last_draw;
} Progress;

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human(double v, char *buf, size_t n) {
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        size_t u = 0;
        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        snprintf(buf, n, u ? "%.1f%s" : "%.0f%s", v, units[u]);
}

static void bar_line(const Bar *b, double t) {
        char done[32], total[32], rate[32];
        unsigned width = 30,
                 fill = b->total ? (unsigned)(width * (double)b->done / (double)b->total) : width;
        double dt = t - b->start;
        human((double)b->done, done, sizeof(done));
        human((double)b->total, total, sizeof(total));
        human(dt > 0.001 ? (double)b->done / dt : 0, rate, sizeof(rate));
        fprintf(stderr, "\rCopying blob %.12s [", digest_hex(b->digest) ? digest_hex(b->digest) : b->digest);
        for (unsigned i = 0; i < width; i++)
                fputc(i < fill ? '=' : i == fill ? '>' : '-', stderr);
        fprintf(stderr, "] %s / %s", done, total);
        if (b->finished)
                fprintf(stderr, " done\033[K\n");
        else
                fprintf(stderr, " (%s/s)\033[K\n", rate);
}

static void bars_draw(Progress *p) {
        double t = now_s();
        if (p->drawn)
                fprintf(stderr, "\033[%zuA", p->drawn);
        for (size_t i = 0; i < p->n_bars; i++)
                bar_line(&p->bars[i], t);
        p->drawn = p->n_bars;
        p->last_draw = t;
        fflush(stderr);
}

static void on_message(const char *line, void *userdata) {
        Progress *p = userdata;
        /* Bars stay where they are; later ones start below the message. */
        p->n_bars = p->drawn = 0;
        fprintf(stderr, "%s\n", line);
}

static void on_progress(const char *digest, uint64_t done, uint64_t total, void *userdata) {
        Progress *p = userdata;
        Bar *b = NULL;
        for (size_t i = 0; i < p->n_bars; i++)
                if (streq(p->bars[i].digest, digest))
                        b = &p->bars[i];
        if (!p->tty) {
                if (done == total)
                        fprintf(stderr, "Copying blob %s done\n", digest);
                return;
        }
        if (!b) {
                if (p->n_bars == BARS_MAX)
                        p->n_bars = p->drawn = 0;
                b = &p->bars[p->n_bars++];
                *b = (Bar){.start = now_s()};
                snprintf(b->digest, sizeof(b->digest), "%s", digest);
        }
        b->done = done;
        b->total = total;
        b->finished = done == total;
        if (b->finished || now_s() - p->last_draw > 0.1)
                bars_draw(p);
}

static void progress_setup(Progress *p, bool quiet, RegistryProgress *rp) {
        *p = (Progress){.tty = isatty(STDERR_FILENO)};
        *rp = quiet ? (RegistryProgress){} : (RegistryProgress){on_message, on_progress, p};
}

/* ---- pull ---- */

static const char pull_options[] =
        "  -a, --all-tags           All tagged images in the repository will be pulled\n"
        "      --arch string        Use ARCH instead of the architecture of the machine for choosing "
        "images\n" REGISTRY_HELP
        "      --os string          Use OS instead of the running OS for choosing images\n"
        "      --platform string    Specify the platform for selecting the image (OS/ARCH[/VARIANT])\n"
        "  -q, --quiet              Suppress output information when pulling images\n"
        "      --variant string     Use VARIANT instead of the running architecture variant for choosing "
        "images\n";

int cli_parse_platform(const char *s, char *buf, size_t n, RegistryOptions *o) {
        snprintf(buf, n, "%s", s);
        char *a = strchr(buf, '/'), *v = a ? strchr(a + 1, '/') : NULL;
        if (!a || a == buf || !a[1])
                return -EINVAL;
        *a++ = 0;
        if (v) {
                *v++ = 0;
                if (!*v)
                        return -EINVAL;
                o->variant = v;
        }
        o->os = buf;
        o->arch = a;
        return 0;
}

int cmd_pull(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                REGISTRY_LONGOPTS,
                {"all-tags", no_argument, NULL, 'a'},
                {"arch", required_argument, NULL, ARG_ARCH},
                {"os", required_argument, NULL, ARG_OS},
                {"variant", required_argument, NULL, ARG_VARIANT},
                {"platform", required_argument, NULL, ARG_PLATFORM},
                {"quiet", no_argument, NULL, 'q'},
                {"disable-content-trust", optional_argument, NULL, ARG_IGNORED},
                {},
        };
        PullOptions o = {};
        Progress prog;
        bool quiet = false;
        char platform[256];
        Engine *e;
        int c, k;

        registry_options_init(cli, &o.registry);
        while ((c = cli_getopt(cli, argc, argv, "aqh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, pull_options);
                if ((k = registry_option(c, &o.registry)) < 0)
                        return CLI_EXIT_ERROR;
                if (k > 0)
                        continue;
                if (c == 'a')
                        o.all_tags = true;
                else if (c == 'q')
                        quiet = true;
                else if (c == ARG_ARCH)
                        o.registry.arch = optarg;
                else if (c == ARG_OS)
                        o.registry.os = optarg;
                else if (c == ARG_VARIANT)
                        o.registry.variant = optarg;
                else if (c == ARG_PLATFORM &&
                         cli_parse_platform(optarg, platform, sizeof(platform), &o.registry) < 0)
                        return cli_error(
                                CLI_EXIT_ERROR,
                                "invalid platform syntax for --platform=\"%s\": use OS/ARCH[/VARIANT]",
                                optarg);
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        progress_setup(&prog, quiet, &o.progress);
        for (int i = optind; i < argc; i++) {
                CpodError err = {};
                char **ids = NULL;
                size_t n = 0;
                int r = image_pull(e, argv[i], &o, &ids, &n, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                for (size_t j = 0; j < n; j++)
                        printf("%s\n", ids[j]);
                registry_strv_free(ids, n);
        }
        return CLI_EXIT_OK;
}

/* ---- push ---- */

static const char push_options[] = REGISTRY_HELP
        "      --digestfile string  Write the digest of the pushed image to the specified file\n"
        "  -q, --quiet              Suppress output information when pushing images\n";

int cmd_push(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                REGISTRY_LONGOPTS,
                {"quiet", no_argument, NULL, 'q'},
                {"digestfile", required_argument, NULL, ARG_DIGESTFILE},
                {"disable-content-trust", optional_argument, NULL, ARG_IGNORED},
                {"remove-signatures", no_argument, NULL, ARG_IGNORED},
                {},
        };
        PushOptions o = {};
        Progress prog;
        const char *digestfile = NULL, *chunk = getenv("CPOD_PUSH_CHUNK_SIZE");
        char digest[DIGEST_MAX] = "";
        CpodError err = {};
        bool quiet = false;
        Engine *e;
        int c, k, r;

        registry_options_init(cli, &o.registry);
        while ((c = cli_getopt(cli, argc, argv, "qh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, push_options);
                if ((k = registry_option(c, &o.registry)) < 0)
                        return CLI_EXIT_ERROR;
                if (c == 'q')
                        quiet = true;
                else if (c == ARG_DIGESTFILE)
                        digestfile = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 2) < 0)
                return CLI_EXIT_ERROR;
        /* Chunked uploads (PATCH) of this many bytes; for registries that limit request sizes. */
        if (chunk && *chunk)
                o.chunk_size = strtoull(chunk, NULL, 10);
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        progress_setup(&prog, quiet, &o.progress);
        r = image_push(e, argv[optind], argc - optind > 1 ? argv[optind + 1] : NULL, &o, digest, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        if (digestfile && *digest) {
                FILE *f = fopen(digestfile, "we");
                if (!f || fputs(digest, f) < 0 || fclose(f) != 0)
                        return cli_error(CLI_EXIT_ERROR, "failed to write digest to file \"%s\": %m",
                                         digestfile);
        }
        return CLI_EXIT_OK;
}

/* ---- login / logout ---- */

static const char login_options[] =
        "      --authfile string    Path of the authentication file\n"
        "      --cert-dir string    Use certificates at the specified path to access the registry\n"
        "  -p, --password string    Password for registry\n"
        "      --password-stdin     Take the password from stdin\n"
        "      --tls-verify         Require HTTPS and verify certificates when contacting registries "
        "(default "
        "true)\n"
        "  -u, --username string    Username for registry\n";

/* A line from f without its newline (malloc'ed). */
static char *read_line(FILE *f) {
        char *line = NULL;
        size_t n = 0;
        ssize_t k = getline(&line, &n, f);
        if (k < 0) {
                free(line);
                return strdup("");
        }
        while (k > 0 && (line[k - 1] == '\n' || line[k - 1] == '\r'))
                line[--k] = 0;
        return line;
}

static char *prompt_password(void) {
        struct termios old, quiet;
        bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
        fputs("Password: ", stderr);
        if (tty) {
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t)ECHO;
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
        char *p = read_line(stdin);
        if (tty) {
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
                fputc('\n', stderr);
        }
        return p;
}

int cmd_login(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                REGISTRY_LONGOPTS,
                {"username", required_argument, NULL, 'u'},
                {"password", required_argument, NULL, 'p'},
                {"password-stdin", no_argument, NULL, ARG_PASSWORD_STDIN},
                {"get-login", no_argument, NULL, ARG_IGNORED},
                {},
        };
        RegistryOptions o;
        _cleanup_free_ char *user_buf = NULL, *pass_buf = NULL;
        const char *user = NULL, *pass = NULL;
        bool pass_stdin = false;
        CpodError err = {};
        int c, k;

        registry_options_init(cli, &o);
        while ((c = cli_getopt(cli, argc, argv, "u:p:h", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, login_options);
                if ((k = registry_option(c, &o)) < 0)
                        return CLI_EXIT_ERROR;
                if (c == 'u')
                        user = optarg;
                else if (c == 'p')
                        pass = optarg;
                else if (c == ARG_PASSWORD_STDIN)
                        pass_stdin = true;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        if (pass_stdin && pass)
                return cli_error(CLI_EXIT_ERROR, "--password and --password-stdin are mutually exclusive");
        if (o.creds) {
                const char *colon = strchr(o.creds, ':');
                user_buf = colon ? strndup(o.creds, (size_t)(colon - o.creds)) : strdup(o.creds);
                user = user_buf;
                pass = colon ? colon + 1 : NULL;
                o.creds = NULL;
        }
        if (pass_stdin) {
                if (!user)
                        return cli_error(CLI_EXIT_ERROR, "username is required with --password-stdin");
                pass = pass_buf = read_line(stdin);
        }
        if (!user) {
                if (!isatty(STDIN_FILENO))
                        return cli_error(CLI_EXIT_ERROR, "username is required (use -u or --creds)");
                fputs("Username: ", stderr);
                user = user_buf = read_line(stdin);
        }
        if (!pass)
                pass = pass_buf = prompt_password();
        if (!user || !pass)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        k = registry_login(argv[optind], user, pass, &o, &err);
        if (k < 0)
                return cli_engine_error(&err, k);
        printf("Login Succeeded!\n");
        return CLI_EXIT_OK;
}

int cmd_logout(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"authfile", required_argument, NULL, ARG_AUTHFILE},
                {"all", no_argument, NULL, 'a'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        RegistryOptions o;
        bool all = false;
        CpodError err = {};
        int c, r;

        registry_options_init(cli, &o);
        while ((c = cli_getopt(cli, argc, argv, "ah", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(
                                cli, "  -a, --all                Remove the cached credentials for all "
                                     "registries in "
                                     "the auth file\n"
                                     "      --authfile string    Path of the authentication file\n");
                if (c == 'a')
                        all = true;
                else if (c == ARG_AUTHFILE)
                        o.authfile = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, all ? 0 : 1, all ? 0 : 1) < 0)
                return CLI_EXIT_ERROR;
        r = registry_logout(all ? NULL : argv[optind], &o, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        if (all)
                printf("Removed login credentials for all registries\n");
        else
                printf("Removed login credentials for %s\n", argv[optind]);
        return CLI_EXIT_OK;
}

/* ---- search ---- */

static const char search_options[] =
        REGISTRY_HELP "      --format string      Change the output format to JSON or a Go template\n"
                      "      --limit int          Limit the number of results\n"
                      "      --list-tags          List the tags of the input registry\n"
                      "      --no-trunc           Do not truncate the output\n";

static int search_rows(const SearchResult *v, size_t n, bool list_tags, VlJson **ret) {
        VlJson *rows = vl_json_new_array();
        if (!rows)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                VlJson *row = vl_json_new_object();
                const char *slash = strchr(v[i].name, '/');
                _cleanup_free_ char *index = strndup(v[i].name, slash ? (size_t)(slash - v[i].name) : 0);
                if (!row || !index || vl_json_array_append(rows, row) < 0 ||
                    vl_json_object_set_string(row, "Index", index) < 0 ||
                    vl_json_object_set_string(row, "Name", v[i].name) < 0 ||
                    vl_json_object_set_string(row, "Description", "") < 0 ||
                    vl_json_object_set_int(row, "Stars", 0) < 0 ||
                    vl_json_object_set_string(row, "Official", "") < 0 ||
                    vl_json_object_set_string(row, "Automated", "") < 0 ||
                    (list_tags && vl_json_object_set_string(row, "Tag", v[i].tag) < 0)) {
                        vl_json_unref(rows);
                        return -ENOMEM;
                }
        }
        *ret = rows;
        return 0;
}

int cli_search_print(const Output *out, const SearchResult *v, size_t n, bool list_tags, CpodError *err) {
        static const OutputColumn cols[] = {
                {"Name", "NAME", false},        {"Description", "DESCRIPTION", false},
                {"Index", "INDEX", true},       {"Stars", "STARS", true},
                {"Official", "OFFICIAL", true}, {"Automated", "AUTOMATED", true},
                {"Tag", "TAG", true},           {},
        };
        static const OutputColumn tag_cols[] = {{"Name", "NAME", false}, {"Tag", "TAG", false}, {}};
        _cleanup_(vl_json_unrefp) VlJson *rows = NULL;

        if (search_rows(v, n, list_tags, &rows) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        return output_print(out, list_tags ? tag_cols : cols, rows, NULL, err);
}

int cmd_search(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                REGISTRY_LONGOPTS,
                {"format", required_argument, NULL, ARG_FORMAT},
                {"limit", required_argument, NULL, ARG_LIMIT},
                {"list-tags", no_argument, NULL, ARG_LIST_TAGS},
                {"no-trunc", no_argument, NULL, ARG_NO_TRUNC},
                {"filter", required_argument, NULL, ARG_IGNORED},
                {},
        };
        RegistryOptions o;
        Output out = {};
        bool list_tags = false;
        size_t limit = 0;
        SearchResult *v = NULL;
        size_t n = 0;
        CpodError err = {};
        int c, r;

        registry_options_init(cli, &o);
        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, search_options);
                if ((r = registry_option(c, &o)) < 0)
                        return CLI_EXIT_ERROR;
                if (c == ARG_FORMAT)
                        out.format = optarg;
                else if (c == ARG_LIST_TAGS)
                        list_tags = true;
                else if (c == ARG_LIMIT) {
                        char *end;
                        long long l = strtoll(optarg, &end, 10);
                        if (*end || l < 0)
                                return cli_error(CLI_EXIT_ERROR,
                                                 "invalid argument \"%s\" for \"--limit\" flag", optarg);
                        limit = (size_t)l;
                }
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        r = registry_search(argv[optind], &o, list_tags, limit, &v, &n, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        r = cli_search_print(&out, v, n, list_tags, &err);
        search_results_free(v, n);
        if (r < 0)
                return cli_engine_error(&err, r);
        return CLI_EXIT_OK;
}

/* ---- manifest inspect ---- */

int cmd_manifest_inspect(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                REGISTRY_LONGOPTS,
                {},
        };
        _cleanup_free_ char *body = NULL;
        _cleanup_(vl_json_unrefp) VlJson *j = NULL;
        RegistryOptions o;
        CpodError err = {};
        size_t len = 0;
        int c, r;

        registry_options_init(cli, &o);
        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, REGISTRY_HELP);
                if (registry_option(c, &o) < 0)
                        return CLI_EXIT_ERROR;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        r = registry_inspect_manifest(argv[optind], &o, &body, &len, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        if (vl_json_parse(body, len, NULL, &j, NULL) >= 0 && output_json(j, 4) >= 0)
                return CLI_EXIT_OK;
        fwrite(body, 1, len, stdout);
        putchar('\n');
        return CLI_EXIT_OK;
}

/* ---- image exists --remote ---- */

int cli_image_exists_remote(Cli *cli, int argc, char **argv) {
        enum { ARG_REMOTE = 0x200 };
        static const struct option options[] = {
                {"remote", no_argument, NULL, ARG_REMOTE},
                REGISTRY_LONGOPTS,
                {},
        };
        _cleanup_free_ char *body = NULL;
        RegistryOptions o;
        CpodError err = {};
        size_t len = 0;
        int c, r;

        registry_options_init(cli, &o);
        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(
                                cli, "      --remote             Look for the image in its registry "
                                     "instead of local storage\n" REGISTRY_HELP);
                if (c != ARG_REMOTE && registry_option(c, &o) < 0)
                        return CLI_EXIT_ERROR;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        r = registry_inspect_manifest(argv[optind], &o, &body, &len, &err);
        if (r == -ENOENT)
                return CLI_EXIT_FAILURE;
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}
