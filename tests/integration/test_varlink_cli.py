# SPDX-License-Identifier: LGPL-2.1-or-later
"""The varlink command-line tool against our certification server and Go's, over every transport."""

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field

import pytest

from conftest import abstract_name, free_tcp_port, read_message

CERT = "org.varlink.certification"
CALL_TIMEOUT = 20

# Exit codes (see man/varlink.1.md).
EXIT_MISSING_COMMAND = 3
EXIT_COMMAND_NOT_FOUND = 4
EXIT_MISSING_ARGUMENT = 5
EXIT_INVALID_ARGUMENT = 6
EXIT_INVALID_JSON = 7
EXIT_CANNOT_CONNECT = 8
EXIT_TIMEOUT = 9
EXIT_REMOTE_ERROR = 12
EXIT_CONNECTION_CLOSED = 14


def run(varlink, *args, input=None, timeout=CALL_TIMEOUT, env=None):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    if env:
        e.update(env)
    return subprocess.run([str(varlink), *map(str, args)], input=input, capture_output=True, text=True,
                          timeout=timeout, env=e)


def parse_stream(text):
    """Concatenated JSON values, as --more prints them."""
    dec, i, out = json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        v, i = dec.raw_decode(text, i)
        out.append(v)


@dataclass
class Target:
    """How the command line reaches a service: global options and an address (None: the options say it)."""
    varlink: object
    address: object = None
    globals: list = field(default_factory=list)
    persistent: bool = True  # one service for all calls (state kept across invocations)

    def ref(self, name):
        return f"{self.address}/{name}" if self.address else name

    def run(self, command, *args, **kw):
        return run(self.varlink, *self.globals, command, *args, **kw)

    def call(self, method, params=None, *flags, expect=0):
        args = [*flags, self.ref(f"{CERT}.{method}")]
        if params is not None:
            args.append(json.dumps(params))
        p = self.run("call", *args)
        assert p.returncode == expect, (method, p.returncode, p.stdout, p.stderr)
        return p


def impl_program(request, impl):
    return request.getfixturevalue("certification_bin" if impl == "cpod" else "go_certification_bin")


def make_target(request, impl, transport):
    varlink = request.getfixturevalue("varlink_bin")
    servers = request.getfixturevalue("servers")
    tmp = request.getfixturevalue("tmp_sock_dir")
    prog = str(impl_program(request, impl))
    path = tmp / "cert.sock"

    if transport in ("unix", "path", "bridge"):
        servers.start([prog, f"--varlink=unix:{path}"], f"unix:{path}")
        if transport == "path":
            return Target(varlink, str(path))
        if transport == "bridge":
            bridge = f"{shlex.quote(str(varlink))} bridge --connect {shlex.quote(f'unix:{path}')}"
            return Target(varlink, None, ["--bridge", bridge])
        return Target(varlink, f"unix:{path}")
    if transport == "abstract":
        address = f"unix:@{abstract_name()}"
        servers.start([prog, f"--varlink={address}"], address)
        return Target(varlink, address)
    if transport == "tcp":
        address = f"tcp:127.0.0.1:{free_tcp_port()}"
        servers.start([prog, f"--varlink={address}"], address)
        return Target(varlink, address)
    if transport == "exec":
        return Target(varlink, f"exec:{prog}", persistent=False)
    if transport == "activate":
        return Target(varlink, None, ["-A", f"{shlex.quote(prog)} --varlink=$VARLINK_ADDRESS"], persistent=False)
    if transport in ("socket-activate", "socket-activate-accept"):
        if not shutil.which("systemd-socket-activate"):
            pytest.skip("systemd-socket-activate is not installed")
        accept = transport.endswith("accept")
        argv = ["systemd-socket-activate", "-l", str(path)] + (["--accept"] if accept else [])
        servers.start(argv + [prog, f"--varlink=unix:{path}"], f"unix:{path}")
        return Target(varlink, f"unix:{path}", persistent=not accept)
    raise ValueError(transport)


PERSISTENT = [
    ("cpod", "unix"), ("go", "unix"),
    ("cpod", "path"), ("go", "path"),
    ("cpod", "abstract"), ("go", "abstract"),
    ("cpod", "tcp"), ("go", "tcp"),
    ("cpod", "bridge"), ("go", "bridge"),
    ("cpod", "socket-activate"), ("go", "socket-activate"),
]
# A service per connection: nothing is remembered from one invocation to the next. Go's server cannot
# take a connected activation socket, so exec: and --accept are ours only.
ONE_SHOT = [
    ("cpod", "exec"),
    ("cpod", "activate"), ("go", "activate"),
    ("cpod", "socket-activate-accept"),
]


@pytest.fixture(params=["cpod", "go"])
def target(request):
    return make_target(request, request.param, "unix")


# ---- the certification sequence, driven value by value through the command line ----

def run_to_test10(t):
    client_id = json.loads(t.call("Start").stdout)["client_id"]
    prev = {}
    for n in range(1, 10):
        prev = json.loads(t.call(f"Test{n:02d}", {"client_id": client_id, **prev}).stdout)
    assert "mytype" in prev
    return client_id, {"client_id": client_id, **prev}


def finish(t, client_id, replies):
    assert len(replies) == 10
    strings = [r["string"] for r in replies]
    p = t.call("Test11", {"client_id": client_id, "last_more_replies": strings}, "--oneway")
    assert p.stdout == ""
    # oneway returns once sent; the service handles End on another connection, so let Test11 land first.
    time.sleep(0.2)
    assert json.loads(t.call("End", {"client_id": client_id}).stdout) == {"all_ok": True}


@pytest.mark.parametrize("impl,transport", PERSISTENT, ids=[f"{i}-{t}" for i, t in PERSISTENT])
def test_certification(request, impl, transport):
    t = make_target(request, impl, transport)
    client_id, params = run_to_test10(t)
    p = t.call("Test10", params, "--more")
    finish(t, client_id, parse_stream(p.stdout))


@pytest.mark.parametrize("impl", ["cpod", "go"])
def test_certification_collect(request, impl):
    t = make_target(request, impl, "unix")
    client_id, params = run_to_test10(t)
    p = t.call("Test10", params, "--collect")
    replies = json.loads(p.stdout)
    assert isinstance(replies, list)
    finish(t, client_id, replies)


@pytest.mark.parametrize("impl", ["cpod", "go"])
def test_certification_more_short(request, impl):
    t = make_target(request, impl, "unix")
    client_id, params = run_to_test10(t)
    p = t.call("Test10", params, "-m", "--json=short")
    lines = p.stdout.splitlines()
    assert len(lines) == 10
    finish(t, client_id, [json.loads(line) for line in lines])


@pytest.mark.parametrize("impl,transport", ONE_SHOT, ids=[f"{i}-{t}" for i, t in ONE_SHOT])
def test_one_shot_transports(request, impl, transport):
    t = make_target(request, impl, transport)
    p = t.run("info", *([t.address] if t.address else []))
    assert p.returncode == 0, p.stderr
    assert f"  {CERT}\n" in p.stdout
    p = t.run("help", t.ref(CERT))
    assert p.returncode == 0, p.stderr
    assert "method Start() -> (client_id: string)" in p.stdout
    assert json.loads(t.call("Start").stdout)["client_id"]


# ---- introspection ----

INFO_RE = re.compile(r"Vendor: .*\nProduct: .*\nVersion: .*\nURL: .*\nInterfaces:\n(  [a-z][\w.-]*\n)+\Z")


def test_info_shape(target):
    p = target.run("info", target.address)
    assert p.returncode == 0, p.stderr
    assert INFO_RE.match(p.stdout), p.stdout
    assert "  org.varlink.service\n" in p.stdout and f"  {CERT}\n" in p.stdout


def test_info_go_exact(request):
    t = make_target(request, "go", "unix")
    p = t.run("info", t.address)
    assert p.stdout == ("Vendor: Varlink\nProduct: Certification\nVersion: 1\nURL: https://github.com/varlink/go\n"
                        "Interfaces:\n  org.varlink.service\n  org.varlink.certification\n")


def test_info_json(target):
    p = target.run("info", "--json=short", target.address)
    assert p.returncode == 0
    assert len(p.stdout.splitlines()) == 1
    info = json.loads(p.stdout)
    assert set(info) >= {"vendor", "product", "version", "url", "interfaces"}
    pretty = target.run("info", "--json=pretty", target.address)
    assert json.loads(pretty.stdout) == info and pretty.stdout.startswith("{\n  \"")


def test_help_is_canonical(target, tmp_path):
    p = target.run("help", target.ref(CERT))
    assert p.returncode == 0, p.stderr
    assert f"interface {CERT}\n" in p.stdout
    assert "method Start() -> (client_id: string)\n" in p.stdout
    assert "\x1b[" not in p.stdout  # no colour on a pipe
    f = tmp_path / "cert.varlink"
    f.write_text(p.stdout)
    check = run(target.varlink, "format", "--check", f)
    assert check.returncode == 0, check.stderr
    # varlinkctl's two-word form prints the same.
    q = target.run("introspect", target.address, CERT)
    assert q.returncode == 0 and q.stdout == p.stdout


def test_help_unknown_interface(target):
    p = target.run("help", target.ref("org.example.nothere"))
    assert p.returncode == EXIT_REMOTE_ERROR
    # Go answers InvalidParameter(interface) where the others say InterfaceNotFound.
    assert "InterfaceNotFound" in p.stderr or "InvalidParameter" in p.stderr


def test_list_interfaces_and_methods(target):
    p = target.run("list-interfaces", target.address)
    assert p.returncode == 0
    assert p.stdout.splitlines() == ["org.varlink.service", CERT]
    p = target.run("list-methods", target.address)
    assert p.returncode == 0
    methods = p.stdout.splitlines()
    assert "org.varlink.service.GetInfo" in methods
    assert [m for m in methods if m.startswith(CERT + ".")] == \
        [f"{CERT}.{m}" for m in ["Start"] + [f"Test{n:02d}" for n in range(1, 12)] + ["End"]]
    p = target.run("list-methods", target.address, CERT)
    assert p.stdout.splitlines()[0] == f"{CERT}.Start" and "org.varlink.service.GetInfo" not in p.stdout


# ---- calls ----

def test_call_forms(target):
    # ADDRESS/INTERFACE.METHOD with an argument, and varlinkctl's ADDRESS METHOD.
    p = run(target.varlink, "call", f"{target.address}/{CERT}.Start", "{}")
    assert p.returncode == 0 and json.loads(p.stdout)["client_id"]
    p = run(target.varlink, "call", target.address, f"{CERT}.Start")
    assert p.returncode == 0 and json.loads(p.stdout)["client_id"]
    # Pretty output: two-space indent.
    assert re.fullmatch(r'\{\n  "client_id": ".*"\n\}\n', p.stdout)


def test_call_stdin(target):
    client_id = json.loads(target.call("Start").stdout)["client_id"]
    p = target.run("call", target.ref(f"{CERT}.Test01"), "-", input=json.dumps({"client_id": client_id}))
    assert p.returncode == 0, p.stderr
    assert isinstance(json.loads(p.stdout)["bool"], bool)


def test_call_remote_error(target):
    p = target.run("call", target.ref(f"{CERT}.Test01"), '{"client_id": "nope"}')
    assert p.returncode == EXIT_REMOTE_ERROR
    assert isinstance(json.loads(p.stdout), dict)
    assert f"{CERT}.ClientIdError" in p.stderr


def test_call_graceful(target):
    p = target.run("call", f"--graceful={CERT}.ClientIdError", target.ref(f"{CERT}.Test01"),
                   '{"client_id": "nope"}')
    assert p.returncode == 0, p.stderr
    assert isinstance(json.loads(p.stdout), dict)
    # Another error is still an error.
    p = target.run("call", "--graceful=org.example.Other", target.ref(f"{CERT}.Test01"), '{"client_id": "x"}')
    assert p.returncode == EXIT_REMOTE_ERROR


def test_call_quiet(target):
    p = target.run("call", "-q", target.ref(f"{CERT}.Start"))
    assert p.returncode == 0 and p.stdout == ""
    p = target.run("call", "-q", target.ref(f"{CERT}.Test01"), '{"client_id": "nope"}')
    assert p.returncode == EXIT_REMOTE_ERROR and p.stdout == ""


def test_call_more_single_reply(target):
    p = target.run("call", "--more", target.ref(f"{CERT}.Start"))
    assert p.returncode == 0, p.stderr
    assert len(parse_stream(p.stdout)) == 1


def test_call_invalid_json(target):
    p = target.run("call", target.ref(f"{CERT}.Start"), '{"a": ')
    assert p.returncode == EXIT_INVALID_JSON and "invalid JSON" in p.stderr
    p = target.run("call", target.ref(f"{CERT}.Start"), "[1]")
    assert p.returncode == EXIT_INVALID_JSON
    p = target.run("call", target.ref(f"{CERT}.Start"), "-", input="{nope}")
    assert p.returncode == EXIT_INVALID_JSON


def test_call_unknown_method(target):
    p = target.run("call", target.ref(f"{CERT}.NoSuchMethod"))
    assert p.returncode == EXIT_REMOTE_ERROR
    assert "org.varlink.service.MethodNotFound" in p.stderr
    assert "NoSuchMethod" in json.loads(p.stdout)["method"]


def test_call_unreachable(varlink_bin, tmp_sock_dir):
    address = f"unix:{tmp_sock_dir}/absent.sock"
    p = run(varlink_bin, "call", f"{address}/{CERT}.Start")
    assert p.returncode == EXIT_CANNOT_CONNECT
    assert f"cannot connect to {address}: " in p.stderr
    p = run(varlink_bin, "info", f"tcp:127.0.0.1:{free_tcp_port()}")
    assert p.returncode == EXIT_CANNOT_CONNECT


def test_closed_mid_reply(varlink_bin, socket_server):
    def half_reply(conn):
        read_message(conn)
        conn.sendall(b'{"parameters": {"mess')
        conn.close()

    s = socket_server(half_reply)
    p = run(varlink_bin, "call", f"{s.address}/org.example.Ping")
    assert p.returncode == EXIT_CONNECTION_CLOSED, (p.returncode, p.stderr)
    assert "closed" in p.stderr


def test_closed_mid_stream(varlink_bin, socket_server):
    def one_of_many(conn):
        read_message(conn)
        conn.sendall(b'{"parameters": {"n": 1}, "continues": true}\0')
        conn.close()

    s = socket_server(one_of_many)
    p = run(varlink_bin, "call", "--more", f"{s.address}/org.example.Stream")
    assert p.returncode == EXIT_CONNECTION_CLOSED
    assert parse_stream(p.stdout) == [{"n": 1}]


def test_timeout(varlink_bin, socket_server):
    def silent(conn):
        read_message(conn)
        conn.recv(1)  # until the client gives up

    s = socket_server(silent)
    start = time.monotonic()
    p = run(varlink_bin, "call", "-t", "0.5", f"{s.address}/org.example.Ping")
    assert p.returncode == EXIT_TIMEOUT, p.stderr
    assert 0.4 < time.monotonic() - start < 5
    p = run(varlink_bin, "--timeout=0.3", "call", f"{s.address}/org.example.Ping")
    assert p.returncode == EXIT_TIMEOUT


def test_oneway_sends_nothing_back(varlink_bin, socket_server):
    seen = []

    def record(conn):
        seen.append(json.loads(read_message(conn)))

    s = socket_server(record)
    p = run(varlink_bin, "call", "--oneway", f"{s.address}/org.example.Note", '{"x": 1}')
    assert p.returncode == 0 and p.stdout == ""
    for _ in range(100):
        if seen:
            break
        time.sleep(0.02)
    assert seen == [{"method": "org.example.Note", "parameters": {"x": 1}, "oneway": True}]


def test_upgrade(varlink_bin, socket_server):
    def shouting(conn):
        call = json.loads(read_message(conn))
        assert call.get("upgrade") is True
        conn.sendall(b'{"parameters": {}}\0')
        while True:
            data = conn.recv(4096)
            if not data:
                break
            conn.sendall(data.upper())
        conn.close()

    s = socket_server(shouting)
    p = run(varlink_bin, "call", "--upgrade", f"{s.address}/org.example.Shout", input="hello\nworld\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "HELLO\nWORLD\n"


def test_resolver(varlink_bin, socket_server, request):
    t = make_target(request, "cpod", "unix")

    def resolver(conn):
        while True:
            msg = read_message(conn)
            if not msg:
                return
            call = json.loads(msg)
            if call["method"] == "org.varlink.resolver.Resolve" and call["parameters"]["interface"] == CERT:
                reply = {"parameters": {"address": t.address}}
            elif call["method"] == "org.varlink.service.GetInfo":
                reply = {"parameters": {"vendor": "test", "product": "resolver", "version": "1", "url": "",
                                        "interfaces": ["org.varlink.resolver", CERT]}}
            else:
                reply = {"error": "org.varlink.resolver.InterfaceNotFound", "parameters": {}}
            conn.sendall(json.dumps(reply).encode() + b"\0")

    r = socket_server(resolver, "resolver.sock")
    p = run(varlink_bin, "-R", r.address, "resolve", CERT)
    assert p.returncode == 0 and p.stdout == f"{t.address}\n"
    p = run(varlink_bin, "-R", r.address, "resolve", "org.example.unknown")
    assert p.returncode == 2
    p = run(varlink_bin, "--resolver", r.address, "call", f"{CERT}.Start")
    assert p.returncode == 0 and json.loads(p.stdout)["client_id"]
    # The bridge without --connect routes calls by interface through the resolver.
    bridge = f"{shlex.quote(str(varlink_bin))} --resolver={r.address} bridge"
    p = run(varlink_bin, "--bridge", bridge, "call", f"{CERT}.Start")
    assert p.returncode == 0 and json.loads(p.stdout)["client_id"]
    p = run(varlink_bin, "--bridge", bridge, "info")
    assert p.returncode == 0 and "Product: resolver" in p.stdout
    # Without a resolver, an address-less call cannot go anywhere.
    p = run(varlink_bin, "-R", "unix:/nonexistent/resolver", "call", f"{CERT}.Start")
    assert p.returncode == 2


# ---- IDL files ----

GOOD_IDL = """# An example.
interface org.example.test

type Point (x: int, y: int)

method Move(p: Point) -> (p: Point)

error Blocked (reason: string)
"""


def test_format_and_validate(varlink_bin, tmp_path):
    good = tmp_path / "good.varlink"
    good.write_text(GOOD_IDL)
    p = run(varlink_bin, "validate", good)
    assert p.returncode == 0 and p.stderr == ""
    p = run(varlink_bin, "format", good)
    assert p.returncode == 0 and "interface org.example.test\n" in p.stdout
    canonical = p.stdout
    # Formatting is a fixed point, and --check agrees.
    messy = tmp_path / "messy.varlink"
    messy.write_text(GOOD_IDL.replace("(x: int, y: int)", "(  x:int,y :   int )"))
    p = run(varlink_bin, "format", "--check", messy)
    assert p.returncode == 1 and "not in canonical form" in p.stderr
    p = run(varlink_bin, "format", "-i", messy)
    assert p.returncode == 0 and messy.read_text() == canonical
    p = run(varlink_bin, "format", "--check", messy)
    assert p.returncode == 0
    p = run(varlink_bin, "format", "-", input=GOOD_IDL)
    assert p.stdout == canonical


def test_validate_errors(varlink_bin, tmp_path):
    bad = tmp_path / "bad.varlink"
    bad.write_text("interface org.example.bad\n\nmethod Foo(x: nosuchtype) -> ()\n")
    for cmd in ("validate", "validate-idl", "format"):
        p = run(varlink_bin, cmd, bad)
        assert p.returncode == EXIT_INVALID_ARGUMENT, (cmd, p.stderr)
        assert re.match(rf"{re.escape(str(bad))}:3:\d+: ", p.stderr), p.stderr
    syntax = tmp_path / "syntax.varlink"
    syntax.write_text("interface org.example.bad\nmethod Foo(\n")
    p = run(varlink_bin, "validate", syntax)
    assert p.returncode == EXIT_INVALID_ARGUMENT
    assert re.match(rf"{re.escape(str(syntax))}:\d+:\d+: ", p.stderr)
    p = run(varlink_bin, "validate", tmp_path / "missing.varlink")
    assert p.returncode == EXIT_INVALID_ARGUMENT


# ---- the command line itself ----

def test_version_and_usage(varlink_bin):
    p = run(varlink_bin, "--version")
    assert p.returncode == 0 and re.fullmatch(r"varlink \d+\.\d+\S*\n", p.stdout)
    for args in (["--help"], ["help"]):
        p = run(varlink_bin, *args)
        assert p.returncode == 0 and p.stdout.startswith("Usage: varlink")
    p = run(varlink_bin, "help", "call")
    assert p.returncode == 0 and "--more" in p.stdout
    assert run(varlink_bin).returncode == EXIT_MISSING_COMMAND
    assert run(varlink_bin, "frobnicate").returncode == EXIT_COMMAND_NOT_FOUND
    assert run(varlink_bin, "call").returncode == EXIT_MISSING_ARGUMENT
    assert run(varlink_bin, "call", "unix:/x/notamethod").returncode == EXIT_INVALID_ARGUMENT
    assert run(varlink_bin, "call", "--json=loud", "unix:/x/a.b.C").returncode == EXIT_INVALID_ARGUMENT
    assert run(varlink_bin, "-t", "soon", "info", "unix:/x").returncode == EXIT_INVALID_ARGUMENT
    assert run(varlink_bin, "info").returncode == EXIT_MISSING_ARGUMENT


def test_complete(target):
    v = target.varlink

    def complete(*words):
        p = run(v, "complete", len(words) - 1, "--", "varlink", *words[1:])
        assert p.returncode == 0, p.stderr
        return p.stdout.splitlines()

    assert {"call", "help", "info", "format"} <= set(complete("varlink", ""))
    assert complete("varlink", "ca") == ["call"]
    assert "--activate=" in complete("varlink", "--ac")
    assert "--more" in complete("varlink", "call", "--m")
    assert complete("varlink", "call", f"{target.address}/{CERT}.Te")[:2] == \
        [f"{target.address}/{CERT}.Test01", f"{target.address}/{CERT}.Test02"]
    assert f"{target.address}/{CERT}" in complete("varlink", "help", f"{target.address}/org")
    assert f"{CERT}.Start" in complete("varlink", "call", target.address, "org.varlink.cer")
    assert complete("varlink", "call", "unix:/nonexistent/x/org.") == []


def test_bash_completion_script():
    script = os.path.join(os.path.dirname(__file__), "..", "..", "shell", "varlink.bash")
    p = subprocess.run(["bash", "-n", script], capture_output=True, timeout=10)
    assert p.returncode == 0, p.stderr


def test_ssh_addresses(varlink_bin, tmp_path, request):
    """ssh-unix: and ssh-exec: through a stand-in for ssh that runs the remote command here."""
    t = make_target(request, "cpod", "unix")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    ssh = bindir / "ssh"
    ssh.write_text('#!/bin/sh\n# drop the options and the host; the rest is the remote command\n'
                   'while [ "$1" != "--" ]; do shift; done\nshift 2\nexec /bin/sh -c "$*"\n')
    ssh.chmod(0o755)
    (bindir / "varlink").symlink_to(varlink_bin)
    env = {"PATH": f"{bindir}:{os.environ['PATH']}"}
    path = t.address[len("unix:"):]

    p = run(varlink_bin, "info", f"ssh-unix:somehost:{path}", env=env)
    assert p.returncode == 0, p.stderr
    assert f"  {CERT}\n" in p.stdout
    p = run(varlink_bin, "call", f"ssh-unix:somehost:{path}/{CERT}.Start", env=env)
    assert p.returncode == 0 and json.loads(p.stdout)["client_id"]
    p = run(varlink_bin, "call", f"ssh-exec:somehost:varlink bridge --connect {t.address}", f"{CERT}.Start",
            env=env)
    assert p.returncode == 0 and json.loads(p.stdout)["client_id"]


def test_interrupt(varlink_bin, socket_server):
    def silent(conn):
        read_message(conn)
        conn.recv(1)

    s = socket_server(silent)
    proc = subprocess.Popen([str(varlink_bin), "call", f"{s.address}/org.example.Ping"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.3)
    proc.send_signal(2)
    assert proc.wait(timeout=10) == 10
    proc.stdout.close()
    proc.stderr.close()


def test_colour_only_on_terminals(target):
    import pty

    def on_tty(env):
        pid, fd = pty.fork()
        if pid == 0:
            os.environ.pop("NO_COLOR", None)
            os.environ.update(env)
            os.execv(str(target.varlink), [str(target.varlink), "call", target.ref(f"{CERT}.Start")])
        out = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        os.waitpid(pid, 0)
        os.close(fd)
        return out.decode()

    assert "\x1b[" in on_tty({})
    assert "\x1b[" not in on_tty({"NO_COLOR": "1"})
