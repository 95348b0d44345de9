"""A free port for a server a test starts in a process of its own."""

from __future__ import annotations

import random
import socket


def free_port() -> int:
    """A port nothing listens on, below the kernel's ephemeral range: a port the kernel hands
    out (bind to 0) can be taken, before the server that is to listen on it is up, as the
    local end of another connection ("address already in use")."""
    low = _ephemeral_low()
    for port in random.sample(range(low // 2, low), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low // 2}..{low - 1}")


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default
