"""Exact, compact storage of a record's long lists (per-step logs, per-example counts) as NumPy
arrays: each list is stored in the smallest form that gives back the very same Python values.

A list is packed under one of these codecs, named in its array's key (``name@codec``):

- ``delta``: non-decreasing integers (steps, backprops, sorted positions) as their differences;
- ``int``: other integers, in the smallest integer type that holds them;
- ``micro``: floats that are whole millionths (the step log rounds to 6 decimals), as integers;
- ``f32``: floats that a float32 holds exactly (measurements copied from float32 tensors);
- ``f64``: any other floats (a learning rate after several decays, NaN, infinities);
- ``bool``: booleans.

:func:`unpack` of :func:`pack` gives back a list equal to the input, element for element and type
for type (``int``, ``float``, ``bool``), so a record read back is the record that was written.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

CODECS = ("delta", "int", "micro", "f32", "f64", "bool", "empty")


def smallest_int(values: np.ndarray) -> np.ndarray:
    """``values`` in the smallest signed or unsigned integer type that holds them all."""
    low, high = int(values.min()), int(values.max())
    for dtype in (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return values.astype(dtype)
    return values.astype(np.int64)


def pack(values: Sequence[Any]) -> tuple[str, np.ndarray]:
    """(codec, array) that :func:`unpack` turns back into ``values``."""
    if len(values) == 0:
        return "empty", np.zeros(0, dtype=np.uint8)
    if all(isinstance(v, bool) for v in values):
        return "bool", np.asarray(values, dtype=np.bool_)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        array = np.asarray(values, dtype=np.int64)
        steps = np.diff(array, prepend=0)
        if len(array) > 1 and (steps[1:] >= 0).all():
            return "delta", smallest_int(steps)
        return "int", smallest_int(array)
    array = np.asarray(values, dtype=np.float64)
    if np.isfinite(array).all() and np.abs(array).max() < 2**52 / 1e6:
        millionths = np.round(array * 1e6)
        if np.array_equal(millionths / 1e6, array):
            return "micro", smallest_int(millionths.astype(np.int64))
    if np.array_equal(array.astype(np.float32).astype(np.float64), array, equal_nan=True):
        return "f32", array.astype(np.float32)
    return "f64", array


def unpack(codec: str, array: np.ndarray) -> list:
    """The list :func:`pack` packed as ``(codec, array)``."""
    if codec == "empty":
        return []
    if codec == "bool":
        return array.astype(bool).tolist()
    if codec == "delta":
        return np.cumsum(array.astype(np.int64)).tolist()
    if codec == "int":
        return array.astype(np.int64).tolist()
    if codec == "micro":
        return (array.astype(np.int64) / 1e6).tolist()
    if codec in ("f32", "f64"):
        return array.astype(np.float64).tolist()
    raise ValueError(f"unknown codec {codec!r}; known: {list(CODECS)}")


#: the suffix of a list's name whose array says which of its entries are not ``None``
PRESENT = "#present"


def pack_lists(lists: Mapping[str, Sequence[Any]]) -> dict[str, np.ndarray]:
    """Every list under its name, as ``{"name@codec": array}``; a list holding ``None`` also gets
    ``{"name#present@bool": mask}`` and packs only its other entries."""
    packed = {}
    for name, values in lists.items():
        if any(v is None for v in values):
            present = [v is not None for v in values]
            packed[f"{name}{PRESENT}@bool"] = np.asarray(present, dtype=np.bool_)
            values = [v for v in values if v is not None]
        codec, array = pack(values)
        packed[f"{name}@{codec}"] = array
    return packed


def unpack_lists(arrays: Mapping[str, np.ndarray]) -> dict[str, list]:
    """The lists of :func:`pack_lists`, by name, in the order they were packed."""
    lists, masks = {}, {}
    for key, array in arrays.items():
        name, _, codec = key.rpartition("@")
        if name.endswith(PRESENT):
            masks[name.removesuffix(PRESENT)] = array.tolist()
        else:
            lists[name] = unpack(codec, array)
    for name, present in masks.items():
        given = iter(lists[name])
        lists[name] = [next(given) if here else None for here in present]
    return lists


def to_npz(arrays: Mapping[str, np.ndarray]) -> bytes:
    """The arrays as the bytes of a compressed ``.npz`` file."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def from_npz(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of :func:`to_npz`'s bytes (never unpickling: object arrays are refused)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as found:
        return {key: found[key] for key in found.files}


def digest(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of the arrays' names, types, shapes and contents (not of how a file compressed them)."""
    hasher = hashlib.sha256()
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        hasher.update(f"{key}|{array.dtype.str}|{array.shape}|".encode())
        hasher.update(array.tobytes())
    return hasher.hexdigest()
