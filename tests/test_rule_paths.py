"""Rule path filters (``paths``, ``exclude_paths``): the one-regex matcher
gives what pathspec's GitIgnoreSpec gives, and negations keep pathspec."""
import random

import pathspec

from keyscan.rulefile import _spec_matcher

PARTS = ["src", "dist", "a.lock", "package-lock.json", "x.svg", "types.d.ts", "d.ts", "lock", "y.js", "node_modules",
         ".", "..", "go.sum", "yarn.lock", "x.LOCK", "a b", ".svg", "c.d.tsx", "é.lock", "\\", "build", "keep.lock", "[x]", "*"]
SPECS = [
    ["package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "*.lock", "go.sum", "*.svg", "*.d.ts"],
    ["dist/", "/build", "src/**/*.js", "**/lock", "a?b", "[xy].svg", "*.LOCK"],
    ["*.lock", "!keep.lock", "dist/"],
]


def test_one_regex_matches_as_pathspec_does():
    rnd = random.Random(5)
    for lines in SPECS:
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
        match = _spec_matcher(spec)
        assert (match == spec.match_file) == any(line.startswith("!") for line in lines)
        hits = 0
        for _ in range(30_000):
            path = "/".join(rnd.choice(PARTS) for _ in range(rnd.randint(1, 5)))
            path = rnd.choice(["", "", "", "./", "/"]) + path
            assert match(path) == spec.match_file(path), (lines, path)
            hits += match(path)
        assert 1_000 < hits < 29_000  # both answers were tried often
