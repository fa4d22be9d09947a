"""Null bitmaps of tablets: bit set = the value at that position is null."""

from __future__ import annotations


class BitMap:
    """A bitmap of ``size`` positions, LSB-first within each byte (the wire layout)."""

    def __init__(self, size: int):
        self.__size = size
        self.bits = bytearray(size // 8 + 1)

    def mark(self, position: int) -> None:
        self.bits[position // 8] |= 1 << (position % 8)

    def unmark(self, position: int) -> None:
        self.bits[position // 8] &= ~(1 << (position % 8)) & 0xFF

    def is_marked(self, position: int) -> bool:
        return bool(self.bits[position // 8] & (1 << (position % 8)))

    def mark_all(self) -> None:
        for i in range(self.__size):
            self.mark(i)

    def reset(self) -> None:
        self.bits = bytearray(len(self.bits))

    def is_all_unmarked(self) -> bool:
        return not any(self.is_marked(i) for i in range(self.__size))

    def size(self) -> int:
        return self.__size

    def get_size(self) -> int:
        return self.__size
