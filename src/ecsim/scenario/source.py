"""A scenario file's text, read safely: only a regular file, at most `limits.MAX_BYTES` of it.

The kind of file is checked before it is opened (`os.stat`: a FIFO would block the open, a
device like /dev/zero never ends), and again on the open file, which is opened without
blocking in case it was swapped for a FIFO in between; then at most one byte more than the
limit is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ecsim.scenario import limits
from ecsim.scenario.errors import ScenarioError
from ecsim.scenario.yamlnodes import too_big

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


def read_text(path: Path) -> str:
    """The text of the scenario file at `path`; ScenarioError when it is not one to read."""
    file = str(path)
    try:
        found = os.stat(path)
        _regular(file, found.st_mode)
        if found.st_size > limits.MAX_BYTES:
            raise ScenarioError(file, None, "", too_big(found.st_size))
        fd = os.open(path, _OPEN_FLAGS | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ScenarioError(file, None, "", "no such file") from None
    except OSError as e:
        raise ScenarioError(file, None, "", f"cannot read the file: {e.strerror or e}") from None
    try:
        _regular(file, os.fstat(fd).st_mode)
        data = _read_at_most(fd, limits.MAX_BYTES + 1)
    except OSError as e:
        raise ScenarioError(file, None, "", f"cannot read the file: {e.strerror or e}") from None
    finally:
        os.close(fd)
    if len(data) > limits.MAX_BYTES:
        raise ScenarioError(file, None, "", too_big(None))  # (it grew since os.stat)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ScenarioError(
            file,
            line,
            "",
            f"expected UTF-8 text; got the byte 0x{data[e.start]:02X} at column {column}",
        ) from None


def _regular(file: str, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise ScenarioError(
        file, None, "", f"expected a scenario file (a regular file of YAML); got {kind}"
    )


def _read_at_most(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
