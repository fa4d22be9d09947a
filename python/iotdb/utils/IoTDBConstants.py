"""Data types, encodings and compressors, numbered as on the wire."""

from __future__ import annotations

from enum import Enum, unique

import numpy as np


@unique
class TSDataType(Enum):
    BOOLEAN = 0
    INT32 = 1
    INT64 = 2
    FLOAT = 3
    DOUBLE = 4
    TEXT = 5
    TIMESTAMP = 8
    DATE = 9
    BLOB = 10
    STRING = 11

    def __eq__(self, other) -> bool:
        return isinstance(other, TSDataType) and self.value == other.value

    def __hash__(self):
        return self.value

    def np_dtype(self):
        """The numpy dtype the official client uses for this type in tablets (big-endian)."""
        return _NP_DTYPES[self]


_NP_DTYPES = {
    TSDataType.BOOLEAN: np.dtype(">?"),
    TSDataType.INT32: np.dtype(">i4"),
    TSDataType.INT64: np.dtype(">i8"),
    TSDataType.FLOAT: np.dtype(">f4"),
    TSDataType.DOUBLE: np.dtype(">f8"),
    TSDataType.TEXT: np.dtype("str"),
    TSDataType.TIMESTAMP: np.dtype(">i8"),
    TSDataType.DATE: np.dtype("object"),
    TSDataType.BLOB: np.dtype("object"),
    TSDataType.STRING: np.dtype("str"),
}


@unique
class TSEncoding(Enum):
    PLAIN = 0
    DICTIONARY = 1
    RLE = 2
    DIFF = 3
    TS_2DIFF = 4
    BITMAP = 5
    GORILLA_V1 = 6
    REGULAR = 7
    GORILLA = 8
    ZIGZAG = 9
    FREQ = 10
    CHIMP = 11
    SPRINTZ = 12
    RLBE = 13

    def __eq__(self, other) -> bool:
        return isinstance(other, TSEncoding) and self.value == other.value

    def __hash__(self):
        return self.value


@unique
class Compressor(Enum):
    UNCOMPRESSED = 0
    SNAPPY = 1
    GZIP = 2
    LZO = 3
    SDT = 4
    PAA = 5
    PLA = 6
    LZ4 = 7
    ZSTD = 8
    LZMA2 = 9

    def __eq__(self, other) -> bool:
        return isinstance(other, Compressor) and self.value == other.value

    def __hash__(self):
        return self.value
