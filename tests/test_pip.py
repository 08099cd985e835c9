"""`pip install .` into a fresh virtual environment, as the README says, gives a `wibond` whose
every subcommand runs: the packages are found, not listed by hand (a module added to the tree
but left out of the package would crash on the user's machine, never in the checkout)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from test_cli import example_root

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
EXAMPLES = os.path.join(REPO, "examples")
SUBCOMMANDS = ("check", "generate", "apply", "try", "confirm", "rollback", "status", "monitor",
               "report")


@pytest.fixture(scope="module")
def wibond_bin(tmp_path_factory) -> str:
    base = tmp_path_factory.mktemp("pip")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # From a copy of the checkout's files, as a user's clone: nothing of this tree's builds.
    listed = subprocess.run(["git", "-C", REPO, "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True, timeout=60)
    if listed.returncode != 0:
        pytest.skip("not a git checkout (a package's own check runs from its tarball)")
    src = base / "src"
    for rel in filter(None, listed.stdout.decode().split("\0")):
        if os.path.isfile(os.path.join(REPO, rel)):
            os.makedirs(src / os.path.dirname(rel), exist_ok=True)
            shutil.copy2(os.path.join(REPO, rel), src / rel, follow_symlinks=False)
    proc = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(src)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return str(venv / "bin" / "wibond")


def run(wibond: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    # Outside the checkout, so only the installed package can be imported.
    return subprocess.run([wibond, *args], cwd="/", capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **env))


def test_every_subcommand_has_its_help(wibond_bin) -> None:
    proc = run(wibond_bin, "--version")
    assert proc.returncode == 0 and proc.stdout.startswith("wibond "), proc.stderr
    for command in SUBCOMMANDS:
        proc = run(wibond_bin, command, "--help")
        assert proc.returncode == 0 and proc.stdout.startswith("usage: wibond " + command), \
            (command, proc.stderr)


def test_check_and_generate_each_example(wibond_bin, tmp_path) -> None:
    root = example_root(tmp_path / "root")
    examples = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".conf")
                      and f != "wpa_supplicant.conf")
    assert examples
    for name in examples:
        conf = os.path.join(EXAMPLES, name)
        proc = run(wibond_bin, "check", conf, WIBOND_ROOT=str(root))
        assert proc.returncode == 0, (name, proc.stderr)
        assert "Traceback" not in proc.stderr
        out = tmp_path / f"units-{name}"
        proc = run(wibond_bin, "generate", "--config", conf, str(out), WIBOND_ROOT=str(root))
        assert proc.returncode == 0, (name, proc.stderr)
        assert (out / "wibond" / "config.json").exists()
