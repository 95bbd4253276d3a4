#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Python side of bench/bench-python.sh: sequential org.example.ping.Ping calls over one connection.

  bench-python.py ADDRESS [CALLS] [ROUNDS]

Prints, for the cpod.varlink client (without and with the interface loaded,
i.e. without and with local type checks and typed decoding) and for a raw
Python socket sending the same bytes (no JSON, no library), the median over
ROUNDS rounds of µs per call and calls/s, as `key value` lines.
"""

import os
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))

from cpod import varlink  # noqa: E402

CALL = b'{"method":"org.example.ping.Ping","parameters":{"ping":"x"}}\0'


def raw_round(path: str, n: int) -> float:
    """Seconds per call for the raw floor: send the bytes, read up to the NUL."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    send, recv = s.sendall, s.recv
    t = time.perf_counter()
    for _ in range(n):
        send(CALL)
        buf = recv(65536)
        while not buf.endswith(b"\0"):
            buf += recv(65536)
    took = time.perf_counter() - t
    s.close()
    return took / n


def client_round(address: str, n: int, typed: bool) -> float:
    """Seconds per call through cpod.varlink.Client.call()."""
    with varlink.Client(address) as c:
        if typed:
            c.load_interface("org.example.ping")
        call = c.call
        assert call("org.example.ping.Ping", {"ping": "x"}).ping == "x"
        t = time.perf_counter()
        for _ in range(n):
            call("org.example.ping.Ping", {"ping": "x"})
        return (time.perf_counter() - t) / n


def proxy_round(address: str, n: int) -> float:
    """Seconds per call through an interface proxy (positional argument, typed)."""
    with varlink.Client(address) as c:
        ping = c.interface("org.example.ping").Ping
        t = time.perf_counter()
        for _ in range(n):
            ping("x")
        return (time.perf_counter() - t) / n


def main() -> None:
    address = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    path = varlink.parse_address(address)[1]
    kinds = {
        "raw": lambda: raw_round(path, n),
        "client": lambda: client_round(address, n, False),
        "client_typed": lambda: client_round(address, n, True),
        "proxy": lambda: proxy_round(address, n),
    }
    results = {k: [] for k in kinds}
    for _ in range(rounds):  # interleaved, so that drifts hit every kind alike
        for k, f in kinds.items():
            results[k].append(f())
    for k, v in results.items():
        med = statistics.median(v)
        print(f"{k}_us {med * 1e6:.2f}")
        print(f"{k}_calls_per_s {1 / med:.0f}")


if __name__ == "__main__":
    main()
