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
