/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The Varlink interface definition language (UAPI.20): a hand-written
 * lexer and recursive-descent parser. Every error names the line and
 * column of the offending token. Doc comments (own-line "#" comments
 * immediately before "interface", a member or a field) are kept.
 */

#include <stdarg.h>
#include <stdio.h>

#include <vl/idl.h>

#include "idl-internal.h"
#include "util.h"

typedef enum TokenKind {
        TOKEN_EOF,
        TOKEN_WORD, /* a run of [A-Za-z0-9_.-] */
        TOKEN_LPAREN,
        TOKEN_RPAREN,
        TOKEN_COMMA,
        TOKEN_COLON,
        TOKEN_QUESTION,
        TOKEN_ARRAY, /* [] */
        TOKEN_MAP,   /* [string] */
        TOKEN_ARROW, /* -> */
} TokenKind;

#define NO_DOC SIZE_MAX

typedef struct Token {
        TokenKind kind;
        size_t start, len;
        unsigned line, column;
        bool newline_before; /* a line break lies between the previous token and this one */
        size_t doc_start;    /* offset of the doc comment block before the token, or NO_DOC */
} Token;

/* An open-addressing set of names (keys are borrowed), with an index per name. */
typedef struct NameSet {
        const char **keys;
        size_t *values;
        size_t cap, n;
} NameSet;

/* A use of a named type, resolved when the whole interface is read. */
typedef struct TypeRef {
        const char *name;
        unsigned line, column;
} TypeRef;

typedef struct Parser {
        const char *text;
        size_t len;
        size_t pos;
        unsigned line;
        size_t line_start;
        bool line_empty; /* nothing but white space so far on the current line */
        size_t doc_start;
        Token tok;
        VlIdlError *err;
        VlInterface *iface;
        size_t members_cap;
        NameSet members;
        TypeRef *refs;
        size_t n_refs, refs_cap;
} Parser;

/* ---- Name checks ---- */

static bool ascii_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ascii_alnum(char c) {
        return ascii_alpha(c) || (c >= '0' && c <= '9');
}

_public_ bool vl_interface_name_valid(const char *name) {
        /* [A-Za-z]([-]*[A-Za-z0-9])*(\.[A-Za-z0-9]([-]*[A-Za-z0-9])*)+ */
        if (!name || !ascii_alpha(name[0]))
                return false;

        unsigned components = 0;
        for (const char *p = name;; p++) {
                /* p is at the start of a component */
                if (!ascii_alnum(*p))
                        return false;
                while (ascii_alnum(*p) || *p == '-')
                        p++;
                if (p[-1] == '-')
                        return false;
                components++;
                if (*p == '\0')
                        return components >= 2;
                if (*p != '.')
                        return false;
        }
}

_public_ bool vl_member_name_valid(const char *name) {
        /* [A-Z][A-Za-z0-9]* */
        if (!name || !(name[0] >= 'A' && name[0] <= 'Z'))
                return false;
        for (const char *p = name + 1; *p; p++)
                if (!ascii_alnum(*p))
                        return false;
        return true;
}

_public_ bool vl_field_name_valid(const char *name) {
        /* [A-Za-z](_?[A-Za-z0-9])* */
        if (!name || !ascii_alpha(name[0]))
                return false;
        for (const char *p = name + 1; *p; p++) {
                if (*p == '_')
                        p++;
                if (!ascii_alnum(*p))
                        return false;
        }
        return true;
}

/* ---- Freeing ---- */

static VlType *type_free(VlType *t);

static void fields_free(VlField *fields, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(fields[i].name);
                type_free(fields[i].type);
                free(fields[i].doc);
        }
        free(fields);
}

static VlType *type_free(VlType *t) {
        /* Iterative along element chains so that []...[]T cannot exhaust the stack. */
        while (t) {
                VlType *next = t->element;
                free(t->alias);
                fields_free(t->fields, t->n_fields);
                free(t);
                t = next;
        }
        return NULL;
}

static void type_freep(VlType **t) {
        type_free(*t);
}

_public_ VlInterface *vl_interface_free(VlInterface *iface) {
        if (!iface)
                return NULL;
        for (size_t i = 0; i < iface->n_members; i++) {
                VlMember *m = &iface->members[i];
                free(m->name);
                free(m->doc);
                type_free(m->type);
                type_free(m->input);
                type_free(m->output);
        }
        free(iface->members);
        free(iface->name);
        free(iface->doc);
        free(iface->description);
        free(iface);
        return NULL;
}

static void interface_freep(VlInterface **iface) {
        vl_interface_free(*iface);
}

_public_ const VlMember *vl_interface_find(const VlInterface *iface, VlMemberKind kind, const char *name) {
        if (!iface || !name)
                return NULL;
        for (size_t i = 0; i < iface->n_members; i++)
                if (iface->members[i].kind == kind && streq(iface->members[i].name, name))
                        return &iface->members[i];
        return NULL;
}

/* ---- Name sets ---- */

static size_t name_hash(const char *s) {
        size_t h = 14695981039346656037ULL; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

static void name_set_done(NameSet *s) {
        free(s->keys);
        free(s->values);
        *s = (NameSet){};
}

/* Returns the slot of key: where it is, or the empty slot where it would go. */
static size_t name_set_slot(const NameSet *s, const char *key) {
        size_t i = name_hash(key) & (s->cap - 1);
        while (s->keys[i] && !streq(s->keys[i], key))
                i = (i + 1) & (s->cap - 1);
        return i;
}

static bool name_set_get(const NameSet *s, const char *key, size_t *ret) {
        if (s->n == 0)
                return false;
        size_t i = name_set_slot(s, key);
        if (!s->keys[i])
                return false;
        if (ret)
                *ret = s->values[i];
        return true;
}

/* 0 if added, -EEXIST if key is present, -ENOMEM. */
static int name_set_add(NameSet *s, const char *key, size_t value) {
        if ((s->n + 1) * 2 > s->cap) {
                NameSet bigger = {.cap = s->cap ? s->cap * 2 : 16};
                bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
                bigger.values = calloc(bigger.cap, sizeof(*bigger.values));
                if (!bigger.keys || !bigger.values) {
                        name_set_done(&bigger);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < s->cap; i++)
                        if (s->keys[i]) {
                                size_t j = name_set_slot(&bigger, s->keys[i]);
                                bigger.keys[j] = s->keys[i];
                                bigger.values[j] = s->values[i];
                        }
                bigger.n = s->n;
                name_set_done(s);
                *s = bigger;
        }
        size_t i = name_set_slot(s, key);
        if (s->keys[i])
                return -EEXIST;
        s->keys[i] = key;
        s->values[i] = value;
        s->n++;
        return 0;
}

/* ---- Errors ---- */

static int fail_at(Parser *p, unsigned line, unsigned column, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail_at(Parser *p, unsigned line, unsigned column, const char *fmt, ...) {
        if (p->err) {
                va_list ap;
                p->err->line = line;
                p->err->column = column;
                va_start(ap, fmt);
                vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

#define fail_tok(p, t, ...) fail_at((p), (t)->line, (t)->column, __VA_ARGS__)

static unsigned column_of(const Parser *p, size_t pos) {
        size_t c = pos - p->line_start + 1;
        return c > UINT32_MAX ? UINT32_MAX : (unsigned)c;
}

static int fail_pos(Parser *p, size_t pos, const char *msg) {
        return fail_at(p, p->line, column_of(p, pos), "%s", msg);
}

static int oom(Parser *p) {
        if (p->err) {
                p->err->line = p->tok.line;
                p->err->column = p->tok.column;
                snprintf(p->err->message, sizeof(p->err->message), "out of memory");
        }
        return -ENOMEM;
}

/* The token's text for a message, shortened to keep the message readable. */
#define QUOTE_MAX 48
static const char *token_quote(const Parser *p, const Token *t, char buf[static QUOTE_MAX + 4]) {
        size_t n = MIN(t->len, (size_t)QUOTE_MAX);
        memcpy(buf, p->text + t->start, n);
        strcpy(buf + n, t->len > n ? "..." : "");
        return buf;
}

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. *cp gets the code point. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
        if (n == 0)
                return 0;
        if (s[0] < 0x80) {
                *cp = s[0];
                return 1;
        }
        size_t len;
        uint32_t c, min;
        if ((s[0] & 0xe0) == 0xc0) {
                len = 2, c = s[0] & 0x1f, min = 0x80;
        } else if ((s[0] & 0xf0) == 0xe0) {
                len = 3, c = s[0] & 0x0f, min = 0x800;
        } else if ((s[0] & 0xf8) == 0xf0) {
                len = 4, c = s[0] & 0x07, min = 0x10000;
        } else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return len;
}

/* ---- Lexer ---- */

/* Length of a line break at pos (\n, \r\n, \r, U+2028, U+2029), else 0. */
static size_t eol_len(const Parser *p, size_t pos) {
        const unsigned char *s = (const unsigned char *)p->text + pos;
        size_t n = p->len - pos;
        if (n == 0)
                return 0;
        if (s[0] == '\n')
                return 1;
        if (s[0] == '\r')
                return n >= 2 && s[1] == '\n' ? 2 : 1;
        if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
                return 3;
        return 0;
}

/* Length of a white space character at pos (ECMA-262 white space without \v\f), else 0. */
static size_t space_len(const Parser *p, size_t pos) {
        const unsigned char *s = (const unsigned char *)p->text + pos;
        uint32_t c;
        if (pos >= p->len)
                return 0;
        if (s[0] == ' ' || s[0] == '\t')
                return 1;
        if (s[0] < 0x80)
                return 0;
        size_t n = utf8_decode(s, p->len - pos, &c);
        if (n == 0)
                return 0;
        if (c == 0x00a0 || c == 0xfeff || c == 0x1680 || c == 0x180e || (c >= 0x2000 && c <= 0x200a) ||
            c == 0x202f || c == 0x205f || c == 0x3000)
                return n;
        return 0;
}

static void newline(Parser *p, size_t n) {
        p->pos += n;
        p->line++;
        p->line_start = p->pos;
        p->line_empty = true;
}

/* Skips a comment starting at p->pos ('#'), checking its text. */
static int skip_comment(Parser *p) {
        size_t i = p->pos + 1;
        while (i < p->len && eol_len(p, i) == 0) {
                unsigned char c = (unsigned char)p->text[i];
                uint32_t cp;
                if (c < 0x80) {
                        if ((c < 0x20 && c != '\t') || c == 0x7f)
                                return fail_pos(p, i, "control character in comment");
                        i++;
                        continue;
                }
                size_t n = utf8_decode((const unsigned char *)p->text + i, p->len - i, &cp);
                if (n == 0)
                        return fail_pos(p, i, "invalid utf-8 in comment");
                i += n;
        }
        p->pos = i;
        return 0;
}

static bool word_char(const Parser *p, size_t i) {
        char c = p->text[i];
        if (ascii_alnum(c) || c == '_' || c == '.')
                return true;
        /* "-" belongs to interface names, but "->" is the arrow */
        return c == '-' && !(i + 1 < p->len && p->text[i + 1] == '>');
}

static int unexpected_char(Parser *p) {
        unsigned char c = (unsigned char)p->text[p->pos];
        uint32_t cp;
        if (c >= 0x80) {
                size_t n = utf8_decode((const unsigned char *)p->text + p->pos, p->len - p->pos, &cp);
                if (n == 0)
                        return fail_pos(p, p->pos, "invalid utf-8");
                return fail_at(p, p->line, column_of(p, p->pos), "unexpected character '%.*s'", (int)n,
                               p->text + p->pos);
        }
        if (c >= 0x20 && c < 0x7f)
                return fail_at(p, p->line, column_of(p, p->pos), "unexpected character '%c'", c);
        return fail_at(p, p->line, column_of(p, p->pos), "unexpected character 0x%02x", c);
}

/* Reads the next token into p->tok. */
static int next_token(Parser *p) {
        bool newline_before = false;
        int r;

        for (;;) {
                size_t n;
                if (p->pos >= p->len)
                        break;
                if ((n = eol_len(p, p->pos)) > 0) {
                        if (p->line_empty)
                                p->doc_start = NO_DOC; /* a blank line ends a doc comment */
                        newline(p, n);
                        newline_before = true;
                } else if ((n = space_len(p, p->pos)) > 0) {
                        p->pos += n;
                } else if (p->text[p->pos] == '#') {
                        /* Only comments on lines of their own document what follows. */
                        if (p->line_empty && p->doc_start == NO_DOC)
                                p->doc_start = p->pos;
                        p->line_empty = false;
                        r = skip_comment(p);
                        if (r < 0)
                                return r;
                } else
                        break;
        }

        Token *t = &p->tok;
        *t = (Token){
                .start = p->pos,
                .len = 1,
                .line = p->line,
                .column = column_of(p, p->pos),
                .newline_before = newline_before,
                .doc_start = p->doc_start,
        };
        p->doc_start = NO_DOC;
        p->line_empty = false;

        if (p->pos >= p->len) {
                t->kind = TOKEN_EOF;
                t->len = 0;
                return 0;
        }

        const char *s = p->text + p->pos;
        size_t left = p->len - p->pos;
        switch (s[0]) {
        case '(':
                t->kind = TOKEN_LPAREN;
                break;
        case ')':
                t->kind = TOKEN_RPAREN;
                break;
        case ',':
                t->kind = TOKEN_COMMA;
                break;
        case ':':
                t->kind = TOKEN_COLON;
                break;
        case '?':
                t->kind = TOKEN_QUESTION;
                break;
        case '[':
                if (left >= 2 && s[1] == ']') {
                        t->kind = TOKEN_ARRAY;
                        t->len = 2;
                } else if (left >= 8 && memcmp(s, "[string]", 8) == 0) {
                        t->kind = TOKEN_MAP;
                        t->len = 8;
                } else
                        return fail_tok(p, t, "expected '[]' or '[string]'");
                break;
        case '-':
                if (left < 2 || s[1] != '>')
                        return unexpected_char(p);
                t->kind = TOKEN_ARROW;
                t->len = 2;
                break;
        default:
                if (!ascii_alnum(s[0]) && s[0] != '_')
                        return unexpected_char(p);
                t->kind = TOKEN_WORD;
                while (p->pos + t->len < p->len && word_char(p, p->pos + t->len))
                        t->len++;
        }
        p->pos += t->len;
        return 0;
}

static bool token_is(const Parser *p, const char *word) {
        return p->tok.kind == TOKEN_WORD && p->tok.len == strlen(word) &&
               memcmp(p->text + p->tok.start, word, p->tok.len) == 0;
}

static int token_strdup(Parser *p, char **ret) {
        char *s = strndup(p->text + p->tok.start, p->tok.len);
        if (!s)
                return oom(p);
        *ret = s;
        return 0;
}

/* The doc comment before the token t: "#" and one space stripped from each
 * line, trailing white space dropped, lines joined with '\n'. */
static int token_doc(Parser *p, const Token *t, char **ret) {
        _cleanup_free_ char *doc = NULL;
        size_t len = 0;
        bool first = true;

        if (t->doc_start == NO_DOC) {
                *ret = NULL;
                return 0;
        }

        /* The block has only comments, white space and single line breaks: its
         * size bounds the result. */
        doc = malloc(t->start - t->doc_start + 1);
        if (!doc)
                return oom(p);

        for (size_t i = t->doc_start; i < t->start;) {
                size_t n;
                if ((n = eol_len(p, i)) > 0 || (n = space_len(p, i)) > 0) {
                        i += n;
                        continue;
                }
                /* a comment: p->text[i] == '#' */
                size_t b = i + 1, e = b;
                while (e < t->start && eol_len(p, e) == 0)
                        e++;
                i = e;
                if (b < e && p->text[b] == ' ')
                        b++;
                while (e > b && (p->text[e - 1] == ' ' || p->text[e - 1] == '\t'))
                        e--;
                if (!first)
                        doc[len++] = '\n';
                first = false;
                memcpy(doc + len, p->text + b, e - b);
                len += e - b;
        }
        doc[len] = '\0';
        *ret = TAKE_PTR(doc);
        return 0;
}

/* ---- Types ---- */

static int type_new(Parser *p, VlTypeKind kind, VlType **ret) {
        VlType *t = calloc(1, sizeof(VlType));
        if (!t)
                return oom(p);
        t->kind = kind;
        *ret = t;
        return 0;
}

static int add_ref(Parser *p, const char *name, const Token *t) {
        if (VL_GROW(p->refs, p->refs_cap, p->n_refs + 1) < 0)
                return oom(p);
        p->refs[p->n_refs++] = (TypeRef){.name = name, .line = t->line, .column = t->column};
        return 0;
}

static int parse_type(Parser *p, unsigned depth, VlType **ret);

static const struct {
        const char *name;
        VlTypeKind kind;
} builtin_types[] = {
        {"bool", VL_TYPE_BOOL},     {"int", VL_TYPE_INT},       {"float", VL_TYPE_FLOAT},
        {"string", VL_TYPE_STRING}, {"object", VL_TYPE_OBJECT}, {"any", VL_TYPE_ANY},
};

/* The fields of a struct or the values of an enum; p->tok is the '('.
 * struct_only: method parameters and errors, where "(a, b)" is no enum. */
static int parse_fields(Parser *p, unsigned depth, bool struct_only, VlType **ret) {
        _cleanup_(type_freep) VlType *t = NULL;
        _cleanup_(name_set_done) NameSet names = {};
        size_t cap = 0;
        char quote[QUOTE_MAX + 4];
        int r;

        r = type_new(p, VL_TYPE_STRUCT, &t);
        if (r < 0)
                return r;
        r = next_token(p);
        if (r < 0)
                return r;

        if (p->tok.kind == TOKEN_RPAREN) {
                *ret = TAKE_PTR(t);
                return next_token(p);
        }

        for (;;) {
                if (p->tok.kind != TOKEN_WORD) {
                        if (t->n_fields > 0 && p->tok.kind == TOKEN_RPAREN)
                                return fail_tok(p, &p->tok, "trailing ',' before ')'");
                        return fail_tok(p, &p->tok, "expected field name");
                }
                if (VL_GROW(t->fields, cap, t->n_fields + 1) < 0)
                        return oom(p);
                VlField *f = &t->fields[t->n_fields];
                *f = (VlField){};
                r = token_strdup(p, &f->name);
                if (r < 0)
                        return r;
                t->n_fields++;
                if (!vl_field_name_valid(f->name))
                        return fail_tok(p, &p->tok, "invalid field name '%s'",
                                        token_quote(p, &p->tok, quote));
                r = token_doc(p, &p->tok, &f->doc);
                if (r < 0)
                        return r;
                /* The first field decides between struct and enum, so a duplicate
                 * (never the first) knows what it duplicates. */
                r = name_set_add(&names, f->name, 0);
                if (r == -EEXIST)
                        return fail_tok(p, &p->tok, "duplicate %s '%s'",
                                        t->kind == VL_TYPE_ENUM ? "enum value" : "field", f->name);
                if (r < 0)
                        return oom(p);
                r = next_token(p);
                if (r < 0)
                        return r;

                if (t->n_fields == 1 && !struct_only &&
                    (p->tok.kind == TOKEN_COMMA || p->tok.kind == TOKEN_RPAREN))
                        t->kind = VL_TYPE_ENUM;

                if (t->kind == VL_TYPE_STRUCT) {
                        if (p->tok.kind != TOKEN_COLON)
                                return fail_tok(p, &p->tok, "expected ':' after field name");
                        r = next_token(p);
                        if (r < 0)
                                return r;
                        r = parse_type(p, depth + 1, &f->type);
                        if (r < 0)
                                return r;
                } else if (p->tok.kind == TOKEN_COLON)
                        return fail_tok(p, &p->tok, "unexpected ':' in enum");

                if (p->tok.kind == TOKEN_RPAREN)
                        break;
                if (p->tok.kind != TOKEN_COMMA)
                        return fail_tok(p, &p->tok, "expected ',' or ')'");
                r = next_token(p);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(t);
        return next_token(p);
}

static int parse_type(Parser *p, unsigned depth, VlType **ret) {
        _cleanup_(type_freep) VlType *t = NULL;
        bool nullable = false;
        char quote[QUOTE_MAX + 4];
        int r;

        if (p->tok.kind == TOKEN_QUESTION) {
                nullable = true;
                r = next_token(p);
                if (r < 0)
                        return r;
                if (p->tok.kind == TOKEN_QUESTION)
                        return fail_tok(p, &p->tok, "type is already nullable");
        }

        if (depth > VL_IDL_MAX_DEPTH &&
            (p->tok.kind == TOKEN_ARRAY || p->tok.kind == TOKEN_MAP || p->tok.kind == TOKEN_LPAREN))
                return fail_tok(p, &p->tok, "types nested deeper than %u levels", VL_IDL_MAX_DEPTH);

        switch (p->tok.kind) {
        case TOKEN_ARRAY:
        case TOKEN_MAP:
                r = type_new(p, p->tok.kind == TOKEN_ARRAY ? VL_TYPE_ARRAY : VL_TYPE_MAP, &t);
                if (r < 0)
                        return r;
                r = next_token(p);
                if (r < 0)
                        return r;
                r = parse_type(p, depth + 1, &t->element);
                if (r < 0)
                        return r;
                /* [string]() is the set of strings */
                if (t->kind == VL_TYPE_MAP && t->element->kind == VL_TYPE_STRUCT &&
                    t->element->n_fields == 0 && !t->element->nullable) {
                        t->kind = VL_TYPE_SET;
                        t->element = type_free(t->element);
                }
                break;

        case TOKEN_LPAREN:
                r = parse_fields(p, depth, false, &t);
                if (r < 0)
                        return r;
                break;

        case TOKEN_WORD:
                for (size_t i = 0; i < ELEMENTSOF(builtin_types); i++)
                        if (token_is(p, builtin_types[i].name)) {
                                r = type_new(p, builtin_types[i].kind, &t);
                                if (r < 0)
                                        return r;
                                break;
                        }
                if (!t) {
                        r = type_new(p, VL_TYPE_ALIAS, &t);
                        if (r < 0)
                                return r;
                        r = token_strdup(p, &t->alias);
                        if (r < 0)
                                return r;
                        if (!vl_member_name_valid(t->alias))
                                return fail_tok(p, &p->tok, "unknown type '%s'",
                                                token_quote(p, &p->tok, quote));
                        r = add_ref(p, t->alias, &p->tok);
                        if (r < 0)
                                return r;
                }
                r = next_token(p);
                if (r < 0)
                        return r;
                break;

        default:
                return fail_tok(p, &p->tok, "expected a type");
        }

        t->nullable = nullable;
        *ret = TAKE_PTR(t);
        return 0;
}

/* ---- Members ---- */

static const struct {
        const char *keyword;
        VlMemberKind kind;
} member_keywords[] = {
        {"type", VL_MEMBER_TYPE},
        {"method", VL_MEMBER_METHOD},
        {"error", VL_MEMBER_ERROR},
};

static int expect_lparen(Parser *p, const char *after) {
        if (p->tok.kind != TOKEN_LPAREN)
                return fail_tok(p, &p->tok, "expected '(' after %s", after);
        return 0;
}

static int parse_member_body(Parser *p, VlMember *m) {
        int r;

        switch (m->kind) {
        case VL_MEMBER_TYPE:
                r = expect_lparen(p, "type name");
                if (r < 0)
                        return r;
                return parse_fields(p, 1, false, &m->type);

        case VL_MEMBER_METHOD:
                r = expect_lparen(p, "method name");
                if (r < 0)
                        return r;
                r = parse_fields(p, 1, true, &m->input);
                if (r < 0)
                        return r;
                if (p->tok.kind != TOKEN_ARROW)
                        return fail_tok(p, &p->tok, "expected '->' after method parameters");
                r = next_token(p);
                if (r < 0)
                        return r;
                r = expect_lparen(p, "'->'");
                if (r < 0)
                        return r;
                return parse_fields(p, 1, true, &m->output);

        case VL_MEMBER_ERROR:
                r = expect_lparen(p, "error name");
                if (r < 0)
                        return r;
                return parse_fields(p, 1, true, &m->type);
        }
        return -EINVAL;
}

static int parse_member(Parser *p) {
        VlInterface *iface = p->iface;
        char quote[QUOTE_MAX + 4];
        size_t k;
        int r;

        for (k = 0; k < ELEMENTSOF(member_keywords); k++)
                if (token_is(p, member_keywords[k].keyword))
                        break;
        if (k == ELEMENTSOF(member_keywords))
                return fail_tok(p, &p->tok, "expected 'type', 'method' or 'error'");
        if (!p->tok.newline_before)
                return fail_tok(p, &p->tok, "expected a line break before '%s'", member_keywords[k].keyword);

        if (VL_GROW(iface->members, p->members_cap, iface->n_members + 1) < 0)
                return oom(p);
        VlMember *m = &iface->members[iface->n_members];
        *m = (VlMember){.kind = member_keywords[k].kind, .line = p->tok.line};
        iface->n_members++;

        r = token_doc(p, &p->tok, &m->doc);
        if (r < 0)
                return r;
        r = next_token(p);
        if (r < 0)
                return r;
        if (p->tok.kind != TOKEN_WORD)
                return fail_tok(p, &p->tok, "expected %s name", member_keywords[k].keyword);
        r = token_strdup(p, &m->name);
        if (r < 0)
                return r;
        if (!vl_member_name_valid(m->name))
                return fail_tok(p, &p->tok, "invalid %s name '%s'", member_keywords[k].keyword,
                                token_quote(p, &p->tok, quote));
        r = name_set_add(&p->members, m->name, iface->n_members - 1);
        if (r == -EEXIST)
                return fail_tok(p, &p->tok, "duplicate member '%s'", m->name);
        if (r < 0)
                return oom(p);
        r = next_token(p);
        if (r < 0)
                return r;

        return parse_member_body(p, m);
}

static int parse_interface(Parser *p) {
        VlInterface *iface = p->iface;
        char quote[QUOTE_MAX + 4];
        int r;

        r = next_token(p);
        if (r < 0)
                return r;
        if (!token_is(p, "interface"))
                return fail_tok(p, &p->tok, "expected 'interface'");
        r = token_doc(p, &p->tok, &iface->doc);
        if (r < 0)
                return r;
        r = next_token(p);
        if (r < 0)
                return r;
        if (p->tok.kind != TOKEN_WORD)
                return fail_tok(p, &p->tok, "expected interface name");
        r = token_strdup(p, &iface->name);
        if (r < 0)
                return r;
        if (!vl_interface_name_valid(iface->name))
                return fail_tok(p, &p->tok, "invalid interface name '%s'", token_quote(p, &p->tok, quote));
        r = next_token(p);
        if (r < 0)
                return r;

        while (p->tok.kind != TOKEN_EOF) {
                r = parse_member(p);
                if (r < 0)
                        return r;
        }
        if (iface->n_members == 0)
                return fail_tok(p, &p->tok, "interface has no members");

        /* Types may be used before they are declared: check the uses now. */
        for (size_t i = 0; i < p->n_refs; i++) {
                size_t idx;
                if (!name_set_get(&p->members, p->refs[i].name, &idx) ||
                    iface->members[idx].kind != VL_MEMBER_TYPE)
                        return fail_at(p, p->refs[i].line, p->refs[i].column, "unknown type '%s'",
                                       p->refs[i].name);
        }
        return 0;
}

_public_ int vl_interface_parse(const char *text, size_t len, VlInterface **ret, VlIdlError *err) {
        _cleanup_(interface_freep) VlInterface *iface = NULL;
        Parser p = {
                .text = text,
                .len = len,
                .line = 1,
                .line_empty = true,
                .doc_start = NO_DOC,
                .err = err,
        };
        int r;

        if (err)
                *err = (VlIdlError){.line = 1, .column = 1};
        if (!ret || (!text && len > 0))
                return -EINVAL;
        if (!text)
                p.text = text = "";
        if (len > VL_IDL_MAX_SIZE) {
                fail_at(&p, 1, 1, "interface description larger than %u bytes", VL_IDL_MAX_SIZE);
                return -EINVAL;
        }

        iface = calloc(1, sizeof(VlInterface));
        if (!iface)
                return -ENOMEM;
        iface->description = malloc(len + 1);
        if (!iface->description)
                return -ENOMEM;
        if (len > 0)
                memcpy(iface->description, text, len);
        iface->description[len] = '\0';
        p.iface = iface;

        r = parse_interface(&p);
        name_set_done(&p.members);
        free(p.refs);
        if (r < 0)
                return r;

        if (err)
                *err = (VlIdlError){};
        *ret = TAKE_PTR(iface);
        return 0;
}
