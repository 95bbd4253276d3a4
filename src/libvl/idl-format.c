/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The canonical text of an interface. The layout is libvarlink's
 * `varlink format` (the shape of the interfaces published on varlink.org
 * and in UAPI.20), kept within 80 columns where it can be:
 *
 *  - a struct or enum is written on one line unless it has more than two
 *    fields (structs only), a field with a doc comment (at any depth), a
 *    field whose type is a struct or enum itself (structs only), a one-line
 *    form longer than 40 columns, or would end past column 80;
 *  - otherwise one field per line, indented by two spaces per level, doc
 *    comments as "# " lines above their field, and ")" at the parent's
 *    indent;
 *  - members are separated by one blank line; the text ends with "\n".
 *
 * The decision depends only on the tree, so formatting is a fixed point.
 */

#include <vl/idl.h>

#include "idl-internal.h"
#include "util.h"

#define COLOR_KEYWORD "\x1b[35m"
#define COLOR_METHOD  "\x1b[32m"
#define COLOR_TYPE    "\x1b[36m"
#define COLOR_COMMENT "\x1b[34m"
#define COLOR_RESET   "\x1b[0m"

typedef struct Writer {
        VlBuf *b;
        bool color;
} Writer;

static int put(Writer *w, const char *s) {
        return vl_buf_append_str(w->b, s);
}

static int put_colored(Writer *w, const char *color, const char *s) {
        int r;
        if (!w->color)
                return put(w, s);
        r = put(w, color);
        if (r >= 0)
                r = put(w, s);
        if (r >= 0)
                r = put(w, COLOR_RESET);
        return r;
}

static int put_indent(Writer *w, unsigned level) {
        for (unsigned i = 0; i < level; i++) {
                int r = vl_buf_append(w->b, "  ", 2);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const char *builtin_name(VlTypeKind kind) {
        switch (kind) {
        case VL_TYPE_BOOL:
                return "bool";
        case VL_TYPE_INT:
                return "int";
        case VL_TYPE_FLOAT:
                return "float";
        case VL_TYPE_STRING:
                return "string";
        case VL_TYPE_OBJECT:
                return "object";
        case VL_TYPE_ANY:
                return "any";
        default:
                return NULL;
        }
}

static bool has_fields(const VlType *t) {
        return (t->kind == VL_TYPE_STRUCT || t->kind == VL_TYPE_ENUM) && t->n_fields > 0;
}

/* The type inside the "?", "[]" and "[string]" wrappers. */
static const VlType *innermost(const VlType *t) {
        while ((t->kind == VL_TYPE_ARRAY || t->kind == VL_TYPE_MAP) && t->element)
                t = t->element;
        return t;
}

/* Columns of the one-line form of t; *has_doc is set if a field in it has a doc comment. */
static size_t measure(const VlType *t, bool *has_doc) {
        size_t n = t->nullable ? 1 : 0;

        switch (t->kind) {
        case VL_TYPE_ARRAY:
                return n + 2 + (t->element ? measure(t->element, has_doc) : 0);
        case VL_TYPE_MAP:
                return n + 8 + (t->element ? measure(t->element, has_doc) : 0);
        case VL_TYPE_SET:
                return n + 10;
        case VL_TYPE_ALIAS:
                return n + (t->alias ? strlen(t->alias) : 0);
        case VL_TYPE_STRUCT:
        case VL_TYPE_ENUM:
                n += 2;
                for (size_t i = 0; i < t->n_fields; i++) {
                        const VlField *f = &t->fields[i];
                        n += strlen(f->name) + (i > 0 ? 2 : 0);
                        if (f->doc)
                                *has_doc = true;
                        if (t->kind == VL_TYPE_STRUCT && f->type)
                                n += 2 + measure(f->type, has_doc);
                }
                return n;
        default:
                return n + strlen(builtin_name(t->kind) ?: "");
        }
}

/* Whether a struct or enum is broken into lines whatever room is left. */
static bool needs_lines(const VlType *t) {
        bool has_doc = false;
        size_t oneline = measure(t, &has_doc);

        if (has_doc || oneline > VL_IDL_FORMAT_INLINE_MAX)
                return true;
        if (t->kind != VL_TYPE_STRUCT)
                return false;
        if (t->n_fields > 2)
                return true;
        for (size_t i = 0; i < t->n_fields; i++) {
                const VlType *ft = t->fields[i].type;
                if (ft && !ft->nullable && (ft->kind == VL_TYPE_STRUCT || ft->kind == VL_TYPE_ENUM))
                        return true;
        }
        return false;
}

/* The one-line form. */
static int write_inline(Writer *w, const VlType *t) {
        int r;

        if (t->nullable) {
                r = put(w, "?");
                if (r < 0)
                        return r;
        }

        switch (t->kind) {
        case VL_TYPE_ARRAY:
        case VL_TYPE_MAP:
                r = put(w, t->kind == VL_TYPE_ARRAY ? "[]" : "[string]");
                if (r < 0)
                        return r;
                return t->element ? write_inline(w, t->element) : -EINVAL;
        case VL_TYPE_SET:
                return put(w, "[string]()");
        case VL_TYPE_ALIAS:
                return t->alias ? put_colored(w, COLOR_TYPE, t->alias) : -EINVAL;
        case VL_TYPE_STRUCT:
        case VL_TYPE_ENUM:
                r = put(w, "(");
                for (size_t i = 0; r >= 0 && i < t->n_fields; i++) {
                        const VlField *f = &t->fields[i];
                        if (i > 0)
                                r = put(w, ", ");
                        if (r >= 0)
                                r = f->name ? put(w, f->name) : -EINVAL;
                        if (r >= 0 && t->kind == VL_TYPE_STRUCT)
                                r = f->type ? put(w, ": ") : -EINVAL;
                        if (r >= 0 && t->kind == VL_TYPE_STRUCT)
                                r = write_inline(w, f->type);
                }
                return r < 0 ? r : put(w, ")");
        default:
                if (!builtin_name(t->kind))
                        return -EINVAL;
                return put_colored(w, COLOR_TYPE, builtin_name(t->kind));
        }
}

static int write_doc(Writer *w, const char *doc, unsigned level) {
        int r;

        if (!doc)
                return 0;
        for (const char *s = doc;;) {
                const char *e = strchrnul(s, '\n');
                r = put_indent(w, level);
                if (r >= 0 && w->color)
                        r = put(w, COLOR_COMMENT);
                if (r >= 0)
                        r = put(w, "#");
                if (r >= 0 && e > s)
                        r = vl_buf_append_char(w->b, ' ');
                if (r >= 0)
                        r = vl_buf_append(w->b, s, e - s);
                if (r >= 0 && w->color)
                        r = put(w, COLOR_RESET);
                if (r >= 0)
                        r = vl_buf_append_char(w->b, '\n');
                if (r < 0)
                        return r;
                if (*e == '\0')
                        return 0;
                s = e + 1;
        }
}

static int write_block(Writer *w, const VlType *t, unsigned level, size_t column, size_t trailing,
                       bool *ret_broken);

/* One field per line; the '(' and ')' at the parent's level. */
static int write_lines(Writer *w, const VlType *t, unsigned level) {
        int r;

        r = put(w, "(\n");
        for (size_t i = 0; r >= 0 && i < t->n_fields; i++) {
                const VlField *f = &t->fields[i];
                bool last = i + 1 == t->n_fields;

                if (!f->name)
                        return -EINVAL;
                r = write_doc(w, f->doc, level + 1);
                if (r >= 0)
                        r = put_indent(w, level + 1);
                if (r >= 0)
                        r = put(w, f->name);
                if (r >= 0 && t->kind == VL_TYPE_STRUCT) {
                        r = f->type ? put(w, ": ") : -EINVAL;
                        if (r >= 0)
                                r = write_block(w, f->type, level + 1, 2 * (level + 1) + strlen(f->name) + 2,
                                                last ? 0 : 1, NULL);
                }
                if (r >= 0 && !last)
                        r = put(w, ",");
                if (r >= 0)
                        r = put(w, "\n");
        }
        if (r >= 0)
                r = put_indent(w, level);
        if (r >= 0)
                r = put(w, ")");
        return r;
}

/* Writes t starting at column; trailing columns follow it on its last line. */
static int write_block(Writer *w, const VlType *t, unsigned level, size_t column, size_t trailing,
                       bool *ret_broken) {
        const VlType *inner = innermost(t);
        int r;

        if (ret_broken)
                *ret_broken = false;
        if (!has_fields(inner) ||
            (!needs_lines(inner) && column + measure(t, &(bool){false}) + trailing <= VL_IDL_FORMAT_WIDTH))
                return write_inline(w, t);

        /* The wrappers, then the struct or enum in lines. */
        for (const VlType *u = t; u != inner; u = u->element) {
                r = put(w, u->nullable ? "?" : "");
                if (r >= 0)
                        r = put(w, u->kind == VL_TYPE_ARRAY ? "[]" : "[string]");
                if (r < 0)
                        return r;
        }
        if (inner->nullable) {
                r = put(w, "?");
                if (r < 0)
                        return r;
        }
        if (ret_broken)
                *ret_broken = true;
        return write_lines(w, inner, level);
}

static int write_member(Writer *w, const VlMember *m) {
        static const char *const keywords[] = {
                [VL_MEMBER_TYPE] = "type",
                [VL_MEMBER_METHOD] = "method",
                [VL_MEMBER_ERROR] = "error",
        };
        bool broken;
        size_t column;
        int r;

        if ((unsigned)m->kind >= ELEMENTSOF(keywords) || !m->name)
                return -EINVAL;

        r = write_doc(w, m->doc, 0);
        if (r >= 0)
                r = put_colored(w, COLOR_KEYWORD, keywords[m->kind]);
        if (r >= 0)
                r = put(w, " ");
        if (r >= 0)
                r = put_colored(w, m->kind == VL_MEMBER_METHOD ? COLOR_METHOD : COLOR_TYPE, m->name);
        if (r < 0)
                return r;
        column = strlen(keywords[m->kind]) + 1 + strlen(m->name);

        if (m->kind != VL_MEMBER_METHOD) {
                if (!m->type)
                        return -EINVAL;
                r = put(w, " ");
                if (r >= 0)
                        r = write_block(w, m->type, 0, column + 1, 0, NULL);
                return r;
        }

        if (!m->input || !m->output)
                return -EINVAL;
        /* The input's line goes on with " -> (" at least, or " -> ()". */
        r = write_block(w, m->input, 0, column, 4 + (has_fields(m->output) ? 1 : 2), &broken);
        if (r < 0)
                return r;
        column = broken ? 1 : column + measure(m->input, &(bool){false});
        r = put(w, " ");
        if (r >= 0)
                r = put_colored(w, COLOR_KEYWORD, "->");
        if (r >= 0)
                r = put(w, " ");
        if (r >= 0)
                r = write_block(w, m->output, 0, column + 4, 0, NULL);
        return r;
}

static int write_interface(Writer *w, const VlInterface *iface) {
        int r;

        if (!iface->name)
                return -EINVAL;
        r = write_doc(w, iface->doc, 0);
        if (r >= 0)
                r = put_colored(w, COLOR_KEYWORD, "interface");
        if (r >= 0)
                r = put(w, " ");
        if (r >= 0)
                r = put(w, iface->name);
        if (r >= 0)
                r = put(w, "\n");
        for (size_t i = 0; r >= 0 && i < iface->n_members; i++) {
                r = put(w, "\n");
                if (r >= 0)
                        r = write_member(w, &iface->members[i]);
                if (r >= 0)
                        r = put(w, "\n");
        }
        return r;
}

_public_ char *vl_interface_format(const VlInterface *iface, unsigned flags) {
        VlBuf b = VL_BUF_INIT;
        Writer w = {.b = &b, .color = flags & VL_IDL_FORMAT_COLOR};

        if (!iface)
                return NULL;
        if (write_interface(&w, iface) < 0 || vl_buf_append_char(&b, '\0') < 0) {
                vl_buf_free(&b);
                return NULL;
        }
        return b.data;
}

_public_ int vl_type_write(VlBuf *b, const VlType *t) {
        Writer w = {.b = b};

        if (!b || !t)
                return -EINVAL;
        return write_inline(&w, t);
}
