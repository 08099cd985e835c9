"""Golden directories: config + host root -> the exact generator output.

Each case in tests/golden/<case>/ has root/ (the host: etc/wibond.conf, ...),
expected/ (the normal generator directory, exactly; .empty for none) and
messages (what the generator logs, pid removed). Regenerate after a
deliberate change with WIBOND_REGEN_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from treeutil import diff_trees, read_tree, write_tree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
GOLDEN = os.path.join(HERE, "golden")
GENERATOR = os.path.join(REPO, "generator", "wibond-generator")
CASES = sorted(os.listdir(GOLDEN))
REGEN = os.environ.get("WIBOND_REGEN_GOLDEN") == "1"


def run_generator(root: str, outdirs: list[str]) -> tuple[int, str]:
    env = dict(os.environ, WIBOND_ROOT=root)
    env.pop("SYSTEMD_IN_INITRD", None)
    proc = subprocess.run([sys.executable, GENERATOR, *outdirs], env=env,
                          capture_output=True, text=True, timeout=60)
    messages = re.sub(r"wibond-generator\[\d+\]", "wibond-generator", proc.stderr)
    return proc.returncode, messages


def snapshot(top: str) -> dict:
    out = {}
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            out[path] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, tmp_path) -> None:
    base = os.path.join(GOLDEN, case)
    root = os.path.join(base, "root")
    outs = [str(tmp_path / d) for d in ("normal", "early", "late")]
    for d in outs:
        os.mkdir(d)
    before = snapshot(root)
    code, messages = run_generator(root, outs)
    assert snapshot(root) == before, "the generator wrote outside its directories"
    actual = read_tree(outs[0])
    assert read_tree(outs[1]) == {} and read_tree(outs[2]) == {}
    if REGEN:
        write_tree(actual, os.path.join(base, "expected"))
        with open(os.path.join(base, "messages"), "w") as f:
            f.write(messages)
        with open(os.path.join(base, "exit-status"), "w") as f:
            f.write(f"{code}\n")
    expected = read_tree(os.path.join(base, "expected"))
    problems = diff_trees(expected, actual)
    assert not problems, "\n".join(problems)
    with open(os.path.join(base, "messages")) as f:
        assert messages == f.read()
    with open(os.path.join(base, "exit-status")) as f:
        assert code == int(f.read())
    assert "Traceback" not in messages


@pytest.mark.parametrize("case", CASES)
def test_cli_generate_matches_generator(case: str, tmp_path) -> None:
    """`wibond generate` writes what the generator writes given OUTDIR three times (both
    decide the DHCP client from what is installed under WIBOND_ROOT)."""
    root = os.path.join(GOLDEN, case, "root")
    gen_dir = tmp_path / "gen"
    gen_dir.mkdir()
    run_generator(root, [str(gen_dir)] * 3)
    cli_dir = tmp_path / "cli"
    proc = subprocess.run([sys.executable, "-m", "wibond", "generate", "--config",
                           os.path.join(root, "etc", "wibond.conf"), str(cli_dir)],
                          cwd=REPO, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, WIBOND_ROOT=root))
    assert proc.returncode in (0, 1), proc.stderr
    assert read_tree(str(cli_dir)) == read_tree(str(gen_dir))


def test_generator_does_nothing_in_initrd(tmp_path) -> None:
    root = os.path.join(GOLDEN, "example-archwiki", "root")
    env = dict(os.environ, WIBOND_ROOT=root, SYSTEMD_IN_INITRD="1")
    proc = subprocess.run([sys.executable, GENERATOR, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and os.listdir(tmp_path) == []


def test_generator_without_config_is_silent(tmp_path) -> None:
    code, messages = run_generator(str(tmp_path), [str(tmp_path / "out")] * 3)
    assert code == 0 and messages == ""


def test_generator_wrong_argument_count(tmp_path) -> None:
    code, messages = run_generator(str(tmp_path), [str(tmp_path), str(tmp_path)])
    assert code == 2 and "1 or 3 output directories" in messages
