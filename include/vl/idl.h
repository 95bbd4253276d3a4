/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libvl IDL: the Varlink interface definition language (UAPI.20).
 *
 * An interface is parsed into a read-only tree of the structs below; doc
 * comments are kept on the interface, on every member and on every struct
 * field, so the description can be reproduced for introspection.
 * vl_interface_format() prints the canonical form; formatting is a fixed
 * point: format(parse(format(parse(x)))) == format(parse(x)).
 */

#include <stdbool.h>
#include <stddef.h>

#include <vl/json.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum VlTypeKind {
        VL_TYPE_BOOL,
        VL_TYPE_INT,
        VL_TYPE_FLOAT,
        VL_TYPE_STRING,
        VL_TYPE_OBJECT, /* "object": any JSON object, not checked further */
        VL_TYPE_ANY,    /* "any": any JSON value */
        VL_TYPE_STRUCT, /* (a: T, b: U) */
        VL_TYPE_ENUM,   /* (a, b, c) */
        VL_TYPE_ARRAY,  /* []T */
        VL_TYPE_MAP,    /* [string]T */
        VL_TYPE_SET,    /* [string]() */
        VL_TYPE_ALIAS,  /* a named type declared with "type" */
} VlTypeKind;

typedef struct VlType VlType;

typedef struct VlField {
        char *name;
        VlType *type; /* NULL for enum values */
        char *doc;    /* doc comment lines without "# ", joined by '\n'; NULL if none */
} VlField;

struct VlType {
        VlTypeKind kind;
        bool nullable;   /* ?T */
        VlType *element; /* ARRAY and MAP: the element type */
        char *alias;     /* ALIAS: the type's name */
        VlField *fields; /* STRUCT: fields; ENUM: values (type NULL) */
        size_t n_fields;
};

typedef enum VlMemberKind {
        VL_MEMBER_TYPE,
        VL_MEMBER_METHOD,
        VL_MEMBER_ERROR,
} VlMemberKind;

typedef struct VlMember {
        VlMemberKind kind;
        char *name;
        char *doc;
        VlType *type;   /* TYPE: the definition (a STRUCT or ENUM); ERROR: a STRUCT */
        VlType *input;  /* METHOD: a STRUCT */
        VlType *output; /* METHOD: a STRUCT */
        unsigned line;  /* where it was declared, 1-based */
} VlMember;

typedef struct VlInterface {
        char *name;
        char *doc;
        VlMember *members; /* in declaration order */
        size_t n_members;
        char *description; /* the source text as given to the parser */
} VlInterface;

/* Where and why parsing failed: "file:line:col: message" is the way to print it. */
typedef struct VlIdlError {
        unsigned line;   /* 1-based */
        unsigned column; /* 1-based, in bytes */
        char message[128];
} VlIdlError;

/*
 * Parse an interface description. Checks the grammar and the names
 * (interface, member and field names), rejects duplicate members, duplicate
 * fields and references to types that are not declared. err may be NULL.
 * Returns 0, -EINVAL on a syntax or semantic error, -ENOMEM.
 */
int vl_interface_parse(const char *text, size_t len, VlInterface **ret, VlIdlError *err);
VlInterface *vl_interface_free(VlInterface *iface); /* accepts NULL, returns NULL */

/* The canonical text of the interface, malloc'ed. flags: VL_IDL_FORMAT_COLOR
 * adds ANSI highlighting for terminals. NULL on allocation failure. */
enum { VL_IDL_FORMAT_COLOR = 1 << 0 };
char *vl_interface_format(const VlInterface *iface, unsigned flags);

/* Look up a member by name and kind; NULL if there is none. */
const VlMember *vl_interface_find(const VlInterface *iface, VlMemberKind kind, const char *name);

/* Print a type in IDL syntax (e.g. "?[]string", "(a: int, b: ?Foo)"). */
int vl_type_write(VlBuf *b, const VlType *t);

/* Name checks of the grammar. */
bool vl_interface_name_valid(const char *name);
bool vl_member_name_valid(const char *name);
bool vl_field_name_valid(const char *name);

/*
 * Validate a JSON object against a STRUCT type of the interface: unknown
 * members, missing members whose type is not nullable, and values of the
 * wrong type fail with -EINVAL, and *ret_bad_field (a pointer to the field
 * name, valid as long as the interface or v lives) names the offending
 * top-level member. A NULL v is an empty object.
 */
int vl_interface_validate(const VlInterface *iface, const VlType *type, const VlJson *v,
                          const char **ret_bad_field);

/* Flags for vl_interface_validate_flags. ALLOW_MISSING accepts absent
 * non-nullable fields at every level (the handler sees them absent and
 * takes a zero value): some peers omit fields they consider defaults. Types
 * of the fields that are present are still checked. */
enum { VL_VALIDATE_ALLOW_MISSING = 1 << 0 };
int vl_interface_validate_flags(const VlInterface *iface, const VlType *type, const VlJson *v,
                                unsigned flags, const char **ret_bad_field);

/* Convenience: validate the input (is_reply false) or output (is_reply true)
 * parameters of a method. -ENOENT if the method does not exist. */
int vl_interface_validate_method(const VlInterface *iface, const char *method, bool is_reply,
                                 const VlJson *v, const char **ret_bad_field);

/* Validate the parameters of an error. -ENOENT if the error does not exist. */
int vl_interface_validate_error(const VlInterface *iface, const char *error, const VlJson *v,
                                const char **ret_bad_field);

#ifdef __cplusplus
}
#endif
