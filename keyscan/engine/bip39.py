"""BIP-39 mnemonic phrases: is a run of words a real English wallet phrase?

A BIP-39 phrase encodes 128 to 256 bits of entropy as 12, 15, 18, 21 or 24
words of the 2048-word English list; each word carries 11 bits, and the last
bits are a checksum: the first ENT/32 bits of SHA-256 of the entropy. Random
English text passes the word test rarely and the checksum test one time in
16 to 256, so a phrase that passes both is almost surely a wallet seed.

The word list is the standard one (``keyscan/data/bip39-english.txt``,
SHA-256 ``2f5eed53…4dbda``, 2048 sorted lines); it is read once, on the first
call, so scans that never see a candidate phrase never load it.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from .validators import validator

WORDLIST_PATH = Path(__file__).resolve().parent.parent / "data" / "bip39-english.txt"
WORDLIST_SHA256 = "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"
WORD_COUNTS = (12, 15, 18, 21, 24)


@lru_cache(maxsize=1)
def wordlist() -> dict[str, int]:
    """Each English BIP-39 word mapped to its 11-bit index."""
    words = WORDLIST_PATH.read_text(encoding="ascii").split("\n")
    if words and words[-1] == "":
        words.pop()
    if len(words) != 2048:
        raise ValueError(f"{WORDLIST_PATH} has {len(words)} words, expected 2048")
    return {word: index for index, word in enumerate(words)}


@lru_cache(maxsize=1)
def _words_by_index() -> tuple[str, ...]:
    return tuple(sorted(wordlist(), key=wordlist().__getitem__))


def entropy(words: list[str]) -> bytes | None:
    """The entropy a phrase encodes, or None when a word is unknown, the
    length is not a BIP-39 length, or the checksum does not match."""
    n = len(words)
    if n not in WORD_COUNTS:
        return None
    index = wordlist()
    bits = 0
    for word in words:
        value = index.get(word)
        if value is None:
            return None
        bits = (bits << 11) | value
    checksum_bits = n // 3  # ENT / 32 with ENT = 32 * n / 3: 4 to 8 bits
    ent_bits = n * 11 - checksum_bits
    data = (bits >> checksum_bits).to_bytes(ent_bits // 8, "big")
    expected = hashlib.sha256(data).digest()[0] >> (8 - checksum_bits)
    if bits & ((1 << checksum_bits) - 1) != expected:
        return None
    return data


def from_entropy(data: bytes) -> str:
    """The English phrase for 16, 20, 24, 28 or 32 bytes of entropy (the
    inverse of ``entropy``; used to make test phrases)."""
    if len(data) not in (16, 20, 24, 28, 32):
        raise ValueError("entropy must be 16, 20, 24, 28 or 32 bytes")
    checksum_bits = len(data) * 8 // 32
    bits = (int.from_bytes(data, "big") << checksum_bits) | (hashlib.sha256(data).digest()[0] >> (8 - checksum_bits))
    n = (len(data) * 8 + checksum_bits) // 11
    words = _words_by_index()
    return " ".join(words[(bits >> (11 * (n - 1 - i))) & 0x7FF] for i in range(n))


def is_mnemonic(phrase: str) -> bool:
    """True when ``phrase`` (words separated by whitespace) is a valid English
    BIP-39 mnemonic. Letter case and the amount of whitespace do not matter."""
    return entropy(phrase.lower().split()) is not None


@validator("bip39")
def _valid_mnemonic(secret: str) -> bool:
    return is_mnemonic(secret)
