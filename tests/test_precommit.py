"""The pre-commit hooks, run by the real `pre-commit` tool against a checkout
of this repository (its working tree, committed to a temporary repository).

The first run builds the hook's virtualenv from PyPI (tens of seconds); the
runs share one PRE_COMMIT_HOME so it is built once."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import GIT_ENV, ROOT, fake_immutable_publishable, fake_immutable_secret, make_repo

HOOK_REPO_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "keyscan", "rules")


def test_manifest_offers_both_hooks():
    from pre_commit.clientlib import load_manifest

    hooks = {h["id"]: h for h in load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))}
    assert set(hooks) == {"keyscan", "keyscan-files"}
    assert hooks["keyscan"]["entry"] == "keyscan staged" and hooks["keyscan"]["pass_filenames"] is False
    assert hooks["keyscan-files"]["entry"] == "keyscan scan" and hooks["keyscan-files"]["pass_filenames"] is True
    assert all(h["language"] == "python" for h in hooks.values())


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """This checkout's files (as they are now), committed in a fresh repository."""
    dest = tmp_path_factory.mktemp("hook-repo")
    for name in HOOK_REPO_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dest / name)
    repo = make_repo(dest)
    repo.commit("keyscan as a pre-commit hook repository")
    return dest


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory):
    env = dict(os.environ, **GIT_ENV)
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    env.pop("PRE_COMMIT", None)
    return env


def pre_commit(args, cwd, env, timeout=600):
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_try_repo_refuses_a_secret_and_passes_clean_and_publishable(tmp_path, hook_repo, pre_commit_env):
    target = make_repo(tmp_path / "app")
    target.commit("init", {"README.md": "app\n"})
    key = fake_immutable_secret(seed=1)
    target.write("src/settings.py", f"import os\n\nIMX_API_KEY = '{key}'\n")
    target.git("add", "-A")
    res = pre_commit(["try-repo", str(hook_repo), "keyscan", "--verbose"], target.path, pre_commit_env)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert "keyscan (keys in staged changes)" in out and "Failed" in out
    assert "src/settings.py:3:16" in out and "Immutable secret API key" in out
    assert "Settings -> API Keys -> Rotate Key" in out
    assert key not in out

    # A clean change and a publishable key pass, through both hooks.
    target.git("rm", "-q", "--cached", "src/settings.py")
    os.remove(target.path / "src" / "settings.py")
    target.write("web/app.ts", f"export const publishableKey = '{fake_immutable_publishable(seed=2)}'\n")
    target.write("README.md", "app\nmore words\n")
    target.git("add", "-A")
    res = pre_commit(["try-repo", str(hook_repo), "--verbose"], target.path, pre_commit_env)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "keyscan (keys in staged changes)" in out and "keyscan (keys in staged files)" in out
    assert "Failed" not in out and out.count("Passed") == 2


def test_installed_hook_refuses_the_commit(tmp_path, hook_repo, pre_commit_env):
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, capture_output=True, text=True, check=True).stdout.strip()
    target = make_repo(tmp_path / "app")
    target.write(".pre-commit-config.yaml", f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n      - id: keyscan\n")
    target.commit("init")
    pre_commit(["install"], target.path, pre_commit_env).check_returncode()
    key = fake_immutable_secret(seed=3)
    target.write(".env", f"IMX_SECRET={key}\n")
    target.git("add", "-A")
    commit = subprocess.run(["git", "commit", "-m", "add env"], cwd=target.path, env=pre_commit_env, capture_output=True, text=True, timeout=600)
    assert commit.returncode == 1, commit.stdout + commit.stderr
    assert ".env:1:12" in commit.stdout + commit.stderr
    assert target.git("rev-list", "--count", "HEAD").strip() == "1"
