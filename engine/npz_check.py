"""Look inside an ``.npz`` before loading it: is it one, and how much memory would its arrays take?

``np.load`` trusts the file: a 1.5 MB archive of zeros can unpack to gigabytes (a zip bomb), an
``.npy`` header can promise any shape, and a file that is not a zip at all is reported as "pickled
data". This reads only the zip directory and each member's ``.npy`` header, so a file is refused
in one line before anything large is allocated. Pure standard library and numpy.
"""
from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

NPY_MAGIC = b"\x93NUMPY"


class NpzError(ValueError):
    """Not an .npz archive, or one whose arrays are inconsistent; one line."""


class NpzTooLarge(NpzError):
    """An archive whose arrays would take more memory than the caller allows."""


@dataclass(frozen=True)
class Member:
    name: str  # array name (the member's name without .npy)
    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def _header(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Member:
    with zf.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f)
        except (ValueError, EOFError) as e:
            raise NpzError(f"array '{info.filename}' has no valid .npy header ({e})") from None
    return Member(info.filename.removesuffix(".npy"), tuple(int(n) for n in shape), dtype)


def inspect_npz(file: str | BinaryIO, max_bytes: int) -> list[Member]:
    """The archive's arrays (name, shape, dtype) from their headers, refusing more than ``max_bytes`` in all.

    Object arrays are listed (their caller decides what to say); their size is what the member holds.
    """
    if not zipfile.is_zipfile(file):
        if hasattr(file, "seek"):
            file.seek(0)
            head = file.read(len(NPY_MAGIC))
        else:
            with open(file, "rb") as f:
                head = f.read(len(NPY_MAGIC))
        if head == NPY_MAGIC:
            raise NpzError("a single .npy array, not an .npz archive; save with np.savez(path, name=array, ...)")
        raise NpzError("not an .npz archive (a zip of .npy arrays, as np.savez writes); is it the right file?")
    try:
        with zipfile.ZipFile(file) as zf:
            infos = zf.infolist()
            unpacked = sum(i.file_size for i in infos)
            if unpacked > max_bytes:
                raise NpzTooLarge(f"unpacks to {_size(unpacked)}, over the {_size(max_bytes)} limit")
            members = []
            for info in infos:
                if not info.filename.endswith(".npy"):
                    continue
                member = _header(zf, info)
                if not member.dtype.hasobject and member.nbytes > info.file_size:
                    raise NpzError(f"array '{member.name}' is damaged: its header promises {_size(member.nbytes)} "
                                   f"but the archive holds {_size(info.file_size)}")
                members.append(member)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as e:
        raise NpzError(f"damaged .npz archive ({type(e).__name__}: {e})") from None
    return members


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
