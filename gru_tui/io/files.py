"""Files users name, read safely: only regular files, never past a bound, never blocking.

A FIFO without a writer would block an open forever, /dev/zero or a FIFO with an endless
writer would be read until memory runs out, and a name the system refuses (too long, a loop of
links) raises something other than a refusal: every such case is an :class:`InputError` of
one line here, before anything is read. Stdin ("-") is the one stream allowed, read with the
same bound.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO

from gru_tui.errors import InputError

MAX_TEXT_BYTES = 64 << 20  # text users hand over (inputs, states, session files)


def regular_file_size(path: Path, where: str) -> int:
    """The size of the regular file at `path`, following links; anything else is refused."""
    try:
        status = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"{where}: no such file") from None
    except (OSError, ValueError) as error:  # too long, a loop of links, a NUL in the name
        raise InputError(f"{where} cannot be read: {_reason(error)}") from None
    if stat.S_ISDIR(status.st_mode):
        raise InputError(f"{where} is a directory, not a file")
    if not stat.S_ISREG(status.st_mode):
        raise InputError(f"{where} is not a regular file (a device, FIFO or socket); "
                         "gru-tui reads files")
    return status.st_size


def open_regular(path: Path, where: str) -> tuple[BinaryIO, int]:
    """The regular file at `path`, opened for reading, and its size; anything else is refused
    before it is opened."""
    regular_file_size(path, where)
    try:
        # O_NONBLOCK: a FIFO put in the file's place since the check cannot block the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as error:
        raise InputError(f"{where} cannot be read: {_reason(error)}") from None
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        os.close(fd)
        raise InputError(f"{where} is not a regular file")
    return os.fdopen(fd, "rb"), status.st_size


def read_bytes(path: Path, where: str, limit: int = MAX_TEXT_BYTES) -> bytearray:
    """The whole regular file at `path`, at most `limit` bytes (else InputError)."""
    file, size = open_regular(path, where)
    with file:
        if size > limit:
            raise InputError(f"{where} is {size_text(size)}; gru-tui reads up to "
                             f"{size_text(limit)}")
        try:
            data = _read_to(file.read, limit, first=size + 1)
        except OSError as error:
            raise InputError(f"{where} cannot be read: {_reason(error)}") from None
    if len(data) > limit:  # it grew since the check
        raise InputError(f"{where} is over {size_text(limit)}; gru-tui reads up to "
                         f"{size_text(limit)}")
    return data


def read_stdin(where: str, limit: int = MAX_TEXT_BYTES) -> bytearray:
    """Standard input up to its end, at most `limit` bytes (else InputError)."""
    stream = sys.stdin.buffer
    try:  # read1: what has come so far, as a pipe gives it
        data = _read_to(getattr(stream, "read1", stream.read), limit)
    except OSError as error:
        raise InputError(f"{where} cannot be read: {_reason(error)}") from None
    if len(data) > limit:
        raise InputError(f"{where} holds over {size_text(limit)}; gru-tui reads up to "
                         f"{size_text(limit)}")
    return data


def _read_to(read, limit: int, first: int = 1 << 20) -> bytearray:
    """What `read(n)` gives up to its end or one byte past `limit`, in pieces (a read of
    `limit` bytes at once would take that much memory however little there is), in one
    buffer that is not copied again."""
    data = bytearray(read(min(first, limit + 1)))
    while len(data) <= limit and (more := read(min(1 << 20, limit + 1 - len(data)))):
        data += more
    return data


def path_within(name: str, folder: Path | None, refusal: str) -> Path:
    """`name` as a file inside `folder` (a relative name is taken from there), every link
    followed; a name that leads anywhere else, or any name when there is no folder, is
    refused with `refusal`, the same message whatever exists on the way."""
    if folder is None or "\x00" in name:
        raise InputError(refusal)
    try:
        root = folder.resolve()
        path = (root / name).resolve()
    except (OSError, RuntimeError):  # a name too long, a loop of links
        raise InputError(refusal) from None
    if path == root or not path.is_relative_to(root):
        raise InputError(refusal)
    return path


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error)


def size_text(count: int) -> str:
    """A byte count as people read it: "12 MiB", "4,096 bytes"."""
    return f"{count / 2**20:.0f} MiB" if count >= 2**20 else f"{count:,} bytes"
