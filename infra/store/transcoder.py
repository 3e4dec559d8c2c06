"""The events' JSON, written by orjson in exactly the library's byte layout.

The library's ``JSONTranscoder`` (the standard ``json`` module, ``separators=(",", ":")``,
``ensure_ascii=False``, registered types as ``{"_type_": name, "_data_": …}``) wrote every event
stored so far. This transcoder writes the same bytes, only faster: the registered types are
replaced by their ``_type_``/``_data_`` objects first, then orjson writes the result.

Where orjson would write something else the standard module takes over for that one object, so
the bytes never differ: a float that ``json`` writes in exponent form (below 1e-4 or from 1e16 on,
NaN, infinity), an integer beyond 64 bits, a key that is not a string, a subclass of a built-in
type, a type nobody registered (the library's own error). Reading is the mirror image: orjson
parses, the ``_type_`` objects are turned back into values, and text orjson refuses (``NaN``) or
would read differently (integers beyond 64 bits become floats) is read by the standard module.
``tests/memory/test_event_bytes.py`` proves both directions against the bytes stored before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding

# The library's settings name the transcoder by topic (config.event_store_env sets it).
TOPIC = f"{__name__}:OrjsonTranscoder"

_SCALARS = frozenset({str, int, bool, type(None)})
_BUILT_IN = frozenset({*_SCALARS, float, dict, list, tuple})
_REVISIT = frozenset({dict, list, float})  # what reading looks at again: containers, and floats
_BEYOND_64_BITS = float(2**63)


class _Unusual(Exception):
    """Something orjson would write differently from the standard module."""


class OrjsonTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        # How each kind of value that is not a plain scalar becomes plain JSON, looked up once.
        self._writers: dict[type, Callable[[Any], Any]] = {
            dict: self._plain_dict,
            list: self._plain_list,
            tuple: self._plain_list,
            float: _plain_float,
        }

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        name, encode, plain = transcoding.name, transcoding.encode, self._plain

        def write(o: Any) -> dict[str, Any]:
            data = encode(o)
            return {"_type_": name, "_data_": data if type(data) in _SCALARS else plain(data)}

        if transcoding.type not in _BUILT_IN:  # json writes these itself, never asking a transcoding
            self._writers[transcoding.type] = write

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj))
        except (_Unusual, orjson.JSONEncodeError):
            return super().encode(obj)

    def decode(self, data: bytes) -> Any:
        try:
            return self._revive(orjson.loads(data))
        except (_Unusual, orjson.JSONDecodeError):
            return super().decode(data)

    def _plain(self, o: Any) -> Any:
        kind = type(o)
        if kind in _SCALARS:
            return o
        writer = self._writers.get(kind)
        if writer is None:
            raise _Unusual
        return writer(o)

    def _plain_dict(self, o: dict[Any, Any]) -> dict[Any, Any]:
        plain = self._plain
        return {key: value if type(value) in _SCALARS else plain(value) for key, value in o.items()}

    def _plain_list(self, o: list[Any] | tuple[Any, ...]) -> list[Any]:
        plain = self._plain
        return [value if type(value) in _SCALARS else plain(value) for value in o]

    def _revive(self, o: Any) -> Any:
        kind = type(o)
        if kind is dict:
            revive = self._revive
            d = {key: revive(value) if type(value) in _REVISIT else value for key, value in o.items()}
            # What the standard decoder's object_hook does, children first.
            return self._decode_obj(d) if len(d) == 2 and "_type_" in d else d
        if kind is list:
            revive = self._revive
            return [revive(value) if type(value) in _REVISIT else value for value in o]
        if kind is float and abs(o) >= _BEYOND_64_BITS:
            raise _Unusual  # orjson reads an integer beyond 64 bits as a float: json keeps it exact
        return o


def _plain_float(o: float) -> float:
    if o == 0.0 or 1e-4 <= abs(o) < 1e16:  # json's repr() writes these without an exponent
        return o
    raise _Unusual
