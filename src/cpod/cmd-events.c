/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod events: read (and follow) the JSON-lines event log in <runroot>/events/events.log. */
#include <ctype.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "cmd-container.h"
#include "output.h"
#include "template.h"

typedef struct EventsArgs {
        bool stream;
        int64_t since, until; /* ns, 0 unbounded */
        const char *format;
        char **filters;
        size_t n_filters;
        Template *tmpl;
} EventsArgs;

/* A member by name, case-insensitively (the log's writer and podman spell them differently). */
static const VlJson *member(const VlJson *o, const char *const *names) {
        for (size_t i = 0; i < vl_json_object_length(o); i++)
                for (const char *const *n = names; *n; n++)
                        if (strcasecmp(vl_json_object_key(o, i), *n) == 0)
                                return vl_json_object_value(o, i);
        return NULL;
}

static const char *member_string(const VlJson *o, const char *const *names) {
        const char *s = vl_json_get_string(member(o, names));
        return s ? s : "";
}

static int64_t event_time(const VlJson *ev) {
        static const char *const nano[] = {"timeNano", "time_nano", NULL}, *const t[] = {"time", NULL};
        const VlJson *v = member(ev, nano);
        int64_t ns;

        if (v && vl_json_is_number(v))
                return vl_json_get_int(v);
        v = member(ev, t);
        if (v && vl_json_is_number(v)) {
                double d = vl_json_get_double(v);
                return d > 1e14 ? (int64_t)d : (int64_t)(d * 1e9);
        }
        if (vl_json_get_string(v) && cli_parse_time(vl_json_get_string(v), &ns) == 0)
                return ns;
        return 0;
}

static const char *const k_id[] = {"id", "ID", NULL}, *const k_name[] = {"name", NULL},
                         *const k_image[] = {"image", NULL}, *const k_status[] = {"status", "action", NULL},
                         *const k_type[] = {"type", NULL};

static bool filter_match(const VlJson *ev, const char *f) {
        const char *v;

        if ((v = startswith(f, "container=")))
                return startswith(member_string(ev, k_id), v) || streq(member_string(ev, k_name), v);
        if ((v = startswith(f, "event=")) || (v = startswith(f, "status=")))
                return streq(member_string(ev, k_status), v);
        if ((v = startswith(f, "image=")))
                return streq(member_string(ev, k_image), v) || startswith(member_string(ev, k_id), v);
        if ((v = startswith(f, "type=")))
                return streq(member_string(ev, k_type), v);
        return true;
}

static bool filters_match(const VlJson *ev, const EventsArgs *a) {
        for (size_t i = 0; i < a->n_filters; i++) {
                size_t klen = strcspn(a->filters[i], "=");
                bool any = false;
                for (size_t j = 0; j < a->n_filters && !any; j++)
                        if (strncmp(a->filters[j], a->filters[i], klen + 1) == 0)
                                any = filter_match(ev, a->filters[j]);
                if (!any)
                        return false;
        }
        return true;
}

static void format_time(int64_t ns, char *buf, size_t n) {
        time_t s = (time_t)(ns / 1000000000);
        struct tm tm;
        char date[32], zone[16];

        localtime_r(&s, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
        strftime(zone, sizeof(zone), "%z %Z", &tm);
        snprintf(buf, n, "%s.%09lld %s", date, (long long)(ns % 1000000000), zone);
}

/* podman's event document for --format json and templates. */
static VlJson *event_doc(const VlJson *ev, int64_t ns) {
        _cleanup_(vl_json_unrefp) VlJson *o = vl_json_new_object();
        static const char *const k_attr[] = {"attributes", NULL};
        const VlJson *attrs = member(ev, k_attr);
        char t[80];
        int r = o ? 0 : -ENOMEM;

        format_time(ns, t, sizeof(t));
        r = r ?: vl_json_object_set_string(o, "ID", member_string(ev, k_id));
        r = r ?: vl_json_object_set_string(o, "Image", member_string(ev, k_image));
        r = r ?: vl_json_object_set_string(o, "Name", member_string(ev, k_name));
        r = r ?: vl_json_object_set_string(o, "Status", member_string(ev, k_status));
        r = r ?: vl_json_object_set_string(o, "Time", t);
        r = r ?: vl_json_object_set_int(o, "TimeNano", ns);
        r = r ?: vl_json_object_set_string(o, "Type", member_string(ev, k_type));
        if (attrs && r == 0)
                r = vl_json_object_set(o, "Attributes", vl_json_copy(attrs));
        return r < 0 ? NULL : TAKE_PTR(o);
}

static int print_event(const VlJson *ev, int64_t ns, const EventsArgs *a) {
        _cleanup_(vl_json_unrefp) VlJson *doc = NULL;
        const char *image = member_string(ev, k_image), *name = member_string(ev, k_name);
        char t[80];

        if (a->format) {
                VlBuf b = VL_BUF_INIT;
                CpodError err = {};
                int r;
                if (!(doc = event_doc(ev, ns)))
                        return -ENOMEM;
                if (!a->tmpl) {
                        char *s = vl_json_to_string(doc, 0);
                        if (!s)
                                return -ENOMEM;
                        printf("%s\n", s);
                        free(s);
                        return 0;
                }
                r = template_render(a->tmpl, doc, &b, &err);
                if (r >= 0)
                        printf("%.*s\n", (int)b.len, b.data ? b.data : "");
                vl_buf_free(&b);
                return r < 0 ? cli_engine_error(&err, r) : 0;
        }
        format_time(ns, t, sizeof(t));
        printf("%s %s %s %s", t, member_string(ev, k_type), member_string(ev, k_status),
               member_string(ev, k_id));
        if (*image && *name)
                printf(" (image=%s, name=%s)", image, name);
        else if (*name)
                printf(" (name=%s)", name);
        else if (*image)
                printf(" (image=%s)", image);
        putchar('\n');
        return 0;
}

/* One line of the log; 1 when past --until (stop), 0 otherwise, <0 on error. */
static int handle_line(const char *line, size_t len, const EventsArgs *a) {
        _cleanup_(vl_json_unrefp) VlJson *ev = NULL;
        int64_t ns;

        if (len == 0 || vl_json_parse(line, len, NULL, &ev, NULL) < 0 || vl_json_type(ev) != VL_JSON_OBJECT)
                return 0; /* a torn or foreign line is skipped */
        ns = event_time(ev);
        if (a->since && ns < a->since)
                return 0;
        if (a->until && ns > a->until)
                return 1;
        if (!filters_match(ev, a))
                return 0;
        return print_event(ev, ns, a);
}

static int64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Read complete lines from f; keeps a partial last line in pending for the next round. */
static int read_lines(FILE *f, VlBuf *pending, const EventsArgs *a) {
        char chunk[8192];
        size_t n;
        int r = 0;

        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                if (vl_buf_append(pending, chunk, n) < 0)
                        return -ENOMEM;
        clearerr(f);
        size_t start = 0;
        for (size_t i = 0; i < pending->len && r == 0; i++)
                if (pending->data[i] == '\n') {
                        r = handle_line(pending->data + start, i - start, a);
                        start = i + 1;
                }
        memmove(pending->data, pending->data + start, pending->len - start);
        pending->len -= start;
        fflush(stdout);
        return r;
}

/* An inotify watch on the log's directory, or -1 (then the caller polls on a timer). */
static int watch_dir(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        int fd;

        if (!slash)
                return -1;
        *slash = 0;
        fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd < 0)
                return -1;
        if (inotify_add_watch(fd, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0)
                return safe_close(fd);
        return fd;
}

/* Sleep until the log may have grown: an inotify event, or at most the timeout. */
static void wait_change(int *fd, const char *path) {
        char buf[4096];

        if (*fd < 0)
                *fd = watch_dir(path);
        if (*fd < 0) {
                usleep(200000);
                return;
        }
        struct pollfd p = {.fd = *fd, .events = POLLIN};
        if (poll(&p, 1, 1000) > 0)
                while (read(*fd, buf, sizeof(buf)) > 0)
                        ;
}

static int follow_log(const char *path, const EventsArgs *a) {
        VlBuf pending = VL_BUF_INIT;
        FILE *f = NULL;
        int r = 0, wfd = -1;

        if (a->stream)
                wfd = watch_dir(path);
        for (;;) {
                if (!f)
                        f = fopen(path, "re");
                if (f && (r = read_lines(f, &pending, a)) != 0)
                        break;
                if (!a->stream) {
                        /* a last line without its newline still counts when the log is not followed */
                        if (pending.len > 0 && r == 0)
                                r = handle_line(pending.data, pending.len, a);
                        break;
                }
                if (a->until && now_ns() > a->until)
                        break;
                wait_change(&wfd, path);
        }
        if (f)
                fclose(f);
        safe_close(wfd);
        vl_buf_free(&pending);
        return r < 0 ? r : 0;
}

static const char events_help[] =
        "  -f, --filter stringArray   filter output\n"
        "      --format string        format the output using a Go template\n"
        "      --no-trunc             do not truncate the output (default true)\n"
        "      --since string         show all events created since timestamp\n"
        "      --stream               stream new events; for testing only (default "
        "true)\n"
        "      --until string         show all events created until timestamp\n";

static int parse_events(Cli *cli, int argc, char **argv, EventsArgs *a) {
        enum { ARG_FORMAT = 0x100, ARG_SINCE, ARG_UNTIL, ARG_STREAM, ARG_NO_TRUNC };
        static const struct option options[] = {
                {"filter", required_argument, NULL, 'f'},
                {"format", required_argument, NULL, ARG_FORMAT},
                {"since", required_argument, NULL, ARG_SINCE},
                {"until", required_argument, NULL, ARG_UNTIL},
                {"stream", optional_argument, NULL, ARG_STREAM},
                {"no-trunc", optional_argument, NULL, ARG_NO_TRUNC},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        a->stream = true;
        while ((c = cli_getopt(cli, argc, argv, "f:h", options)) >= 0) {
                switch (c) {
                case 'h':
                        return cli_command_help(cli, events_help) ?: -1;
                case 'f':
                        if (!strchr(optarg, '='))
                                return cli_error(CLI_EXIT_ERROR, "invalid filter \"%s\"", optarg);
                        if (strv_push(&a->filters, &a->n_filters, optarg) < 0)
                                return cli_error(CLI_EXIT_ERROR, "out of memory");
                        break;
                case ARG_FORMAT:
                        a->format = optarg;
                        break;
                case ARG_SINCE:
                case ARG_UNTIL:
                        if (cli_parse_time(optarg, c == ARG_SINCE ? &a->since : &a->until) < 0)
                                return cli_error(CLI_EXIT_ERROR, "invalid time \"%s\"", optarg);
                        break;
                case ARG_STREAM:
                        if (cli_parse_bool(optarg, &a->stream) < 0)
                                return cli_error(CLI_EXIT_ERROR, "invalid argument \"%s\" for \"--stream\"",
                                                 optarg);
                        break;
                }
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        return 0;
}

/* An event line from another source (remote mode), printed at once for a follower. */
static int source_line(const char *line, size_t len, void *userdata) {
        int r = handle_line(line, len, userdata);
        fflush(stdout);
        return r;
}

int cmd_events(Cli *cli, int argc, char **argv) {
        return cli_events(cli, argc, argv, NULL);
}

int cli_events(Cli *cli, int argc, char **argv, EventsSource source) {
        EventsArgs a = {};
        _cleanup_free_ char *path = NULL;
        CpodError err = {};
        Engine *e;
        int r;

        r = parse_events(cli, argc, argv, &a);
        if (r == 0 && a.format && !output_is_json(a.format)) {
                const char *rest = a.format;
                template_is_table(a.format, &rest);
                if (template_parse(rest, &a.tmpl, &err) < 0)
                        r = cli_engine_error(&err, -EINVAL);
        }
        if (r == 0 && source) {
                EventsQuery q = {.stream = a.stream, .since = a.since, .until = a.until};
                r = source(cli, &q, source_line, &a) < 0 ? CLI_EXIT_ERROR : 0;
                goto out;
        }
        if (r == 0 && !(e = cli_engine(cli)))
                r = CLI_EXIT_ERROR;
        if (r == 0 && asprintf(&path, "%s/events/events.log", engine_runroot(e)) < 0) {
                path = NULL;
                r = cli_error(CLI_EXIT_ERROR, "out of memory");
        }
        if (r == 0 && (r = follow_log(path, &a)) < 0)
                r = cli_error(CLI_EXIT_ERROR, "reading the event log: %s", strerror(-r));
out:
        template_free(a.tmpl);
        strv_free_n(a.filters, a.n_filters);
        return r < 0 ? CLI_EXIT_OK : r;
}
