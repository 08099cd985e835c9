"""`wibond check` and `wibond generate`: output and exit codes (0 ok, 1 config, 2 usage)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
EXAMPLES = os.path.join(REPO, "examples")


def wibond(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wibond", *args], cwd=REPO,
                          env=dict(os.environ, **env), capture_output=True, text=True, timeout=60)


def example_root(tmp_path):
    """A machine with the example wpa_supplicant file in place, as the README says."""
    wpa = tmp_path / "etc" / "wpa_supplicant" / "wpa_supplicant.conf"
    wpa.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(os.path.join(EXAMPLES, "wpa_supplicant.conf"), wpa)
    wpa.chmod(0o600)
    dhcpcd = tmp_path / "usr" / "sbin" / "dhcpcd"
    dhcpcd.parent.mkdir(parents=True)
    dhcpcd.write_text("")
    dhcpcd.chmod(0o755)
    return tmp_path


def test_check_examples(tmp_path) -> None:
    root = example_root(tmp_path)
    for name in ("archwiki.conf", "raspberry-pi.conf"):
        proc = wibond("check", os.path.join(EXAMPLES, name), WIBOND_ROOT=str(root))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("bond0: active-backup, primary ")
        assert "Traceback" not in proc.stderr
        assert "is not on this machine now" in proc.stderr   # a note: the radios are not here
    # without the radio's file the radio can never join: an error
    os.unlink(root / "etc" / "wpa_supplicant" / "wpa_supplicant.conf")
    proc = wibond("check", os.path.join(EXAMPLES, "archwiki.conf"), WIBOND_ROOT=str(root))
    assert proc.returncode == 1
    assert "wpa_supplicant file /etc/wpa_supplicant/wpa_supplicant.conf does not exist" \
        in proc.stderr


def test_check_reports_every_error(tmp_path) -> None:
    conf = tmp_path / "w.conf"
    conf.write_text("[bond0]\nmode = balance-rr\n[[wlan0]]\n[bond1]\nprimary = x\n[[wl;an1]]\n")
    proc = wibond("check", str(conf))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert f"{conf}:2: error: [bond0] mode: balance-rr cannot work" in lines[0]
    assert any("[[wl;an1]] slave name" in ln for ln in lines)
    assert lines[-1] == f"{conf}: 3 error(s), 0 warning(s)"


def test_check_defaults_to_etc_under_root(tmp_path) -> None:
    root = example_root(tmp_path)
    (root / "etc" / "wibond.conf").write_text("[bond0]\n[[wlan0]]\n")
    proc = wibond("check", WIBOND_ROOT=str(root))
    assert proc.returncode == 0 and "bond0: active-backup, primary wlan0" in proc.stdout
    # the same with --config, and both ways at once when they agree
    conf = str(root / "etc" / "wibond.conf")
    assert wibond("check", "--config", conf, WIBOND_ROOT=str(root)).returncode == 0
    assert wibond("check", "--config", conf, conf, WIBOND_ROOT=str(root)).returncode == 0
    proc = wibond("check", "--config", conf, "/elsewhere.conf", WIBOND_ROOT=str(root))
    assert proc.returncode == 2 and "two configs given" in proc.stderr


def test_check_says_how_each_bond_watches_its_links(tmp_path) -> None:
    conf = tmp_path / "w.conf"
    conf.write_text("[b]\narp_interval = 200\narp_ip_target = gateway\n[[eth0]]\n"
                    "[c]\naddress = 10.0.0.2/24\ngateway = 10.0.0.1\narp_interval = 100\n"
                    "arp_ip_target = gateway, 10.0.0.9\n[[eth1]]\n[d]\n[[eth2]]\n")
    lines = wibond("check", str(conf)).stdout.splitlines()
    assert lines[0].endswith("; monitoring ARP every 200 ms to the DHCP lease's router, "
                             "validate all (MII every 100 ms until the lease)"), lines
    assert lines[1].endswith("; monitoring ARP every 100 ms to 10.0.0.1, 10.0.0.9, validate all")
    assert lines[2].endswith("; monitoring MII every 100 ms")


def test_check_missing_file(tmp_path) -> None:
    proc = wibond("check", str(tmp_path / "none.conf"))
    assert proc.returncode == 1 and "no such file" in proc.stderr


def test_usage_errors() -> None:
    assert wibond().returncode == 2
    assert wibond("frobnicate").returncode == 2
    assert wibond("generate").returncode == 2
    assert wibond("check", "a", "b").returncode == 2


def test_generate_refuses_nonempty_dir(tmp_path) -> None:
    (tmp_path / "x").write_text("")
    proc = wibond("generate", "--config", os.path.join(EXAMPLES, "archwiki.conf"), str(tmp_path))
    assert proc.returncode == 2 and "is not empty" in proc.stderr


def test_generate_exit_1_on_config_errors_but_writes_good_bonds(tmp_path) -> None:
    conf = tmp_path / "w.conf"
    conf.write_text("[good]\n[[wlan0]]\n[bad]\nmode = broadcast\n[[wlan1]]\n")
    out = tmp_path / "out"
    proc = wibond("generate", "--config", str(conf), str(out))
    assert proc.returncode == 1
    assert "good-supplicant@.service" in os.listdir(out)
    assert not any(n.startswith("bad") for n in os.listdir(out))


def test_commands_that_change_the_network_refuse_a_test_root(tmp_path) -> None:
    root = example_root(tmp_path)
    (root / "etc" / "wibond.conf").write_text("[bond0]\n[[wlan0]]\n")
    for args in (("apply",), ("try",), ("confirm",), ("rollback",)):
        proc = wibond(*args, WIBOND_ROOT=str(root))
        assert proc.returncode == 1, (args, proc.stderr)
        assert f"WIBOND_ROOT={root} is set (it is for tests)" in proc.stderr, proc.stderr
    # what only reads still works under it
    assert wibond("apply", "--dry-run", WIBOND_ROOT=str(root)).returncode == 0


def test_apply_names_the_file_it_applies_and_its_json_has_a_version(tmp_path) -> None:
    import json

    root = example_root(tmp_path)
    (root / "etc" / "wibond.conf").write_text("[bond0]\n[[wlan0]]\n")
    proc = wibond("apply", "--config", "/tmp/other.conf", WIBOND_ROOT=str(root))
    assert proc.returncode == 2 and "wibond try /tmp/other.conf" in proc.stderr
    proc = wibond("apply", "--dry-run", "--json", WIBOND_ROOT=str(root))
    data = json.loads(proc.stdout)
    assert data["version"] == 1 and data["changes"][0]["kind"] == "add"
    assert set(data["changes"][0]) == {"bond", "kind", "what", "old", "new", "why", "text"}
    assert wibond("apply", "--json", WIBOND_ROOT=str(root)).returncode == 2
    # another file: only what `wibond try FILE` would change (a config manager's check mode)
    other = tmp_path / "candidate.conf"
    other.write_text("[bond0]\n[[wlan0]]\n[bond1]\n[[wlan1]]\n")
    proc = wibond("apply", "--dry-run", "--json", "--config", str(other), WIBOND_ROOT=str(root))
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["config"] == str(other)
    assert {c["bond"] for c in data["changes"]} == {"bond0", "bond1"}
    other.write_text("[bond0]\nmode = nonsense\n")
    proc = wibond("apply", "--dry-run", "--config", str(other), WIBOND_ROOT=str(root))
    assert proc.returncode == 1 and f"wibond apply: {other} has errors" in proc.stderr


def test_confirm_and_rollback_agree_on_nothing_pending() -> None:
    if os.geteuid() != 0 or os.path.exists("/run/wibond-try"):
        import pytest

        pytest.skip("needs root and no try pending on this machine")
    lock = os.path.exists("/run/wibond-try.lock")
    for command in ("confirm", "rollback"):
        proc = wibond(command)
        assert proc.returncode == 1 and "no try is pending" in proc.stderr, proc.stderr
    assert os.path.exists("/run/wibond-try.lock") == lock    # nothing left behind
    assert wibond("rollback", "--deadline").returncode == 0  # the timer's run never fails


def test_an_empty_config_says_it_brings_no_bond_up(tmp_path) -> None:
    conf = tmp_path / "w.conf"
    for text in ("", "# only a comment\n", "\ufeff\r\n"):
        conf.write_text(text)
        proc = wibond("check", str(conf))
        assert proc.returncode == 0 and "brings no bond up" in proc.stderr, proc.stderr
        proc = wibond("generate", "--config", str(conf), str(tmp_path / f"out{len(text)}"))
        assert "brings no bond up" in proc.stderr
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "wibond.conf").write_text("")
    proc = wibond("status", WIBOND_ROOT=str(tmp_path))
    assert proc.returncode == 0 and "brings no bond up" in proc.stderr
    proc = wibond("monitor", "--duration", "1", WIBOND_ROOT=str(tmp_path))
    assert proc.returncode == 1 and "brings no bond up" in proc.stderr


def test_a_windows_file_and_a_typo_are_explained(tmp_path) -> None:
    conf = tmp_path / "w.conf"
    conf.write_bytes(b"\xef\xbb\xbf[bond0]\r\n\tprimay = eth0\r\n\t[[eth0]]\r\n\tmiimon = 100\r\n"
                     b"[eth1]\r\n\ttype = wired\r\n")
    err = wibond("check", str(conf)).stderr
    assert "\\ufeff" not in err and "invalid line" not in err
    assert f"{conf}:2: error: [bond0] primay: unknown key; did you mean primary?" in err
    assert "[bond0] [[eth0]] miimon: a key of the bond, not of a slave: bond keys go above the " \
           "first [[slave]]" in err
    assert "[eth1] type: a key of a slave section; if eth1 is meant as a slave, write it " \
           "[[eth1]] (two brackets)" in err
    conf.write_text("[bond0]\nprimary: eth0 # a: b\n[[eth0]]\n")
    assert "cannot parse 'primary: eth0 # a: b': keys are set with `=`, not `:`" in \
        wibond("check", str(conf)).stderr
    conf.write_text("[bond0]\ndhcp = both\n[[eth0]]\n")
    import json

    data = json.loads(wibond("check", "--json", str(conf)).stdout)
    assert data["version"] == 1 and data["bonds"][0]["dhcp"] == ["ipv4", "ipv6"]
