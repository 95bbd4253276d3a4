# SPDX-License-Identifier: LGPL-2.1-or-later
"""Varlink interface definitions: parser, type model, local validation.

The grammar is the one of UAPI.20 "Varlink IPC": an interface holds type
aliases, methods and errors; a type is ``bool``, ``int``, ``float``,
``string``, ``object``, ``any``, a named type, an anonymous struct
``(a: T, ...)`` or enum ``(x, y)``, an array ``[]T``, a map
``[string]T`` (``[string]()`` is a set), and any of them may be made
nullable with a leading ``?``. Containers nest freely.

Values are checked against these types *before* a call is sent
(:meth:`Interface.encode_call`), and replies are decoded into
:class:`Record` objects with attribute access (:meth:`Interface.decode`).
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from .errors import InvalidParameterError, InterfaceSyntaxError

__all__ = [
    "Type", "Builtin", "Named", "Struct", "Enum", "Array", "Map", "Nullable",
    "Field", "Method", "ErrorDef", "TypeDef", "Interface", "Record", "parse_interface",
]

INTERFACE_NAME = re.compile(r"[A-Za-z](?:-*[A-Za-z0-9])*(?:\.[A-Za-z0-9](?:-*[A-Za-z0-9])*)+")
MEMBER_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
FIELD_NAME = re.compile(r"[A-Za-z](?:_?[A-Za-z0-9])*")
BUILTINS = ("bool", "int", "float", "string", "object", "any")


class Record(Mapping[str, Any]):
    """A decoded Varlink struct: read fields as attributes or by key.

    ``r.images`` and ``r["images"]`` are the same; ``dict(r)`` or
    :meth:`asdict` give a plain (recursive) dict back.
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
        d = dict(fields or {})
        d.update(kwargs)
        object.__setattr__(self, "_fields", d)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(f"record has no field {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("records are read-only")

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._fields == other._fields
        if isinstance(other, Mapping):
            return self._fields == dict(other)
        return NotImplemented

    def __hash__(self) -> int:  # records are mutable containers underneath
        raise TypeError("unhashable type: 'Record'")

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._fields.items())
        return f"Record({inner})"

    def __dir__(self) -> List[str]:
        return sorted(set(self._fields) | set(super().__dir__()))

    def asdict(self) -> Dict[str, Any]:
        """A plain dict, with nested records and sets converted too (JSON-ready)."""
        return {k: _plain(v) for k, v in self._fields.items()}

    # python-varlink's namespace objects offer _asdict(); keep the spelling users know.
    _asdict = asdict


def _plain(v: Any) -> Any:
    if isinstance(v, Record):
        return v.asdict()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return sorted(v)
    return v


def to_record(v: Any) -> Any:
    """Generic decoding when no interface is known: JSON objects become Records."""
    if isinstance(v, dict):
        return Record({k: to_record(x) for k, x in v.items()})
    if isinstance(v, list):
        return [to_record(x) for x in v]
    return v


# --------------------------------------------------------------------------- types

class Type:
    """Base class of the type model; every type can check, encode and decode values."""

    def encode(self, value: Any, path: str, iface: "Interface") -> Any:
        """Checks a Python value and returns its JSON form; raises InvalidParameterError."""
        raise NotImplementedError

    def decode(self, value: Any, iface: "Interface") -> Any:
        """Turns a JSON value of this type into Python objects (lenient)."""
        return value

    def is_nullable(self) -> bool:
        """Whether None (a missing field) is allowed."""
        return False


def _bad(path: str, what: str) -> InvalidParameterError:
    return InvalidParameterError(path, what)


class Builtin(Type):
    """bool, int, float, string, object or any."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Builtin) and other.name == self.name

    def encode(self, value: Any, path: str, iface: "Interface") -> Any:
        n = self.name
        if n == "bool":
            if isinstance(value, bool):
                return value
        elif n == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif n == "float":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
        elif n == "string":
            if isinstance(value, str):
                return value
        elif n == "object":
            if isinstance(value, Mapping):
                return _plain(dict(value))
        else:  # any
            if value is None:
                raise _bad(path, "a value is required (use ?any for null)")
            return _json_value(value, path)
        raise _bad(path, f"expected {n}, got {type(value).__name__}")

    def decode(self, value: Any, iface: "Interface") -> Any:
        if self.name == "object" or self.name == "any":
            return value
        return value


def _json_value(value: Any, path: str) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _json_value(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise _bad(path, f"{type(value).__name__} is not JSON")


class Named(Type):
    """A reference to a type alias declared in the interface."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Named) and other.name == self.name

    def resolve(self, iface: "Interface") -> Type:
        try:
            return iface.types[self.name].type
        except KeyError:
            raise _bad(self.name, f"unknown type {self.name} in {iface.name}") from None

    def encode(self, value: Any, path: str, iface: "Interface") -> Any:
        return self.resolve(iface).encode(value, path, iface)

    def decode(self, value: Any, iface: "Interface") -> Any:
        t = iface.types.get(self.name)
        return t.type.decode(value, iface) if t else to_record(value)


class Field:
    """A struct field: name, type and doc comment."""

    def __init__(self, name: str, type: Type, doc: str = "") -> None:
        self.name = name
        self.type = type
        self.doc = doc

    def __repr__(self) -> str:
        return f"Field({self.name}: {self.type})"


class Struct(Type):
    """``(name: type, ...)``; the field order is the declaration order."""

    def __init__(self, fields: List[Field]) -> None:
        self.fields = fields
        self.by_name = {f.name: f for f in fields}

    def __str__(self) -> str:
        return "(" + ", ".join(f"{f.name}: {f.type}" for f in self.fields) + ")"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Struct) and str(other) == str(self)

    def encode(self, value: Any, path: str, iface: "Interface") -> Dict[str, Any]:
        if isinstance(value, Record):
            value = value._fields
        elif not isinstance(value, Mapping):
            if hasattr(value, "_asdict"):
                value = value._asdict()
            elif hasattr(value, "__dataclass_fields__"):
                value = {k: getattr(value, k) for k in value.__dataclass_fields__}
            else:
                raise _bad(path or "parameters", f"expected a struct, got {type(value).__name__}")
        out: Dict[str, Any] = {}
        for k in value:
            if k not in self.by_name:
                raise _bad(_join(path, k), "unknown field")
        for f in self.fields:
            v = value.get(f.name)
            sub = _join(path, f.name)
            if v is None:
                if not f.type.is_nullable():
                    raise _bad(sub, "missing (the field is not nullable)")
                continue
            out[f.name] = f.type.encode(v, sub, iface)
        return out

    def decode(self, value: Any, iface: "Interface") -> Any:
        if not isinstance(value, dict):
            return value
        out: Dict[str, Any] = {}
        for f in self.fields:
            v = value.get(f.name)
            out[f.name] = None if v is None else f.type.decode(v, iface)
        for k, v in value.items():  # fields a newer peer added
            if k not in out:
                out[k] = to_record(v)
        return Record(out)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class Enum(Type):
    """``(a, b, c)``: one of the names, as a string."""

    def __init__(self, values: List[str]) -> None:
        self.values = values

    def __str__(self) -> str:
        return "(" + ", ".join(self.values) + ")"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Enum) and other.values == self.values

    def encode(self, value: Any, path: str, iface: "Interface") -> str:
        name = getattr(value, "name", value) if not isinstance(value, str) else value
        if isinstance(name, str) and name in self.values:
            return name
        raise _bad(path, f"expected one of {', '.join(self.values)}, got {value!r}")


class Array(Type):
    """``[]T``."""

    def __init__(self, element: Type) -> None:
        self.element = element

    def __str__(self) -> str:
        return f"[]{self.element}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and other.element == self.element

    def encode(self, value: Any, path: str, iface: "Interface") -> List[Any]:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
            raise _bad(path, f"expected an array, got {type(value).__name__}")
        el = self.element
        out = []
        for i, v in enumerate(value):
            if v is None:
                if not el.is_nullable():
                    raise _bad(f"{path}[{i}]", "null element in an array of non-nullable values")
                out.append(None)
            else:
                out.append(el.encode(v, f"{path}[{i}]", iface))
        return out

    def decode(self, value: Any, iface: "Interface") -> Any:
        if not isinstance(value, list):
            return value
        el = self.element
        return [None if v is None else el.decode(v, iface) for v in value]


class Map(Type):
    """``[string]T``; with an empty struct as element type it is a set."""

    def __init__(self, element: Type) -> None:
        self.element = element

    def __str__(self) -> str:
        return f"[string]{self.element}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Map) and other.element == self.element

    @property
    def is_set(self) -> bool:
        """True for ``[string]()``."""
        return isinstance(self.element, Struct) and not self.element.fields

    def encode(self, value: Any, path: str, iface: "Interface") -> Dict[str, Any]:
        if self.is_set and isinstance(value, (set, frozenset, list, tuple)):
            for v in value:
                if not isinstance(v, str):
                    raise _bad(path, f"set members must be strings, got {type(v).__name__}")
            return {v: {} for v in value}
        if not isinstance(value, Mapping):
            raise _bad(path, f"expected a map, got {type(value).__name__}")
        out = {}
        el = self.element
        for k, v in value.items():
            if not isinstance(k, str):
                raise _bad(path, f"map keys must be strings, got {type(k).__name__}")
            sub = f"{path}[{k!r}]"
            if v is None:
                if not el.is_nullable():
                    raise _bad(sub, "null value in a map of non-nullable values")
                out[k] = None
            else:
                out[k] = el.encode(v, sub, iface)
        return out

    def decode(self, value: Any, iface: "Interface") -> Any:
        if not isinstance(value, dict):
            return value
        if self.is_set:
            return set(value)
        el = self.element
        return {k: None if v is None else el.decode(v, iface) for k, v in value.items()}


class Nullable(Type):
    """``?T``: the value may be null or absent."""

    def __init__(self, inner: Type) -> None:
        self.inner = inner

    def __str__(self) -> str:
        return f"?{self.inner}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Nullable) and other.inner == self.inner

    def is_nullable(self) -> bool:
        return True

    def encode(self, value: Any, path: str, iface: "Interface") -> Any:
        return None if value is None else self.inner.encode(value, path, iface)

    def decode(self, value: Any, iface: "Interface") -> Any:
        return None if value is None else self.inner.decode(value, iface)


# --------------------------------------------------------------------------- members

class TypeDef:
    """``type Name (...)``."""

    def __init__(self, name: str, type: Type, doc: str = "") -> None:
        self.name, self.type, self.doc = name, type, doc


class Method:
    """``method Name (in) -> (out)``."""

    def __init__(self, name: str, input: Struct, output: Struct, doc: str = "") -> None:
        self.name, self.input, self.output, self.doc = name, input, output, doc

    def signature(self) -> str:
        """The method as one IDL line."""
        return f"{self.name}{self.input} -> {self.output}"


class ErrorDef:
    """``error Name (...)``."""

    def __init__(self, name: str, type: Struct, doc: str = "") -> None:
        self.name, self.type, self.doc = name, type, doc


class Interface:
    """A parsed interface: its name, doc, types, methods and errors, in order."""

    def __init__(self, name: str, doc: str = "", description: str = "") -> None:
        self.name = name
        self.doc = doc
        self.description = description
        self.types: Dict[str, TypeDef] = {}
        self.methods: Dict[str, Method] = {}
        self.errors: Dict[str, ErrorDef] = {}

    def __repr__(self) -> str:
        return f"<Interface {self.name}: {len(self.methods)} methods>"

    def method(self, name: str) -> Method:
        """The method by short or qualified name; raises MethodNotFound (locally) if absent."""
        short = name.rsplit(".", 1)[-1]
        try:
            return self.methods[short]
        except KeyError:
            from .errors import error_class
            raise error_class("org.varlink.service.MethodNotFound")(
                "org.varlink.service.MethodNotFound", {"method": f"{self.name}.{short}"}) from None

    def encode_call(self, method: str, parameters: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        """Checks call parameters against the method's input struct; returns the JSON object."""
        return self.method(method).input.encode(parameters or {}, "", self)

    def decode_reply(self, method: str, parameters: Optional[Mapping[str, Any]]) -> Record:
        """Reply parameters as a Record typed by the method's output struct."""
        m = self.methods.get(method.rsplit(".", 1)[-1])
        if m is None:
            return to_record(parameters or {})
        return m.output.decode(dict(parameters or {}), self)

    def decode_error(self, error: str, parameters: Optional[Mapping[str, Any]]) -> Any:
        """Error parameters as a Record typed by the error's declaration, when known."""
        e = self.errors.get(error.rsplit(".", 1)[-1])
        if e is None:
            return to_record(parameters or {})
        return e.type.decode(dict(parameters or {}), self)

    def check(self) -> None:
        """Verifies that every named type used is declared (raises InterfaceSyntaxError)."""
        def walk(t: Type, where: str) -> None:
            if isinstance(t, Named):
                if t.name not in self.types:
                    raise InterfaceSyntaxError(f"{self.name}: {where} uses undeclared type {t.name}")
            elif isinstance(t, Struct):
                for f in t.fields:
                    walk(f.type, where)
            elif isinstance(t, (Array, Map)):
                walk(t.element, where)
            elif isinstance(t, Nullable):
                walk(t.inner, where)
        for td in self.types.values():
            walk(td.type, f"type {td.name}")
        for m in self.methods.values():
            walk(m.input, f"method {m.name}")
            walk(m.output, f"method {m.name}")
        for e in self.errors.values():
            walk(e.type, f"error {e.name}")


# --------------------------------------------------------------------------- parser

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>\#[^\n]*)
  | (?P<arrow>->)
  | (?P<punct>[()\[\]?:,])
  | (?P<word>[A-Za-z0-9_](?:[A-Za-z0-9_.]|-(?!>))*)
""", re.VERBOSE)


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks: List[Tuple[str, str, int, str]] = []  # kind, value, line, doc-before
        doc: List[str] = []
        line = 1
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                raise InterfaceSyntaxError(f"line {line}: unexpected character {text[pos]!r}")
            kind = m.lastgroup or ""
            val = m.group()
            if kind == "ws":
                if val.count("\n") > 1:
                    doc = []  # a blank line detaches a comment from the next declaration
            elif kind == "comment":
                doc.append(val[1:].strip())
            else:
                self.toks.append((kind, val, line, "\n".join(doc)))
                doc = []
            line += val.count("\n")
            pos = m.end()
        self.i = 0

    def peek(self) -> str:
        return self.toks[self.i][1] if self.i < len(self.toks) else ""

    def line(self) -> int:
        if self.i < len(self.toks):
            return self.toks[self.i][2]
        return self.toks[-1][2] if self.toks else 1

    def doc(self) -> str:
        return self.toks[self.i][3] if self.i < len(self.toks) else ""

    def next(self) -> str:
        if self.i >= len(self.toks):
            raise InterfaceSyntaxError(f"line {self.line()}: unexpected end of the interface")
        v = self.toks[self.i][1]
        self.i += 1
        return v

    def expect(self, v: str) -> None:
        got = self.next()
        if got != v:
            raise InterfaceSyntaxError(f"line {self.toks[self.i - 1][2]}: expected {v!r}, got {got!r}")

    def name(self, pattern: "re.Pattern[str]", what: str) -> str:
        v = self.next()
        if not pattern.fullmatch(v):
            raise InterfaceSyntaxError(f"line {self.toks[self.i - 1][2]}: invalid {what} {v!r}")
        return v

    def parse(self) -> Interface:
        doc = self.doc()
        self.expect("interface")
        iface = Interface(self.name(INTERFACE_NAME, "interface name"), doc)
        while self.i < len(self.toks):
            doc = self.doc()
            kw = self.next()
            if kw == "type":
                n = self.name(MEMBER_NAME, "type name")
                self._unique(iface, n)
                t = self.paren_type()
                iface.types[n] = TypeDef(n, t, doc)
            elif kw == "method":
                n = self.name(MEMBER_NAME, "method name")
                self._unique(iface, n)
                inp = self.struct()
                self.expect("->")
                out = self.struct()
                iface.methods[n] = Method(n, inp, out, doc)
            elif kw == "error":
                n = self.name(MEMBER_NAME, "error name")
                self._unique(iface, n)
                iface.errors[n] = ErrorDef(n, self.struct(), doc)
            else:
                raise InterfaceSyntaxError(f"line {self.toks[self.i - 1][2]}: expected type, method or "
                                           f"error, got {kw!r}")
        iface.check()
        return iface

    def _unique(self, iface: Interface, n: str) -> None:
        if n in iface.types or n in iface.methods or n in iface.errors:
            raise InterfaceSyntaxError(f"line {self.line()}: {n} is declared twice")

    def struct(self) -> Struct:
        t = self.paren_type()
        if not isinstance(t, Struct):
            raise InterfaceSyntaxError(f"line {self.line()}: expected a struct, got an enum")
        return t

    def paren_type(self) -> Union[Struct, Enum]:
        self.expect("(")
        if self.peek() == ")":
            self.next()
            return Struct([])
        # an enum if the first name is not followed by ':'
        if self.i + 1 < len(self.toks) and self.toks[self.i + 1][1] != ":":
            values: List[str] = []
            while True:
                v = self.name(FIELD_NAME, "enum value")
                if v in values:
                    raise InterfaceSyntaxError(f"line {self.line()}: enum value {v} repeated")
                values.append(v)
                sep = self.next()
                if sep == ")":
                    return Enum(values)
                if sep != ",":
                    raise InterfaceSyntaxError(f"line {self.line()}: expected ',' or ')', got {sep!r}")
        fields: List[Field] = []
        seen = set()
        while True:
            doc = self.doc()
            n = self.name(FIELD_NAME, "field name")
            if n in seen:
                raise InterfaceSyntaxError(f"line {self.line()}: field {n} repeated")
            seen.add(n)
            self.expect(":")
            fields.append(Field(n, self.type(), doc))
            sep = self.next()
            if sep == ")":
                return Struct(fields)
            if sep != ",":
                raise InterfaceSyntaxError(f"line {self.line()}: expected ',' or ')', got {sep!r}")

    def type(self, nullable_ok: bool = True) -> Type:
        tok = self.peek()
        if tok == "?":
            if not nullable_ok:
                raise InterfaceSyntaxError(f"line {self.line()}: '??' is not a type")
            self.next()
            return Nullable(self.type(nullable_ok=False))
        if tok == "[":
            self.next()
            if self.peek() == "]":
                self.next()
                return Array(self.type())
            self.expect("string")
            self.expect("]")
            return Map(self.type())
        if tok == "(":
            return self.paren_type()
        v = self.next()
        if v in BUILTINS:
            return Builtin(v)
        if MEMBER_NAME.fullmatch(v):
            return Named(v)
        raise InterfaceSyntaxError(f"line {self.toks[self.i - 1][2]}: unknown type {v!r}")


def parse_interface(description: str) -> Interface:
    """Parses one interface description (the text GetInterfaceDescription returns)."""
    iface = _Parser(description).parse()
    iface.description = description
    return iface


def iter_fields(struct: Struct) -> Iterable[str]:
    """Field names in declaration order (what positional arguments map to)."""
    return (f.name for f in struct.fields)


SERVICE_INTERFACE = """\
# The Varlink service interface: every service implements it.
interface org.varlink.service

# Information about the service and the interfaces it serves.
method GetInfo() -> (
  vendor: string,
  product: string,
  version: string,
  url: string,
  interfaces: []string
)

# The description of one interface, in the interface definition language.
method GetInterfaceDescription(interface: string) -> (description: string)

error InterfaceNotFound (interface: string)
error MethodNotFound (method: string)
error MethodNotImplemented (method: string)
error InvalidParameter (parameter: string)
error PermissionDenied ()
error ExpectedMore ()
error ExpectedUpgrade ()
"""
