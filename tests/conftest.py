import os

import pytest

# Reports must not depend on the developer's terminal or config.
os.environ.pop("NO_COLOR", None)
for key in list(os.environ):
    if key.startswith("KEYSCAN_"):
        del os.environ[key]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A temporary folder that is the working directory (paths report relative to it)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path

# Data, not tests: the quality corpus holds realistic files (some named
# test_*.py), the bundle fixtures a TypeScript project, .node the npm tools.
collect_ignore_glob = ["corpus/*", "fixtures/*", ".node/*"]
