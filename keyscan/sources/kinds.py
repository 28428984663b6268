"""What a file's name says it is, for the readers that open containers:
kept apart from ``archives`` (which imports tarfile, zipfile, lzma and the
bundle and source map readers, 26 ms) so that the pre-commit scan can ask
about every staged file's name without importing them."""
from __future__ import annotations

TAR_SUFFIXES = (".tar", ".tgz", ".tar.gz", ".taz", ".tar.bz2", ".tbz", ".tbz2", ".tar.xz", ".txz", ".unitypackage")
ZIP_SUFFIXES = (".zip", ".whl", ".jar", ".war", ".ear", ".aar", ".apk", ".nupkg", ".vsix", ".xpi", ".egg", ".ipa")
COMPRESSED = {".gz": "gzip", ".br": "brotli", ".bz2": "bzip2", ".xz": "xz", ".unityweb": "unityweb"}
UNITY_SUFFIXES = (".data", ".wasm")
_COMPRESSED_SUFFIXES = tuple(COMPRESSED)
# What a blob's name must end with to be opened (asked of every blob of a
# history: one test, not kind_of's four).
_OPENED_IN_GIT = TAR_SUFFIXES + ZIP_SUFFIXES + _COMPRESSED_SUFFIXES


def kind_of(name: str) -> str | None:
    """archive kind of a file name: tar, zip, compressed, unity or None."""
    lower = name.lower()
    if lower.endswith(TAR_SUFFIXES):
        return "tar"
    if lower.endswith(ZIP_SUFFIXES):
        return "zip"
    if lower.endswith(_COMPRESSED_SUFFIXES):
        return "compressed"
    if lower.endswith(UNITY_SUFFIXES):
        return "unity"
    return None


def opens_in_git(name: str) -> bool:
    """Is a blob of this name (history, staged) opened as an archive or a
    compressed file rather than read as text?"""
    return name.lower().endswith(_OPENED_IN_GIT)
