"""The rules ship inside the wheel: build it, install it in a fresh
virtualenv, and run `keyscan rules list` from there (outside the checkout)."""
import json
import subprocess
import sys
import venv

from helpers import ROOT, fake_immutable_secret


def test_wheel_ships_rules_and_scans(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], check=True, capture_output=True, timeout=600)
    [wheel] = list(dist.glob("keyscan-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], check=True, capture_output=True, timeout=600)
    ks = env_dir / "bin" / "keyscan"
    work = tmp_path / "elsewhere"
    work.mkdir()
    out = subprocess.run([str(ks), "rules", "list", "--format", "json"], cwd=work, capture_output=True, text=True, check=True)
    ids = {r["id"] for r in json.loads(out.stdout)["rules"]}
    assert {"immutable.secret-key", "immutable.publishable-key"} <= ids
    # The installed copy reads its rules from site-packages, not this checkout.
    where = subprocess.run([str(py), "-c", "from keyscan.rulefile import builtin_rules_dir; print(builtin_rules_dir())"], cwd=work, capture_output=True, text=True, check=True)
    assert "site-packages" in where.stdout and str(ROOT) not in where.stdout
    (work / "a.env").write_text(f"K={fake_immutable_secret(seed=1)}\n")
    res = subprocess.run([str(ks), "scan"], cwd=work, capture_output=True, text=True)
    assert res.returncode == 1 and "Immutable secret API key" in res.stdout
