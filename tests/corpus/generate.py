#!/usr/bin/env python3
"""Build the labelled corpus: tests/corpus/files/** and tests/corpus/labels.toml.

    python tests/corpus/generate.py          # (re)write the corpus
    python tests/corpus/generate.py --check  # exit 1 if the committed corpus differs

The corpus is generated once and committed, so it is stable; the generator is
seeded, so running it again gives the same bytes (``--check`` proves it).

Templates (templates_*.py) are realistic files with markers:

* ``«rule.id»`` / ``«rule.id:variant»``: a made-up key of that rule's shape
  (keys.py), labelled with the rule id, the path and line where it starts,
  and the secret a scanner should report;
* ``«b64:rule.id»``: the same key base64-encoded (a Kubernetes Secret's
  ``data:``): labelled where the encoded text starts, with the decoded key;
* ``«~kind»`` / ``«~kind:arg»``: a made-up value that is not a secret
  (UUIDs, hashes, addresses, integrity strings, images); never labelled;
* ``«?~kind»``: an identifier that accompanies a secret (a Twilio API key
  SID): listed as tolerated, so reporting it counts neither way.

Everything the corpus holds that is not labelled is, by construction, a hard
negative: a scanner that reports it scores a false positive.
"""
from __future__ import annotations

import argparse
import base64
import json
import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import keys  # noqa: E402
import templates_apps  # noqa: E402
import templates_data  # noqa: E402
import templates_infra  # noqa: E402
import templates_misc  # noqa: E402

SEED = 20260401
FILES_DIR = HERE / "files"
LABELS = HERE / "labels.toml"
MARK_OPEN, MARK_CLOSE = "«", "»"


def _png(g: keys.Gen) -> str:
    """A real 8x8 RGB PNG of random pixels, base64-encoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + g.bytes(24) for _ in range(8))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode()


def _cert_pem(g: keys.Gen, indent: str = "") -> str:
    der = bytes.fromhex("308203") + g.bytes(780)
    lines = ["-----BEGIN CERTIFICATE-----", *keys.wrap(keys.b64(der)), "-----END CERTIFICATE-----"]
    return "\n".join((indent + line if i else line) for i, line in enumerate(lines))


def negative(g: keys.Gen, kind: str, arg: str) -> str:
    """A value that is not a secret, of the named kind."""
    n = int(arg) if arg.isdigit() else 0
    simple = {
        "uuid": lambda: g.uuid(),
        "sha1": lambda: g.s("h", 40),
        "sha256": lambda: g.s("h", 64),
        "shortsha": lambda: g.s("h", 7),
        "hex": lambda: g.s("h", n),
        "alnum": lambda: g.s("A", n),
        "lower": lambda: g.s("a", n),
        "digits": lambda: g.rnd.choice("123456789") + g.s("d", n - 1),
        "wurl": lambda: g.s("w", n),
        "b64": lambda: g.s("b", n),
        "png": lambda: _png(g),
        "addr": lambda: "0x" + "".join(c.upper() if g.rnd.random() < 0.5 else c for c in g.s("h", 40)),
        "tx": lambda: "0x" + g.s("h", 64),
        "cert": lambda: keys.b64(_cert_pem(g) + "\n"),
        "certpem": lambda: _cert_pem(g, arg),
        "sshpub": lambda: "AAAAC3NzaC1lZDI1NTE5AAAAI" + g.s("b", 43),
        "hexlines": lambda: "\n  ".join(g.s("h", 80) for _ in range(5)),
        "bcrypt": lambda: g.s("b", 53).replace("+", "."),
    }
    return simple[kind]()


# Labels whose credential is a whole document: a scanner that reports any line
# of it (the "type": "service_account" line, the private key) found it.
BLOCK_RULES = {"gcp.service-account-key"}


def render(path: str, template: str, g: keys.Gen) -> tuple[str, list[dict], list[dict]]:
    """The file's text, its labels, and its tolerated values."""
    out: list[str] = []
    labels: list[dict] = []
    tolerated: list[dict] = []
    i = 0
    while True:
        j = template.find(MARK_OPEN, i)
        if j < 0:
            out.append(template[i:])
            break
        out.append(template[i:j])
        k = template.index(MARK_CLOSE, j)
        marker = template[j + 1:k]
        i = k + 1
        prefix = "".join(out)
        if marker.startswith(("~", "?~")):
            kind, _, arg = marker.lstrip("?")[1:].partition(":")
            value = negative(g, kind, arg)
            if marker.startswith("?"):
                tolerated.append({"path": path, "line": prefix.count("\n") + 1, "value": value})
            out.append(value)
            continue
        encode = marker.startswith("b64:")
        if encode:
            marker = marker[4:]
        rule_id, _, variant = marker.partition(":")
        if rule_id not in keys.KEYS:
            raise SystemExit(f"{path}: unknown rule id in marker «{marker}»")
        text, secret = keys.KEYS[rule_id](g, variant)
        if encode:
            text = keys.b64(text)
        # An encoded key (base64 here, or a docker "auth" value) is reported
        # where its encoded text starts.
        at = text.find(secret)
        start = len(prefix) + max(at, 0)
        out.append(text)
        line = prefix.count("\n") + text.count("\n", 0, max(at, 0)) + 1
        label = {"path": path, "line": line, "rule": rule_id, "secret": secret}
        extra = secret.count("\n") if at >= 0 else 0
        if extra:
            label["end_line"] = line + extra
        if at < 0:
            label["encoded"] = text
        if rule_id in BLOCK_RULES:
            first = prefix.count("\n") + 1
            label["block"] = [first, first + text.count("\n")]
        labels.append(label)
    return "".join(out), labels, tolerated


def build() -> tuple[dict[str, str], list[dict]]:
    g = keys.Gen(SEED)
    files: dict[str, str] = {}
    labels: list[dict] = []
    tolerated: list[dict] = []
    for module in (templates_apps, templates_infra, templates_misc, templates_data):
        for path, template in module.FILES.items():
            if path in files:
                raise SystemExit(f"{path}: defined twice")
            text, file_labels, file_tolerated = render(path, template, g)
            files[path] = text
            labels.extend(file_labels)
            tolerated.extend(file_tolerated)
    labels.sort(key=lambda lb: (lb["path"], lb["line"], lb["rule"], lb["secret"]))
    tolerated.sort(key=lambda t: (t["path"], t["line"]))
    return files, labels, tolerated


def labels_toml(labels: list[dict], tolerated: list[dict]) -> str:
    out = [
        "# Labels of the keyscan quality corpus: every made-up secret in tests/corpus/files/.",
        "# Generated by tests/corpus/generate.py; do not edit by hand (edit the templates and regenerate).",
        "#",
        "# [[secret]]: path (relative to tests/corpus/files); line where the secret starts (end_line:",
        "# where a multi-line secret ends); rule: the keyscan rule that should report it; secret: what",
        "# it reports; encoded: the text in the file when the key is base64-encoded there; block: the",
        "# lines of a credential document (a service-account file) any line of which finds it.",
        "# [[tolerated]]: identifiers that accompany a secret (a Twilio API key SID): reporting them",
        "# is neither right nor wrong, so no scanner is scored on them.",
        "",
    ]
    for lb in labels:
        out.append("[[secret]]")
        for key in ("path", "line", "end_line", "rule", "secret", "encoded", "block"):
            if key in lb:
                out.append(f"{key} = {json.dumps(lb[key])}")
        out.append("")
    for t in tolerated:
        out.append("[[tolerated]]")
        for key in ("path", "line", "value"):
            out.append(f"{key} = {json.dumps(t[key])}")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed corpus instead of writing")
    args = ap.parse_args(argv)
    files, labels, tolerated = build()
    wanted = {FILES_DIR / p: t.encode("utf-8") for p, t in files.items()}
    wanted[LABELS] = labels_toml(labels, tolerated).encode("utf-8")
    existing = {p for p in FILES_DIR.rglob("*") if p.is_file()} if FILES_DIR.exists() else set()
    if args.check:
        bad = [str(p.relative_to(HERE)) for p, data in wanted.items() if not p.is_file() or p.read_bytes() != data]
        bad += [f"{p.relative_to(HERE)} (not generated)" for p in existing - set(wanted)]
        for b in sorted(bad):
            print(f"differs: {b}")
        return 1 if bad else 0
    for p in existing - set(wanted):
        p.unlink()
    for p, data in wanted.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        if not p.is_file() or p.read_bytes() != data:
            p.write_bytes(data)
    print(f"{len(files)} files, {len(labels)} labelled secrets, {len({lb['rule'] for lb in labels})} rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
