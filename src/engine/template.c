/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "template.h"
#include "util.h"

#define TEMPLATE_MAX_SIZE   (64u * 1024u)
#define TEMPLATE_MAX_DEPTH  64u
#define TEMPLATE_MAX_STEPS  1000000u
#define TEMPLATE_MAX_OUTPUT (16u * 1024u * 1024u)

typedef enum ArgKind {
        ARG_FIELD,  /* .A.B, or "." with no fields */
        ARG_ROOT,   /* $ or $.A.B */
        ARG_STRING, /* "..." or `...` */
        ARG_INT,
        ARG_FLOAT,
        ARG_BOOL,
        ARG_NIL,
        ARG_FUNC,
        ARG_PIPE, /* ( pipeline ) */
} ArgKind;

typedef struct Pipe Pipe;

typedef struct Arg {
        ArgKind kind;
        char *s; /* string value or function name */
        size_t len;
        char **fields;
        size_t n_fields;
        int64_t i;
        double d;
        Pipe *pipe;
} Arg;

typedef struct Cmd {
        Arg *args;
        size_t n_args;
} Cmd;

struct Pipe {
        Cmd *cmds;
        size_t n_cmds;
};

typedef enum NodeKind { NODE_TEXT, NODE_ACTION, NODE_IF, NODE_RANGE, NODE_WITH } NodeKind;

typedef struct List List;
typedef struct Node Node;

struct List {
        Node **nodes;
        size_t n_nodes, cap;
};

struct Node {
        NodeKind kind;
        unsigned line, col;
        char *text; /* NODE_TEXT */
        size_t len;
        Pipe *pipe;
        List body, alt;
};

struct Template {
        List root;
};

/* ---- freeing ---- */

static void pipe_free(Pipe *p);

static void arg_done(Arg *a) {
        free(a->s);
        for (size_t i = 0; i < a->n_fields; i++)
                free(a->fields[i]);
        free(a->fields);
        pipe_free(a->pipe);
}

static void pipe_free(Pipe *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_cmds; i++) {
                for (size_t j = 0; j < p->cmds[i].n_args; j++)
                        arg_done(&p->cmds[i].args[j]);
                free(p->cmds[i].args);
        }
        free(p->cmds);
        free(p);
}

static void list_done(List *l);

static void node_free(Node *n) {
        if (!n)
                return;
        free(n->text);
        pipe_free(n->pipe);
        list_done(&n->body);
        list_done(&n->alt);
        free(n);
}

static void list_done(List *l) {
        for (size_t i = 0; i < l->n_nodes; i++)
                node_free(l->nodes[i]);
        free(l->nodes);
        *l = (List){};
}

Template *template_free(Template *t) {
        if (!t)
                return NULL;
        list_done(&t->root);
        free(t);
        return NULL;
}

/* ---- parsing ---- */

typedef struct Parser {
        const char *src, *p, *end;             /* whole text; cursor; end of the current action */
        const char *text_end, *close, *action; /* end of the text; after the current action's }} */
        CpodError *err;
        bool trim_next; /* the last action ended with " -}}" */
        unsigned depth;
} Parser;

static void position(const Parser *ps, const char *at, unsigned *ret_line, unsigned *ret_col) {
        unsigned line = 1, col = 1;

        for (const char *c = ps->src; c < at; c++) {
                if (*c == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        }
        *ret_line = line;
        *ret_col = col;
}

static int parse_error(Parser *ps, const char *at, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int parse_error(Parser *ps, const char *at, const char *fmt, ...) {
        char msg[256];
        unsigned line, col;
        va_list ap;

        position(ps, at, &line, &col);
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return cpod_error(ps->err, EINVAL, "template: %u:%u: %s", line, col, msg);
}

static int parse_oom(Parser *ps) {
        return cpod_error(ps->err, ENOMEM, "template: out of memory");
}

static int list_add(Parser *ps, List *l, Node *n) {
        if (VL_GROW(l->nodes, l->cap, l->n_nodes + 1) < 0) {
                node_free(n);
                return parse_oom(ps);
        }
        l->nodes[l->n_nodes++] = n;
        return 0;
}

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_ident(char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
               (!first && c >= '0' && c <= '9') || (unsigned char)c >= 0x80;
}

/* Text between actions, with podman's \t and \n escapes applied. */
static int add_text(Parser *ps, List *l, const char *s, size_t n, bool trim_right) {
        Node *node;
        char *o;

        if (ps->trim_next)
                while (n > 0 && is_space(*s))
                        s++, n--;
        ps->trim_next = false;
        if (trim_right)
                while (n > 0 && is_space(s[n - 1]))
                        n--;
        if (n == 0)
                return 0;
        node = calloc(1, sizeof(Node));
        if (!node || !(node->text = malloc(n + 1))) {
                free(node);
                return parse_oom(ps);
        }
        node->kind = NODE_TEXT;
        o = node->text;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\' && i + 1 < n && (s[i + 1] == 't' || s[i + 1] == 'n')) {
                        *o++ = s[++i] == 't' ? '\t' : '\n';
                        continue;
                }
                *o++ = s[i];
        }
        *o = 0;
        node->len = o - node->text;
        return list_add(ps, l, node);
}

/* Finds the "}}" closing the action that starts at s, skipping quoted strings. */
static const char *action_end(const char *s) {
        for (; *s; s++) {
                if (s[0] == '}' && s[1] == '}')
                        return s;
                if (*s == '"' || *s == '\'' || *s == '`') {
                        char q = *s++;
                        while (*s && *s != q) {
                                if (*s == '\\' && q != '`' && s[1])
                                        s++;
                                if (*s == '\n' && q != '`')
                                        return NULL;
                                s++;
                        }
                        if (!*s)
                                return NULL;
                }
        }
        return NULL;
}

static void skip_spaces(Parser *ps) {
        while (ps->p < ps->end && is_space(*ps->p))
                ps->p++;
}

static bool at_action_end(Parser *ps) {
        skip_spaces(ps);
        return ps->p >= ps->end;
}

static int parse_pipe(Parser *ps, Pipe **ret);

static int parse_fields(Parser *ps, Arg *a) {
        /* .A.B: each '.' followed by an identifier; a lone '.' means dot itself. */
        while (ps->p < ps->end && *ps->p == '.') {
                const char *s = ++ps->p;
                char **f;
                while (ps->p < ps->end && is_ident(*ps->p, ps->p == s))
                        ps->p++;
                if (ps->p == s) {
                        if (a->kind == ARG_FIELD && a->n_fields == 0 && s[-2] != '.' &&
                            (ps->p >= ps->end || is_space(*ps->p) || strchr("|)", *ps->p)))
                                return 0;
                        return parse_error(ps, s, "bad field name after '.'");
                }
                if (a->n_fields >= TEMPLATE_MAX_DEPTH)
                        return parse_error(ps, s, "field path too long");
                f = reallocarray(a->fields, a->n_fields + 1, sizeof(char *));
                if (!f)
                        return parse_oom(ps);
                a->fields = f;
                if (!(a->fields[a->n_fields] = strndup(s, ps->p - s)))
                        return parse_oom(ps);
                a->n_fields++;
        }
        return 0;
}

static const char *const functions[] = {
        "json",  "upper", "lower", "title", "truncate", "join", "printf", "print", "println", "len",
        "index", "eq",    "ne",    "lt",    "le",       "gt",   "ge",     "not",   "and",     "or",
};

static bool function_known(const char *name, size_t n) {
        for (size_t i = 0; i < ELEMENTSOF(functions); i++)
                if (strlen(functions[i]) == n && memcmp(functions[i], name, n) == 0)
                        return true;
        return false;
}

static int parse_quoted(Parser *ps, Arg *a) {
        char q = *ps->p++;
        VlBuf b = VL_BUF_INIT;

        while (ps->p < ps->end && *ps->p != q) {
                char c = *ps->p++;
                if (c == '\\' && q != '`' && ps->p < ps->end) {
                        static const char from[] = "ntr\\\"'0", to[] = "\n\t\r\\\"'\0";
                        const char *e = strchr(from, *ps->p);
                        if (!*ps->p || !e) {
                                vl_buf_free(&b);
                                return parse_error(ps, ps->p - 1, "unsupported escape sequence in string");
                        }
                        c = to[e - from];
                        ps->p++;
                }
                if (vl_buf_append_char(&b, c) < 0) {
                        vl_buf_free(&b);
                        return parse_oom(ps);
                }
        }
        if (ps->p >= ps->end) {
                vl_buf_free(&b);
                return parse_error(ps, ps->p, "unterminated quoted string");
        }
        ps->p++;
        if (vl_buf_append_char(&b, 0) < 0) {
                vl_buf_free(&b);
                return parse_oom(ps);
        }
        if (q == '\'') {
                /* A character constant is a number in Go. */
                a->kind = ARG_INT;
                a->i = (unsigned char)b.data[0];
                vl_buf_free(&b);
                return 0;
        }
        a->kind = ARG_STRING;
        a->s = b.data;
        a->len = b.len - 1;
        return 0;
}

static int parse_number_arg(Parser *ps, Arg *a) {
        const char *s = ps->p;
        char buf[64], *e;

        while (ps->p < ps->end && (is_ident(*ps->p, false) || strchr(".+-", *ps->p)))
                ps->p++;
        if ((size_t)(ps->p - s) >= sizeof(buf))
                return parse_error(ps, s, "number too long");
        memcpy(buf, s, ps->p - s);
        buf[ps->p - s] = 0;
        errno = 0;
        a->i = strtoll(buf, &e, 0);
        if (!*e && errno == 0) {
                a->kind = ARG_INT;
                return 0;
        }
        errno = 0;
        a->d = strtod(buf, &e);
        if (*e || errno || !isfinite(a->d) || strpbrk(buf, "xXpP"))
                return parse_error(ps, s, "bad number syntax: %s", buf);
        a->kind = ARG_FLOAT;
        return 0;
}

static int parse_arg(Parser *ps, Arg *a) {
        const char *s = ps->p;
        char c = *ps->p;
        int r;

        if (c == '.') {
                a->kind = ARG_FIELD;
                if (ps->p + 1 < ps->end && ps->p[1] >= '0' && ps->p[1] <= '9')
                        return parse_number_arg(ps, a);
                return parse_fields(ps, a);
        }
        if (c == '$') {
                a->kind = ARG_ROOT;
                ps->p++;
                if (ps->p < ps->end && is_ident(*ps->p, true))
                        return parse_error(ps, s, "variables other than $ are not supported");
                return parse_fields(ps, a);
        }
        if (c == '"' || c == '`' || c == '\'')
                return parse_quoted(ps, a);
        if ((c >= '0' && c <= '9') || c == '-' || c == '+')
                return parse_number_arg(ps, a);
        if (c == '(') {
                const char *saved_end = ps->end, *close;
                int level = 0;
                /* The matching ')' outside quotes bounds the sub-pipeline. */
                for (close = ps->p; close < ps->end; close++) {
                        if (*close == '"' || *close == '`' || *close == '\'') {
                                char q = *close++;
                                while (close < ps->end && *close != q)
                                        close += (*close == '\\' && q != '`') ? 2 : 1;
                                if (close >= ps->end)
                                        break;
                        } else if (*close == '(')
                                level++;
                        else if (*close == ')' && --level == 0)
                                break;
                }
                if (close >= ps->end)
                        return parse_error(ps, s, "unclosed left paren");
                if (++ps->depth > TEMPLATE_MAX_DEPTH)
                        return parse_error(ps, s, "nested too deeply");
                ps->p++;
                ps->end = close;
                a->kind = ARG_PIPE;
                r = parse_pipe(ps, &a->pipe);
                ps->end = saved_end;
                ps->depth--;
                if (r < 0)
                        return r;
                ps->p = close + 1;
                /* (index .Ports 0).Host */
                return parse_fields(ps, a);
        }
        if (is_ident(c, true)) {
                while (ps->p < ps->end && is_ident(*ps->p, false))
                        ps->p++;
                size_t n = ps->p - s;
                if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0)) {
                        a->kind = ARG_BOOL;
                        a->i = n == 4;
                        return 0;
                }
                if (n == 3 && memcmp(s, "nil", 3) == 0) {
                        a->kind = ARG_NIL;
                        return 0;
                }
                if (!function_known(s, n))
                        return parse_error(ps, s, "function \"%.*s\" not defined", (int)MIN(n, 64u), s);
                a->kind = ARG_FUNC;
                a->s = strndup(s, n);
                return a->s ? 0 : parse_oom(ps);
        }
        return parse_error(ps, s, "unexpected \"%c\" in command", c);
}

static int parse_cmd(Parser *ps, Cmd *cmd) {
        for (;;) {
                Arg *args;
                int r;

                skip_spaces(ps);
                if (ps->p >= ps->end || *ps->p == '|')
                        break;
                if (cmd->n_args >= 64)
                        return parse_error(ps, ps->p, "too many arguments");
                args = reallocarray(cmd->args, cmd->n_args + 1, sizeof(Arg));
                if (!args)
                        return parse_oom(ps);
                cmd->args = args;
                cmd->args[cmd->n_args] = (Arg){};
                r = parse_arg(ps, &cmd->args[cmd->n_args++]);
                if (r < 0)
                        return r;
                if (ps->p < ps->end && !is_space(*ps->p) && *ps->p != '|')
                        return parse_error(ps, ps->p, "unexpected \"%c\" in operand", *ps->p);
        }
        if (cmd->n_args == 0)
                return parse_error(ps, ps->p, "missing value for command");
        return 0;
}

static int parse_pipe(Parser *ps, Pipe **ret) {
        Pipe *p = calloc(1, sizeof(Pipe));
        int r = 0;

        if (!p)
                return parse_oom(ps);
        for (;;) {
                Cmd *c;
                if (p->n_cmds >= 64) {
                        r = parse_error(ps, ps->p, "pipeline too long");
                        break;
                }
                c = reallocarray(p->cmds, p->n_cmds + 1, sizeof(Cmd));
                if (!c) {
                        r = parse_oom(ps);
                        break;
                }
                p->cmds = c;
                p->cmds[p->n_cmds++] = (Cmd){};
                r = parse_cmd(ps, &p->cmds[p->n_cmds - 1]);
                if (r < 0 || ps->p >= ps->end)
                        break;
                ps->p++; /* | */
        }
        if (r < 0) {
                pipe_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

typedef enum Term { TERM_EOF, TERM_END, TERM_ELSE, TERM_ELSE_IF } Term;

static int parse_list(Parser *ps, List *l, Term *ret_term);

static bool keyword(Parser *ps, const char *kw) {
        size_t n = strlen(kw);

        if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, kw, n) != 0)
                return false;
        if (ps->p + n < ps->end && !is_space(ps->p[n]))
                return false;
        ps->p += n;
        return true;
}

/* {{if}}, {{range}}, {{with}}: the pipeline, then the body up to {{else}} or {{end}}. */
static int parse_control(Parser *ps, NodeKind kind, const char *start, Node **ret) {
        Node *n = calloc(1, sizeof(Node));
        Term term;
        int r;

        if (!n)
                return parse_oom(ps);
        n->kind = kind;
        position(ps, start, &n->line, &n->col);
        if (++ps->depth > TEMPLATE_MAX_DEPTH) {
                r = parse_error(ps, start, "nested too deeply");
                goto fail;
        }
        if (at_action_end(ps)) {
                r = parse_error(ps, start, "missing value for %s",
                                kind == NODE_IF      ? "if"
                                : kind == NODE_RANGE ? "range"
                                                     : "with");
                goto fail;
        }
        r = parse_pipe(ps, &n->pipe);
        if (r < 0)
                goto fail;
        ps->p = ps->close;
        r = parse_list(ps, &n->body, &term);
        if (r >= 0 && term == TERM_ELSE_IF) {
                /* {{else if x}} is {{else}}{{if x}}...{{end}}{{end}} sharing one {{end}}. */
                Node *inner = NULL;
                r = parse_control(ps, NODE_IF, ps->p, &inner);
                if (r >= 0)
                        r = list_add(ps, &n->alt, inner);
                term = TERM_END;
        } else if (r >= 0 && term == TERM_ELSE)
                r = parse_list(ps, &n->alt, &term);
        if (r >= 0 && term != TERM_END)
                r = parse_error(ps, start, "unexpected EOF: missing {{end}}");
        if (r < 0)
                goto fail;
        ps->depth--;
        *ret = n;
        return 0;
fail:
        node_free(n);
        return r;
}

static int parse_action(Parser *ps, List *l, const char *start, Term *ret_term) {
        Node *n;
        int r;

        skip_spaces(ps);
        if (keyword(ps, "end") || keyword(ps, "else")) {
                bool is_end = ps->p[-1] == 'd';
                if (is_end || !at_action_end(ps)) {
                        if (is_end && !at_action_end(ps))
                                return parse_error(ps, ps->p, "unexpected input after end");
                        if (!is_end && !keyword(ps, "if"))
                                return parse_error(ps, ps->p, "unexpected input after else");
                        *ret_term = is_end ? TERM_END : TERM_ELSE_IF;
                        return 0;
                }
                ps->p = ps->close;
                *ret_term = TERM_ELSE;
                return 0;
        }
        if (keyword(ps, "if"))
                r = parse_control(ps, NODE_IF, start, &n);
        else if (keyword(ps, "range"))
                r = parse_control(ps, NODE_RANGE, start, &n);
        else if (keyword(ps, "with"))
                r = parse_control(ps, NODE_WITH, start, &n);
        else if (keyword(ps, "define") || keyword(ps, "template") || keyword(ps, "block") ||
                 keyword(ps, "break") || keyword(ps, "continue"))
                return parse_error(ps, start, "this action is not supported");
        else {
                n = calloc(1, sizeof(Node));
                if (!n)
                        return parse_oom(ps);
                n->kind = NODE_ACTION;
                position(ps, start, &n->line, &n->col);
                r = parse_pipe(ps, &n->pipe);
                if (r < 0) {
                        node_free(n);
                        return r;
                }
                ps->p = ps->close;
        }
        if (r < 0)
                return r;
        return list_add(ps, l, n);
}

/* Sets ps->p/end/close around the action whose "{{" is at open. */
static int action_bounds(Parser *ps, const char *open, bool *ret_trim_left) {
        const char *content = open + 2, *end;

        *ret_trim_left = content[0] == '-' && is_space(content[1]);
        if (*ret_trim_left)
                content += 2;
        if (content[0] == '/' && content[1] == '*') {
                const char *c = strstr(content + 2, "*/");
                if (!c)
                        return parse_error(ps, open, "unclosed comment");
                end = c + 2;
                if (end[0] == ' ' && end[1] == '-' && end[2] == '}' && end[3] == '}')
                        end += 2;
                if (end[0] != '}' || end[1] != '}')
                        return parse_error(ps, open, "comment ends before closing delimiter");
                ps->p = ps->end = content; /* empty action */
        } else {
                end = action_end(content);
                if (!end)
                        return parse_error(ps, open, "unclosed action");
                ps->p = content;
                ps->end = end;
        }
        ps->close = end + 2;
        if (end - 2 >= content && end[-1] == '-' && is_space(end[-2])) {
                if (ps->end == end)
                        ps->end = end - 1;
                ps->trim_next = true;
        }
        return 0;
}

static int parse_list(Parser *ps, List *l, Term *ret_term) {
        for (;;) {
                const char *open = strstr(ps->p, "{{");
                bool trim_left;
                Term term = TERM_EOF;
                int r;

                if (!open) {
                        r = add_text(ps, l, ps->p, ps->text_end - ps->p, false);
                        if (r >= 0)
                                *ret_term = TERM_EOF;
                        return r;
                }
                trim_left = open[2] == '-' && is_space(open[3]);
                r = add_text(ps, l, ps->p, open - ps->p, trim_left);
                if (r < 0)
                        return r;
                r = action_bounds(ps, open, &trim_left);
                if (r < 0)
                        return r;
                if (ps->p == ps->end && open[2 + 2 * trim_left] == '/') {
                        ps->p = ps->close; /* a comment */
                        continue;
                }
                ps->action = open;
                r = parse_action(ps, l, open, &term);
                if (r < 0)
                        return r;
                if (term != TERM_EOF) {
                        if (term != TERM_ELSE_IF)
                                ps->p = ps->close;
                        *ret_term = term;
                        return 0;
                }
        }
}

int template_parse(const char *text, Template **ret, CpodError *err) {
        Parser ps = {.src = text, .p = text, .err = err};
        Template *t;
        Term term;
        size_t n = strlen(text);
        int r;

        if (n > TEMPLATE_MAX_SIZE)
                return cpod_error(err, E2BIG, "template: longer than %u bytes", TEMPLATE_MAX_SIZE);
        ps.text_end = text + n;
        t = calloc(1, sizeof(Template));
        if (!t)
                return cpod_error(err, ENOMEM, "template: out of memory");
        r = parse_list(&ps, &t->root, &term);
        if (r >= 0 && term != TERM_EOF)
                r = parse_error(&ps, ps.action, "unexpected {{%s}}", term == TERM_END ? "end" : "else");
        if (r < 0) {
                template_free(t);
                return r;
        }
        *ret = t;
        return 0;
}

bool template_is_table(const char *text, const char **ret_rest) {
        const char *p = text;

        while (*p == ' ' || *p == '\t')
                p++;
        if (strncmp(p, "table", 5) != 0 || (p[5] && !is_space(p[5])))
                return false;
        if (ret_rest)
                *ret_rest = p + 5;
        return true;
}

/* ---- execution ---- */

/* Values are owned VlJson references; NULL stands for Go's "no value"
 * (a missing map key), which prints as "<no value>". */
typedef struct Exec {
        const VlJson *root;
        VlBuf *out;
        CpodError *err;
        unsigned line, col; /* of the node being executed, for errors */
        unsigned steps;
} Exec;

static int exec_error(Exec *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int exec_error(Exec *x, const char *fmt, ...) {
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return cpod_error(x->err, EINVAL, "template: %u:%u: executing: %s", x->line, x->col, msg);
}

static int exec_oom(Exec *x) {
        return cpod_error(x->err, ENOMEM, "template: out of memory");
}

static VlJson *ref(const VlJson *v) {
        return vl_json_ref((VlJson *)v);
}

static const char *go_type(const VlJson *v) {
        if (!v)
                return "<nil>";
        switch (vl_json_type(v)) {
        case VL_JSON_NULL:
                return "<nil>";
        case VL_JSON_BOOL:
                return "bool";
        case VL_JSON_INT:
                return "int";
        case VL_JSON_UINT:
                return "uint64";
        case VL_JSON_DOUBLE:
                return "float64";
        case VL_JSON_STRING:
                return "string";
        case VL_JSON_ARRAY:
                return "[]interface {}";
        default:
                return "map[string]interface {}";
        }
}

static bool truth(const VlJson *v) {
        switch (vl_json_type(v)) {
        case VL_JSON_BOOL:
                return vl_json_get_bool(v);
        case VL_JSON_INT:
        case VL_JSON_UINT:
        case VL_JSON_DOUBLE:
                return vl_json_get_double(v) != 0;
        case VL_JSON_STRING:
                return vl_json_get_string_length(v) > 0;
        case VL_JSON_ARRAY:
                return vl_json_array_length(v) > 0;
        case VL_JSON_OBJECT:
                return vl_json_object_length(v) > 0;
        default:
                return false;
        }
}

/* Go's %v for a float64 (strconv 'g', shortest): the fewest digits that
 * read back, in exponent form when the exponent is < -4 or >= 6 ("1e+06"). */
static int format_double(VlBuf *b, double d) {
        char e[40], digits[20], out[64];
        int exp, nd = 0, o = 0;

        if (d == 0)
                return vl_buf_append_str(b, signbit(d) ? "-0" : "0");
        for (int p = 1; p <= 17; p++) {
                snprintf(e, sizeof(e), "%.*e", p - 1, d);
                if (strtod(e, NULL) == d)
                        break;
        }
        const char *s = e;
        if (*s == '-')
                out[o++] = *s++;
        for (; *s && *s != 'e'; s++)
                if (*s != '.')
                        digits[nd++] = *s;
        while (nd > 1 && digits[nd - 1] == '0')
                nd--;
        exp = atoi(s + 1);
        if (exp < -4 || exp >= 6) {
                out[o++] = digits[0];
                if (nd > 1) {
                        out[o++] = '.';
                        memcpy(out + o, digits + 1, nd - 1);
                        o += nd - 1;
                }
                o += snprintf(out + o, sizeof(out) - o, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
        } else if (exp < 0) {
                out[o++] = '0';
                out[o++] = '.';
                for (int i = 0; i < -exp - 1; i++)
                        out[o++] = '0';
                memcpy(out + o, digits, nd);
                o += nd;
        } else {
                for (int i = 0; i <= MAX(exp, nd - 1); i++) {
                        if (i == exp + 1)
                                out[o++] = '.';
                        out[o++] = i < nd ? digits[i] : '0';
                }
        }
        return vl_buf_append(b, out, o);
}

static int format_value(VlBuf *b, const VlJson *v, unsigned depth);

static int format_object(VlBuf *b, const VlJson *v, unsigned depth) {
        size_t n = vl_json_object_length(v);
        _cleanup_free_ size_t *order = calloc(n ?: 1, sizeof(size_t));
        int r;

        if (!order)
                return -ENOMEM;
        /* Go prints maps with sorted keys. */
        for (size_t i = 0; i < n; i++) {
                size_t j = i;
                for (; j > 0 && strcmp(vl_json_object_key(v, order[j - 1]), vl_json_object_key(v, i)) > 0;
                     j--)
                        order[j] = order[j - 1];
                order[j] = i;
        }
        r = vl_buf_append_str(b, "map[");
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = vl_buf_append_str(b, i ? " " : "");
                if (r >= 0)
                        r = vl_buf_append_str(b, vl_json_object_key(v, order[i]));
                if (r >= 0)
                        r = vl_buf_append_char(b, ':');
                if (r >= 0)
                        r = format_value(b, vl_json_object_value(v, order[i]), depth + 1);
        }
        return r < 0 ? r : vl_buf_append_char(b, ']');
}

/* Go's fmt %v. */
static int format_value(VlBuf *b, const VlJson *v, unsigned depth) {
        char num[32];
        int r = 0;

        if (depth > 64)
                return vl_buf_append_str(b, "...");
        if (!v)
                return vl_buf_append_str(b, "<no value>");
        switch (vl_json_type(v)) {
        case VL_JSON_NULL:
                return vl_buf_append_str(b, "<nil>");
        case VL_JSON_BOOL:
                return vl_buf_append_str(b, vl_json_get_bool(v) ? "true" : "false");
        case VL_JSON_INT:
                snprintf(num, sizeof(num), "%" PRId64, vl_json_get_int(v));
                return vl_buf_append_str(b, num);
        case VL_JSON_UINT:
                snprintf(num, sizeof(num), "%" PRIu64, vl_json_get_uint(v));
                return vl_buf_append_str(b, num);
        case VL_JSON_DOUBLE:
                return format_double(b, vl_json_get_double(v));
        case VL_JSON_STRING:
                return vl_buf_append(b, vl_json_get_string(v), vl_json_get_string_length(v));
        case VL_JSON_ARRAY:
                r = vl_buf_append_char(b, '[');
                for (size_t i = 0; i < vl_json_array_length(v) && r >= 0; i++) {
                        r = vl_buf_append_str(b, i ? " " : "");
                        if (r >= 0)
                                r = format_value(b, vl_json_array_get(v, i), depth + 1);
                }
                return r < 0 ? r : vl_buf_append_char(b, ']');
        default:
                return format_object(b, v, depth);
        }
}

static const VlJson *object_member(const VlJson *o, const char *key) {
        const VlJson *v = vl_json_object_get(o, key);
        const char *k;
        VlJson *m;

        if (v)
                return v;
        VL_JSON_FOREACH_MEMBER (k, m, o)
                if (strcasecmp(k, key) == 0)
                        return m;
        return NULL;
}

/* Walks .A.B from v; a missing member yields "no value" like a Go map. */
static int eval_fields(Exec *x, const VlJson *v, char **fields, size_t n, VlJson **ret) {
        for (size_t i = 0; i < n && v; i++) {
                if (vl_json_type(v) == VL_JSON_NULL) {
                        v = NULL;
                        break;
                }
                if (vl_json_type(v) != VL_JSON_OBJECT)
                        return exec_error(x, "can't evaluate field %.64s in type %s", fields[i], go_type(v));
                v = object_member(v, fields[i]);
        }
        *ret = ref(v);
        return 0;
}

static int eval_pipe(Exec *x, const Pipe *p, const VlJson *dot, VlJson **ret);

static int eval_arg(Exec *x, const Arg *a, const VlJson *dot, VlJson **ret) {
        switch (a->kind) {
        case ARG_FIELD:
                return eval_fields(x, dot, a->fields, a->n_fields, ret);
        case ARG_ROOT:
                return eval_fields(x, x->root, a->fields, a->n_fields, ret);
        case ARG_STRING:
                *ret = vl_json_new_stringn(a->s, a->len);
                break;
        case ARG_INT:
                *ret = vl_json_new_int(a->i);
                break;
        case ARG_FLOAT:
                *ret = vl_json_new_double(a->d);
                break;
        case ARG_BOOL:
                *ret = vl_json_bool(a->i);
                break;
        case ARG_NIL:
                *ret = vl_json_null();
                break;
        case ARG_PIPE: {
                _cleanup_(vl_json_unrefp) VlJson *v = NULL;
                int r = eval_pipe(x, a->pipe, dot, &v);
                return r < 0 ? r : eval_fields(x, v, a->fields, a->n_fields, ret);
        }
        case ARG_FUNC:
                return exec_error(x, "function %s used as a value needs arguments", a->s);
        }
        return *ret ? 0 : exec_oom(x);
}

/* A string argument: strings as they are, anything else as %v prints it. */
static char *arg_string(const VlJson *v) {
        VlBuf b = VL_BUF_INIT;

        if (vl_json_type(v) == VL_JSON_STRING)
                return strndup(vl_json_get_string(v), vl_json_get_string_length(v));
        if (v && format_value(&b, v, 0) < 0) {
                vl_buf_free(&b);
                return NULL;
        }
        if (vl_buf_append_char(&b, 0) < 0) {
                vl_buf_free(&b);
                return NULL;
        }
        return b.data;
}

static VlJson *string_take(VlBuf *b) {
        VlJson *v = vl_json_new_stringn(b->data ?: "", b->len);
        vl_buf_free(b);
        return v;
}

static int fn_case(Exec *x, const char *name, VlJson **args, size_t n, VlJson **ret) {
        _cleanup_free_ char *s = NULL;
        bool word_start = true;

        if (n != 1)
                return exec_error(x, "wrong number of args for %s: want 1 got %zu", name, n);
        s = arg_string(args[0]);
        if (!s)
                return exec_oom(x);
        for (char *c = s; *c; c++) {
                if (streq(name, "upper") || (streq(name, "title") && word_start))
                        *c = (*c >= 'a' && *c <= 'z') ? *c - 32 : *c;
                else if (streq(name, "lower"))
                        *c = (*c >= 'A' && *c <= 'Z') ? *c + 32 : *c;
                word_start = is_space(*c) || *c == '-' || *c == '_';
        }
        *ret = vl_json_new_string(s);
        return *ret ? 0 : exec_oom(x);
}

static int fn_truncate(Exec *x, VlJson **args, size_t n, VlJson **ret) {
        _cleanup_free_ char *s = NULL;
        const VlJson *str, *len;

        if (n != 2)
                return exec_error(x, "wrong number of args for truncate: want 2 got %zu", n);
        /* Accept both orders so that "{{.ID | truncate 12}}" works too. */
        str = vl_json_is_number(args[0]) ? args[1] : args[0];
        len = vl_json_is_number(args[0]) ? args[0] : args[1];
        if (vl_json_type(len) != VL_JSON_INT || vl_json_get_int(len) < 0)
                return exec_error(x, "truncate: length must be a non-negative integer");
        s = arg_string(str);
        if (!s)
                return exec_oom(x);
        if ((int64_t)strlen(s) > vl_json_get_int(len))
                s[vl_json_get_int(len)] = 0;
        *ret = vl_json_new_string(s);
        return *ret ? 0 : exec_oom(x);
}

static int fn_join(Exec *x, VlJson **args, size_t n, VlJson **ret) {
        const VlJson *a, *sep;
        VlBuf b = VL_BUF_INIT;
        int r = 0;

        if (n != 2)
                return exec_error(x, "wrong number of args for join: want 2 got %zu", n);
        a = vl_json_type(args[0]) == VL_JSON_ARRAY ? args[0] : args[1];
        sep = a == args[0] ? args[1] : args[0];
        if (vl_json_type(a) != VL_JSON_ARRAY && !vl_json_is_null(a))
                return exec_error(x, "join: wrong type for value; expected []string; got %s", go_type(a));
        if (vl_json_type(sep) != VL_JSON_STRING)
                return exec_error(x, "join: separator must be a string");
        for (size_t i = 0; i < vl_json_array_length(a) && r >= 0; i++) {
                if (i > 0)
                        r = vl_buf_append(&b, vl_json_get_string(sep), vl_json_get_string_length(sep));
                if (r >= 0)
                        r = format_value(&b, vl_json_array_get(a, i), 0);
        }
        *ret = r < 0 ? NULL : string_take(&b);
        vl_buf_free(&b);
        return *ret ? 0 : exec_oom(x);
}

static int fn_len(Exec *x, VlJson **args, size_t n, VlJson **ret) {
        int64_t l;

        if (n != 1)
                return exec_error(x, "wrong number of args for len: want 1 got %zu", n);
        switch (vl_json_type(args[0])) {
        case VL_JSON_STRING:
                l = vl_json_get_string_length(args[0]);
                break;
        case VL_JSON_ARRAY:
                l = vl_json_array_length(args[0]);
                break;
        case VL_JSON_OBJECT:
                l = vl_json_object_length(args[0]);
                break;
        default:
                return exec_error(x, "len of type %s", go_type(args[0]));
        }
        *ret = vl_json_new_int(l);
        return *ret ? 0 : exec_oom(x);
}

static int fn_index(Exec *x, VlJson **args, size_t n, VlJson **ret) {
        const VlJson *v;

        if (n < 1)
                return exec_error(x, "wrong number of args for index: want at least 1 got 0");
        v = args[0];
        for (size_t i = 1; i < n && v; i++) {
                if (vl_json_type(v) == VL_JSON_ARRAY) {
                        if (vl_json_type(args[i]) != VL_JSON_INT)
                                return exec_error(x, "index: cannot index slice with %s", go_type(args[i]));
                        int64_t k = vl_json_get_int(args[i]);
                        if (k < 0 || (uint64_t)k >= vl_json_array_length(v))
                                return exec_error(x, "error calling index: index out of range: %" PRId64, k);
                        v = vl_json_array_get(v, k);
                } else if (vl_json_type(v) == VL_JSON_OBJECT) {
                        if (vl_json_type(args[i]) != VL_JSON_STRING)
                                return exec_error(x, "index: map key must be a string");
                        v = vl_json_object_get(v, vl_json_get_string(args[i]));
                } else if (vl_json_is_null(v))
                        v = NULL;
                else
                        return exec_error(x, "can't index item of type %s", go_type(v));
        }
        *ret = ref(v);
        return 0;
}

/* eq/ne/lt/le/gt/ge on basic values, as Go compares them. */
static int compare(Exec *x, const VlJson *a, const VlJson *b, int *ret) {
        if (vl_json_is_number(a) && vl_json_is_number(b)) {
                double da = vl_json_get_double(a), db = vl_json_get_double(b);
                if (vl_json_type(a) == VL_JSON_INT && vl_json_type(b) == VL_JSON_INT)
                        *ret = (vl_json_get_int(a) > vl_json_get_int(b)) -
                               (vl_json_get_int(a) < vl_json_get_int(b));
                else
                        *ret = (da > db) - (da < db);
                return 0;
        }
        if (vl_json_type(a) == VL_JSON_STRING && vl_json_type(b) == VL_JSON_STRING) {
                *ret = strcmp(vl_json_get_string(a), vl_json_get_string(b));
                return 0;
        }
        if (vl_json_type(a) == VL_JSON_BOOL && vl_json_type(b) == VL_JSON_BOOL) {
                *ret = vl_json_get_bool(a) != vl_json_get_bool(b);
                return 0;
        }
        if (vl_json_is_null(a) || vl_json_is_null(b)) {
                *ret = !(vl_json_is_null(a) && vl_json_is_null(b));
                return 0;
        }
        return exec_error(x, "incompatible types for comparison");
}

static int fn_compare(Exec *x, const char *name, VlJson **args, size_t n, VlJson **ret) {
        bool result = false;
        int c = 0, r;

        if (n < 2 || (!streq(name, "eq") && n != 2))
                return exec_error(x, "wrong number of args for %s: want 2 got %zu", name, n);
        for (size_t i = 1; i < n; i++) {
                r = compare(x, args[0], args[i], &c);
                if (r < 0)
                        return r;
                if (streq(name, "eq")) {
                        result = c == 0;
                        if (result)
                                break;
                } else
                        result = streq(name, "ne")   ? c != 0
                                 : streq(name, "lt") ? c < 0
                                 : streq(name, "le") ? c <= 0
                                 : streq(name, "gt") ? c > 0
                                                     : c >= 0;
        }
        *ret = vl_json_bool(result);
        return 0;
}

static int quote(VlBuf *b, const char *s, size_t n) {
        int r = vl_buf_append_char(b, '"');

        for (size_t i = 0; i < n && r >= 0; i++) {
                unsigned char c = s[i];
                char esc[8];
                if (c == '"' || c == '\\')
                        snprintf(esc, sizeof(esc), "\\%c", c);
                else if (c == '\n' || c == '\t' || c == '\r')
                        snprintf(esc, sizeof(esc), "\\%c", c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
                else if (c < 0x20 || c == 0x7f)
                        snprintf(esc, sizeof(esc), "\\x%02x", c);
                else
                        esc[0] = c, esc[1] = 0;
                r = vl_buf_append_str(b, esc);
        }
        return r < 0 ? r : vl_buf_append_char(b, '"');
}

/* One printf verb for v into b. */
static int format_verb(VlBuf *b, char verb, int prec, const VlJson *v) {
        VlJsonType t = vl_json_type(v);
        char num[64];

        if (verb == 'v' ||
            (verb == 's' && (t == VL_JSON_STRING || t == VL_JSON_ARRAY || t == VL_JSON_OBJECT)) ||
            (verb == 'd' && (t == VL_JSON_INT || t == VL_JSON_UINT)) || (verb == 't' && t == VL_JSON_BOOL)) {
                if (verb == 's' && t == VL_JSON_STRING && prec >= 0)
                        return vl_buf_append(b, vl_json_get_string(v),
                                             MIN((size_t)prec, vl_json_get_string_length(v)));
                return format_value(b, v, 0);
        }
        if (verb == 'q' && t == VL_JSON_STRING)
                return quote(b, vl_json_get_string(v), vl_json_get_string_length(v));
        if ((verb == 'f' || verb == 'e' || verb == 'g') && vl_json_is_number(v)) {
                char f[8];
                snprintf(f, sizeof(f), "%%.*%c", verb);
                snprintf(num, sizeof(num), f, prec >= 0 ? prec : 6, vl_json_get_double(v));
                return vl_buf_append_str(b, num);
        }
        if (verb == 'x' && (t == VL_JSON_INT || t == VL_JSON_UINT)) {
                snprintf(num, sizeof(num), "%" PRIx64, vl_json_get_uint(v) ?: (uint64_t)vl_json_get_int(v));
                return vl_buf_append_str(b, num);
        }
        /* Go's complaint about a verb that does not fit the value. */
        int r = vl_buf_append_str(b, "%!");
        if (r >= 0)
                r = vl_buf_append_char(b, verb);
        if (r >= 0)
                r = vl_buf_append_char(b, '(');
        if (r >= 0)
                r = vl_buf_append_str(b, go_type(v));
        if (r >= 0 && !vl_json_is_null(v)) {
                r = vl_buf_append_char(b, '=');
                if (r >= 0)
                        r = format_value(b, v, 0);
        }
        return r < 0 ? r : vl_buf_append_char(b, ')');
}

static int pad(VlBuf *b, size_t from, int width, bool left, bool zero) {
        size_t have = b->len - from;

        if (width <= 0 || (size_t)width <= have)
                return 0;
        size_t fill = width - have;
        if (vl_buf_reserve(b, fill) < 0)
                return -ENOMEM;
        if (!left)
                memmove(b->data + from + fill, b->data + from, have);
        memset(left ? b->data + b->len : b->data + from, zero && !left ? '0' : ' ', fill);
        b->len += fill;
        return 0;
}

static int do_printf(VlBuf *b, const char *f, size_t fn, VlJson **args, size_t n) {
        size_t used = 0;
        int r = 0;

        for (size_t i = 0; i < fn && r >= 0; i++) {
                bool left = false, zero = false;
                int width = 0, prec = -1;

                if (f[i] != '%') {
                        r = vl_buf_append_char(b, f[i]);
                        continue;
                }
                for (i++; i < fn && strchr("-+# 0", f[i]); i++) {
                        left |= f[i] == '-';
                        zero |= f[i] == '0';
                }
                for (; i < fn && f[i] >= '0' && f[i] <= '9' && width < 1000; i++)
                        width = width * 10 + (f[i] - '0');
                if (i < fn && f[i] == '.')
                        for (prec = 0, i++; i < fn && f[i] >= '0' && f[i] <= '9' && prec < 1000; i++)
                                prec = prec * 10 + (f[i] - '0');
                if (i >= fn) {
                        r = vl_buf_append_str(b, "%!(NOVERB)");
                        break;
                }
                if (f[i] == '%') {
                        r = vl_buf_append_char(b, '%');
                        continue;
                }
                size_t start = b->len;
                if (used >= n) {
                        char m[24];
                        snprintf(m, sizeof(m), "%%!%c(MISSING)", f[i]);
                        r = vl_buf_append_str(b, m);
                        continue;
                }
                r = format_verb(b, f[i], prec, args[used++]);
                if (r >= 0)
                        r = pad(b, start, width, left, zero);
        }
        if (r >= 0 && used < n) {
                r = vl_buf_append_str(b, "%!(EXTRA ");
                for (size_t i = used; i < n && r >= 0; i++) {
                        r = vl_buf_append_str(b, i > used ? ", " : "");
                        if (r >= 0)
                                r = vl_buf_append_str(b, go_type(args[i]));
                        if (r >= 0)
                                r = vl_buf_append_char(b, '=');
                        if (r >= 0)
                                r = format_value(b, args[i], 0);
                }
                if (r >= 0)
                        r = vl_buf_append_char(b, ')');
        }
        return r;
}

static int fn_print(Exec *x, const char *name, VlJson **args, size_t n, VlJson **ret) {
        VlBuf b = VL_BUF_INIT;
        int r = 0;

        if (streq(name, "printf")) {
                if (n < 1 || vl_json_type(args[0]) != VL_JSON_STRING)
                        return exec_error(x, "printf: the first argument must be a format string");
                r = do_printf(&b, vl_json_get_string(args[0]), vl_json_get_string_length(args[0]), args + 1,
                              n - 1);
        } else if (streq(name, "json")) {
                if (n != 1)
                        return exec_error(x, "wrong number of args for json: want 1 got %zu", n);
                r = vl_json_write(&b, args[0] ?: vl_json_null(), VL_JSON_FORMAT_COMPACT);
        } else {
                bool ln = streq(name, "println");
                for (size_t i = 0; i < n && r >= 0; i++) {
                        /* Sprint puts spaces between operands when neither is a string,
                         * Sprintln always. */
                        bool strings = vl_json_type(args[i]) == VL_JSON_STRING ||
                                       (i > 0 && vl_json_type(args[i - 1]) == VL_JSON_STRING);
                        if (i > 0 && (ln || !strings))
                                r = vl_buf_append_char(&b, ' ');
                        if (r >= 0)
                                r = format_value(&b, args[i], 0);
                }
                if (r >= 0 && ln)
                        r = vl_buf_append_char(&b, '\n');
        }
        *ret = r < 0 ? NULL : string_take(&b);
        vl_buf_free(&b);
        return *ret ? 0 : exec_oom(x);
}

static int call_function(Exec *x, const char *name, VlJson **args, size_t n, VlJson **ret) {
        if (streq(name, "upper") || streq(name, "lower") || streq(name, "title"))
                return fn_case(x, name, args, n, ret);
        if (streq(name, "truncate"))
                return fn_truncate(x, args, n, ret);
        if (streq(name, "join"))
                return fn_join(x, args, n, ret);
        if (streq(name, "len"))
                return fn_len(x, args, n, ret);
        if (streq(name, "index"))
                return fn_index(x, args, n, ret);
        if (streq(name, "not")) {
                if (n != 1)
                        return exec_error(x, "wrong number of args for not: want 1 got %zu", n);
                *ret = vl_json_bool(!truth(args[0]));
                return 0;
        }
        if (streq(name, "and") || streq(name, "or")) {
                size_t i = 0;
                if (n < 1)
                        return exec_error(x, "wrong number of args for %s: want at least 1 got 0", name);
                /* The first operand that decides the result, else the last. */
                while (i + 1 < n && truth(args[i]) == streq(name, "and"))
                        i++;
                *ret = ref(args[i]);
                return 0;
        }
        if (streq(name, "json") || streq(name, "printf") || streq(name, "print") || streq(name, "println"))
                return fn_print(x, name, args, n, ret);
        return fn_compare(x, name, args, n, ret);
}

static void values_free(VlJson **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                vl_json_unref(v[i]);
}

/* One command of a pipeline; final is the previous command's result (or none). */
static int eval_cmd(Exec *x, const Cmd *c, const VlJson *dot, VlJson *final, bool has_final, VlJson **ret) {
        VlJson *args[66];
        size_t n = 0;
        int r = 0;

        if (c->args[0].kind != ARG_FUNC) {
                if (c->n_args > 1 || has_final)
                        return exec_error(x, "can't give argument to non-function");
                return eval_arg(x, &c->args[0], dot, ret);
        }
        for (size_t i = 1; i < c->n_args && r >= 0; i++)
                if ((r = eval_arg(x, &c->args[i], dot, &args[n])) >= 0)
                        n++;
        if (r >= 0 && has_final)
                args[n++] = ref(final);
        if (r >= 0)
                r = call_function(x, c->args[0].s, args, n, ret);
        values_free(args, n);
        return r;
}

static int eval_pipe(Exec *x, const Pipe *p, const VlJson *dot, VlJson **ret) {
        VlJson *v = NULL;
        int r;

        if (++x->steps > TEMPLATE_MAX_STEPS)
                return exec_error(x, "too many steps");
        for (size_t i = 0; i < p->n_cmds; i++) {
                VlJson *next = NULL;
                r = eval_cmd(x, &p->cmds[i], dot, v, i > 0, &next);
                vl_json_unref(v);
                if (r < 0)
                        return r;
                v = next;
        }
        *ret = v;
        return 0;
}

static int exec_list(Exec *x, const List *l, const VlJson *dot, unsigned depth);

static int exec_range(Exec *x, const Node *n, const VlJson *v, const VlJson *dot, unsigned depth) {
        size_t count = 0;
        int r = 0;

        switch (vl_json_type(v)) {
        case VL_JSON_ARRAY:
                count = vl_json_array_length(v);
                for (size_t i = 0; i < count && r >= 0; i++)
                        r = exec_list(x, &n->body, vl_json_array_get(v, i), depth + 1);
                break;
        case VL_JSON_OBJECT: {
                /* Go visits map entries in key order. */
                count = vl_json_object_length(v);
                _cleanup_free_ size_t *order = calloc(count ?: 1, sizeof(size_t));
                if (!order)
                        return exec_oom(x);
                for (size_t i = 0; i < count; i++) {
                        size_t j = i;
                        for (; j > 0 &&
                               strcmp(vl_json_object_key(v, order[j - 1]), vl_json_object_key(v, i)) > 0;
                             j--)
                                order[j] = order[j - 1];
                        order[j] = i;
                }
                for (size_t i = 0; i < count && r >= 0; i++)
                        r = exec_list(x, &n->body, vl_json_object_value(v, order[i]), depth + 1);
                break;
        }
        case VL_JSON_NULL:
                break;
        default:
                if (v)
                        return exec_error(x, "range can't iterate over %s", go_type(v));
        }
        if (r >= 0 && count == 0)
                r = exec_list(x, &n->alt, dot, depth + 1);
        return r;
}

static int exec_node(Exec *x, const Node *n, const VlJson *dot, unsigned depth) {
        _cleanup_(vl_json_unrefp) VlJson *v = NULL;
        int r;

        if (n->kind == NODE_TEXT)
                return vl_buf_append(x->out, n->text, n->len) < 0 ? exec_oom(x) : 0;
        x->line = n->line;
        x->col = n->col;
        r = eval_pipe(x, n->pipe, dot, &v);
        if (r < 0)
                return r;
        switch (n->kind) {
        case NODE_ACTION:
                return format_value(x->out, v, 0) < 0 ? exec_oom(x) : 0;
        case NODE_IF:
                return exec_list(x, truth(v) ? &n->body : &n->alt, dot, depth + 1);
        case NODE_WITH:
                return truth(v) ? exec_list(x, &n->body, v, depth + 1)
                                : exec_list(x, &n->alt, dot, depth + 1);
        default:
                return exec_range(x, n, v, dot, depth);
        }
}

static int exec_list(Exec *x, const List *l, const VlJson *dot, unsigned depth) {
        for (size_t i = 0; i < l->n_nodes; i++) {
                int r;
                if (++x->steps > TEMPLATE_MAX_STEPS || x->out->len > TEMPLATE_MAX_OUTPUT)
                        return exec_error(x, "output too large or too many steps");
                r = exec_node(x, l->nodes[i], dot, depth);
                if (r < 0)
                        return r;
        }
        return 0;
}

int template_render(const Template *t, const VlJson *data, VlBuf *out, CpodError *err) {
        Exec x = {.root = data, .out = out, .err = err, .line = 1, .col = 1};
        size_t len = out->len;
        int r;

        r = exec_list(&x, &t->root, data, 0);
        if (r < 0)
                out->len = len; /* no half-rendered output */
        return r;
}
