/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <getopt.h>

#include "varlink-tool.h"

typedef struct CallOptions {
        unsigned flags; /* VL_CALL_* */
        bool collect;
        bool quiet;
        CliJsonMode mode;
        const char **graceful; /* error names that count as success */
        size_t n_graceful;
} CallOptions;

static int parse_options(Cli *cli, CallOptions *o, int argc, char **argv) {
        enum { ARG_COLLECT = 0x100, ARG_ONEWAY, ARG_UPGRADE, ARG_GRACEFUL };
        static const struct option options[] = {
                {"more", no_argument, NULL, 'm'},
                {"collect", no_argument, NULL, ARG_COLLECT},
                {"oneway", no_argument, NULL, ARG_ONEWAY},
                {"upgrade", no_argument, NULL, ARG_UPGRADE},
                {"timeout", required_argument, NULL, 't'},
                {"json", required_argument, NULL, 'j'},
                {"quiet", no_argument, NULL, 'q'},
                {"graceful", required_argument, NULL, ARG_GRACEFUL},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        /* Each --graceful takes an argument, so argc bounds their number. */
        o->graceful = calloc((size_t)argc, sizeof(char *));
        if (!o->graceful)
                return -cli_call_failed("call", -ENOMEM);
        while ((c = getopt_long(argc, argv, "mt:j:qh", options, NULL)) >= 0) {
                switch (c) {
                case 'm':
                        o->flags |= VL_CALL_MORE;
                        break;
                case ARG_COLLECT:
                        o->flags |= VL_CALL_MORE;
                        o->collect = true;
                        break;
                case ARG_ONEWAY:
                        o->flags |= VL_CALL_ONEWAY;
                        break;
                case ARG_UPGRADE:
                        o->flags |= VL_CALL_UPGRADE;
                        break;
                case 't':
                        if (cli_parse_timeout(optarg, &cli->timeout_usec) < 0) {
                                fprintf(stderr, "varlink: invalid timeout: %s\n", optarg);
                                return -CLI_EXIT_INVALID_ARGUMENT;
                        }
                        break;
                case 'j':
                        if (cli_parse_json_mode(optarg, &o->mode) < 0)
                                return -CLI_EXIT_INVALID_ARGUMENT;
                        break;
                case 'q':
                        o->quiet = true;
                        break;
                case ARG_GRACEFUL:
                        o->graceful[o->n_graceful++] = optarg;
                        break;
                case 'h':
                        cli_command_usage(cli_find_command(argv[0]), stdout);
                        return 0;
                default:
                        return -CLI_EXIT_INVALID_ARGUMENT;
                }
        }
        if (__builtin_popcount(o->flags) > 1) {
                fprintf(stderr, "varlink: --more/--collect, --oneway and --upgrade exclude each other\n");
                return -CLI_EXIT_INVALID_ARGUMENT;
        }
        return 1;
}

/* The parameters as given ("-": standard input), checked here so that a typo is reported as such and
 * not as whatever the service makes of it. */
static int read_parameters(const char *arg, VlJson **ret) {
        _cleanup_free_ char *text = NULL;
        VlJsonError err = {};
        size_t len;
        int r;

        *ret = NULL;
        if (!arg)
                return CLI_EXIT_OK;
        if (streq(arg, "-")) {
                r = cli_read_fd(STDIN_FILENO, &text, &len);
                if (r < 0) {
                        fprintf(stderr, "varlink: cannot read standard input: %s\n", strerror(-r));
                        return CLI_EXIT_PANIC;
                }
                arg = text;
        } else
                len = strlen(arg);
        r = vl_json_parse(arg, len, NULL, ret, &err);
        if (r == -ENOMEM)
                return cli_call_failed("call", r);
        if (r < 0) {
                fprintf(stderr, "varlink: invalid JSON parameters: %u:%u: %s\n", err.line, err.column,
                        err.message);
                return CLI_EXIT_INVALID_JSON;
        }
        if (vl_json_type(*ret) != VL_JSON_OBJECT) {
                fprintf(stderr, "varlink: the parameters must be a JSON object, not %s\n",
                        vl_json_type_name(vl_json_type(*ret)));
                *ret = vl_json_unref(*ret);
                return CLI_EXIT_INVALID_JSON;
        }
        return CLI_EXIT_OK;
}

static int print_reply(const CallOptions *o, const VlJson *params) {
        _cleanup_json_ VlJson *empty = NULL;

        if (o->quiet)
                return CLI_EXIT_OK;
        if (!params && !(params = empty = vl_json_new_object()))
                return cli_call_failed("call", -ENOMEM);
        if (cli_print_json(params, o->mode) < 0 || fflush(stdout) != 0) {
                fprintf(stderr, "varlink: cannot write the reply: %s\n", strerror(errno));
                return CLI_EXIT_PANIC;
        }
        return CLI_EXIT_OK;
}

static int handle_error(const CallOptions *o, const char *method, const char *error, const VlJson *params) {
        int r;

        for (size_t i = 0; i < o->n_graceful; i++)
                if (streq(o->graceful[i], error))
                        return print_reply(o, params);
        r = print_reply(o, params);
        fprintf(stderr, "varlink: call %s() failed: %s\n", method, error);
        return r == CLI_EXIT_OK ? CLI_EXIT_REMOTE_ERROR : r;
}

/* Every reply of a "more" call, printed as it comes or gathered into one array. */
static int stream_replies(VlClient *c, const CallOptions *o, const char *what, const char *method,
                          VlJson *first) {
        _cleanup_json_ VlJson *all = NULL, *reply = vl_json_ref(first);
        bool continues = vl_client_continues(c);
        const char *error = NULL;
        int r;

        if (o->collect && !(all = vl_json_new_array()))
                return cli_call_failed(what, -ENOMEM);
        for (;;) {
                if (o->collect) {
                        if (vl_json_array_append(all, reply ? vl_json_ref(reply) : vl_json_new_object()) < 0)
                                return cli_call_failed(what, -ENOMEM);
                } else {
                        r = print_reply(o, reply);
                        if (r != CLI_EXIT_OK)
                                return r;
                }
                reply = vl_json_unref(reply);
                if (!continues)
                        break;
                r = vl_client_next(c, &reply, &error, &continues);
                if (r < 0)
                        return cli_call_failed(what, r);
                if (error)
                        return handle_error(o, method, error, reply);
        }
        return o->collect ? print_reply(o, all) : CLI_EXIT_OK;
}

static int upgrade(VlClient *c, const char *what) {
        _cleanup_free_ char *pending = NULL;
        size_t n_pending = 0;
        int fd, r;

        r = vl_client_take_upgraded(c, &fd, &pending, &n_pending);
        if (r < 0)
                return cli_call_failed(what, r);
        fflush(stdout);
        r = cli_proxy(STDIN_FILENO, STDOUT_FILENO, fd, pending, n_pending);
        close(fd);
        if (r < 0) {
                fprintf(stderr, "varlink: %s: upgraded connection failed: %s\n", what, strerror(-r));
                return CLI_EXIT_CALL_FAILED;
        }
        return CLI_EXIT_OK;
}

static int do_call(Cli *cli, const CallOptions *o, const CliTarget *t, const VlJson *params) {
        _cleanup_client_ VlClient *c = NULL;
        _cleanup_json_ VlJson *reply = NULL;
        _cleanup_free_ char *method = NULL;
        const char *error = NULL;
        char what[512];
        int r;

        if (asprintf(&method, "%s.%s", t->interface, t->member) < 0)
                return cli_call_failed("call", -ENOMEM);
        snprintf(what, sizeof what, "call %s()", method);
        r = cli_connect(cli, t->address, t->interface, &c);
        if (r != CLI_EXIT_OK)
                return r;

        r = vl_client_call(c, method, params, o->flags, &reply, &error);
        if (r < 0)
                return cli_call_failed(what, r);
        if (o->flags & VL_CALL_ONEWAY)
                return CLI_EXIT_OK;
        if (error)
                return handle_error(o, method, error, reply);
        if (o->flags & VL_CALL_UPGRADE)
                return upgrade(c, what);
        if (o->flags & VL_CALL_MORE)
                return stream_replies(c, o, what, method, reply);
        return print_reply(o, reply);
}

int cmd_call(Cli *cli, int argc, char **argv) {
        _cleanup_json_ VlJson *params = NULL;
        CallOptions o = {.mode = CLI_JSON_PRETTY};
        CliTarget t = {};
        int r, consumed = 0;

        r = parse_options(cli, &o, argc, argv);
        if (r <= 0) {
                free(o.graceful);
                return -r;
        }
        argc -= optind;
        argv += optind;
        r = cli_target_method(argc, argv, &t, &consumed);
        if (r == CLI_EXIT_OK && argc - consumed > 1) {
                fprintf(stderr, "varlink: unexpected argument '%s'\n", argv[consumed + 1]);
                r = CLI_EXIT_INVALID_ARGUMENT;
        }
        if (r == CLI_EXIT_OK)
                r = read_parameters(consumed < argc ? argv[consumed] : NULL, &params);
        if (r == CLI_EXIT_OK)
                r = do_call(cli, &o, &t, params);
        cli_target_done(&t);
        free(o.graceful);
        return r;
}
