"""Raw bytes to scannable UTF-8 bytes; binary detection."""
from __future__ import annotations

import codecs

SNIFF = 8192

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


# First bytes of the marks above: any other first byte means no mark, which
# spares five comparisons for almost every file.
_BOM_LEADS = frozenset(bom[0] for bom, _ in _BOMS)


def sniff_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark announces, or None."""
    if not head or head[0] not in _BOM_LEADS:
        return None
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def looks_binary(head: bytes) -> bool:
    """True for content that is not text: a NUL byte in the first 8 KiB of a
    file without a UTF-16/32 byte-order mark."""
    if sniff_encoding(head) not in (None, "utf-8"):
        return False
    return head.find(b"\0", 0, SNIFF) != -1


def to_utf8(data: bytes) -> bytes:
    """Bytes in a form the engine scans: UTF-16/32 with a BOM re-encoded as
    UTF-8, a UTF-8 BOM dropped; anything else passed through unchanged (the
    engine decodes it leniently)."""
    enc = sniff_encoding(data[:4])
    if enc is None:
        return data
    if enc == "utf-8":
        return data[len(codecs.BOM_UTF8):]
    bom = 4 if "32" in enc else 2
    return data[bom:].decode(enc, "replace").encode("utf-8")
