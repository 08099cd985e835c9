"""Hostile and broken input: each class the fuzzing of issue 11 found, fixed at its root.
A broken bond costs only itself; nothing reaches a file as an extra line; no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from wibond.common import formats
from wibond.config import reader
from wibond.runtime.hostio import Host

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
GENERATOR = os.path.join(REPO, "generator", "wibond-generator")
GOOD = "\n[good]\n    address = 10.1.1.2/24\n    [[eth9]]\n"


def load(text: str) -> reader.Loaded:
    return reader.load("t.conf", text=text + GOOD)


def errors(loaded: reader.Loaded) -> list[str]:
    return [str(d) for d in loaded.errors]


@pytest.mark.parametrize("text, where", [
    ("[bond0]\n[[mode]]\n[[eth0]]\n", "t.conf:2: error: [bond0] [[mode]] a slave section cannot "
                                      "have the name of a key of [bond0]"),
    ("[bond0]\n[[eth0]]\n[[[type]]]\n", "t.conf:3: error: [bond0] [[eth0]] [[[type]]] sections "
                                        "nest two deep"),
    ("[bond0]\n[[eth0]]\n[[[x]]]\n", "t.conf:3: error: [bond0] [[eth0]] [[[x]]] sections nest"),
    ("[__many__]\n[[eth0]]\n", "t.conf:1: error: [__many__] a name configobj reserves"),
    ("[DEFAULT]\n[[eth0]]\n", "t.conf:1: error: [DEFAULT] a name configobj reserves"),
    ("[bond0]\n[[DEFAULT]]\n", "t.conf:2: error: [bond0] [[DEFAULT]] a slave section cannot"),
])
def test_sections_validation_cannot_take_cost_only_their_bond(text, where) -> None:
    loaded = load(text)
    assert any(e.startswith(where) for e in errors(loaded)), errors(loaded)
    assert [b.name for b in loaded.bonds] == ["good"]


@pytest.mark.parametrize("header", ["[ ]", "[]", "[  ]  # comment"])
def test_a_header_the_parser_refuses_is_blamed_on_the_bond_it_sits_in(header) -> None:
    loaded = load(f"[bond0]\n[[eth0]]\n[bond1]\n[[eth1]]\n{header}\ndhcp = ipv4\n")
    assert [b.name for b in loaded.bonds] == ["bond0", "good"]
    assert any(e.startswith("t.conf:5: error: [bond1] cannot parse") for e in errors(loaded))
    # the key after it belongs to [[eth1]] for configobj, and so for the message, which says
    # where a bond key goes
    assert any(e.startswith("t.conf:6: error: [bond1] [[eth1]] dhcp: a key of the bond, not of "
                            "a slave: bond keys go above the first [[slave]]")
               for e in errors(loaded)), errors(loaded)


def test_spaced_brackets_are_read_as_the_parser_reads_them() -> None:
    loaded = load("[bond0]\n[[eth0]]\n[ [wlan0] ]\nbitrates = 6\n")
    assert [s.name for s in loaded.bond("bond0").slaves] == ["eth0", "wlan0"]


@pytest.mark.parametrize("key, value", [
    ("dns", "'''fe80::1%eth0\nnameserver 1.2.3.4'''"),
    ("dns", "fe80::1%eth0 search evil"),
    ("dns", "1.2.3.4%eth0"),
    ("address", "fe80::1%eth0/64"),
    ("address", "'''fd00::1%x\nnameserver 6.6.6.6/64'''"),
    ("gateway6", "fe80::1%bond0"),
])
def test_a_scope_id_carries_no_text_into_a_file(key, value) -> None:
    loaded = load(f"[bond0]\n    {key} = {value}\n    [[eth0]]\n")
    assert [b.name for b in loaded.bonds] == ["good"], errors(loaded)
    assert any(f"[bond0] {key}:" in e for e in errors(loaded)), errors(loaded)


def test_a_link_local_dns_server_may_name_its_interface() -> None:
    loaded = load("[bond0]\n    address = 10.0.0.2/24\n    dns = fe80::1%bond0\n    [[eth0]]\n")
    assert loaded.bond("bond0").dns == ["fe80::1%bond0"]


@pytest.mark.parametrize("path", ["/etc/wpa\\", "/etc/wpa\"x", "/etc/$HOME", "/etc/wpa%i",
                                  "/etc/a;b", "/etc/`x`"])
def test_a_wpa_conf_that_would_break_the_environment_file_is_refused(path) -> None:
    loaded = load(f"[bond0]\n    [[wlan0]]\n        wpa_conf = {path}\n")
    assert [b.name for b in loaded.bonds] == ["good"]
    assert any("[bond0] [[wlan0]] wpa_conf:" in e for e in errors(loaded)), errors(loaded)


def test_format_functions_refuse_what_their_format_cannot_hold() -> None:
    with pytest.raises(formats.FormatError):
        formats.env_file([("WPA_CONF", "/etc/x\\")])
    with pytest.raises(formats.FormatError):
        formats.env_file([("WPA_CONF", "/etc/x\nWPA_DRIVER=evil")])
    with pytest.raises(formats.FormatError):
        formats.env_file([("bad key", "x")])
    assert formats.env_file([("A", "/etc/x"), ("B", "")]) == "A=/etc/x\nB=\n"
    with pytest.raises(formats.FormatError):
        formats.resolv_line("nameserver", "1.2.3.4\nsearch evil")
    with pytest.raises(formats.FormatError):
        formats.resolv_line("nameserver", "1.2.3.4 x")
    with pytest.raises(formats.FormatError):
        formats.conf_word("lab; evil")
    with pytest.raises(formats.FormatError):
        formats.conf_string('a"b')
    with pytest.raises(formats.FormatError):
        formats.unit_value("x\nExecStart=/bin/sh")
    with pytest.raises(formats.FormatError):
        formats.unit_value("x\\")
    assert formats.unit_value("/etc/100%.conf") == "/etc/100%%.conf"


def test_a_byte_that_is_not_utf8_costs_only_its_bond(tmp_path) -> None:
    conf = tmp_path / "w.conf"
    conf.write_bytes(b"[bond0]\n[[eth0]]\n[bond1]\nhostname = caf\xe9\n[[eth1]]\n"
                     b"[bond2]\n[[eth2]]\n[bo\xffnd3]\n[[eth3]]\n")
    loaded = reader.load(str(conf))
    assert [b.name for b in loaded.bonds] == ["bond0", "bond2"]
    text = errors(loaded)
    assert any(e.startswith(f"{conf}:4: error: [bond1] is not UTF-8 text") for e in text), text
    assert any(e.startswith(f"{conf}:8: error:") and "not UTF-8" in e for e in text), text


def _generator(root, out) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, GENERATOR, str(out)], capture_output=True, text=True,
                          env=dict(os.environ, WIBOND_ROOT=str(root)), timeout=60)


@pytest.mark.parametrize("target", ["nowhere", "loop"])
def test_a_dangling_or_looping_config_link_is_reported_at_boot(tmp_path, target) -> None:
    (tmp_path / "etc").mkdir()
    link = tmp_path / "etc" / "wibond.conf"
    link.symlink_to(link if target == "loop" else tmp_path / "nowhere")
    proc = _generator(tmp_path, tmp_path / "out")
    assert proc.returncode == 1
    assert "/etc/wibond.conf" in proc.stderr and "error" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_control_characters_are_shown_escaped(tmp_path) -> None:
    conf = tmp_path / "w.conf"
    conf.write_text("[bo\x1b[31mnd0]\n[[eth0]]\n[bond1]\n[[e\x07th1]]\n")
    proc = subprocess.run([sys.executable, "-m", "wibond", "check", str(conf)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr
    assert "[bo\\x1b[31mnd0]" in proc.stderr and "e\\x07th1" in proc.stderr


@pytest.mark.parametrize("name", ["master", "down", "dev", "type", "lo", "all", "default",
                                  "bonding_masters", "-i", "help"])
def test_names_ip_reads_as_keywords_are_refused(name) -> None:
    loaded = load(f"[bond0]\n    [[{name}]]\n        type = wired\n")
    assert [b.name for b in loaded.bonds] == ["good"], name
    loaded = load(f"[{name}]\n    [[eth0]]\n")
    assert [b.name for b in loaded.bonds] == ["good"], name


def test_run_time_writes_replace_a_planted_link_and_never_follow_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WIBOND_ROOT", str(tmp_path))
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    run = tmp_path / "run" / "wibond" / "bond0"
    run.mkdir(parents=True)
    (run / "slave-wlan0.env").symlink_to(victim)
    (run / "slave-wlan0.env.wibond-tmp").symlink_to(victim)  # the old fixed temporary name
    Host(lambda _m: None).save("/run/wibond/bond0/slave-wlan0.env", "A=1\n")
    assert victim.read_text() == "keep\n"
    assert not (run / "slave-wlan0.env").is_symlink()
    assert (run / "slave-wlan0.env").read_text() == "A=1\n"


def test_run_time_writes_set_their_mode_and_never_collide(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WIBOND_ROOT", str(tmp_path))
    old = os.umask(0o077)
    try:
        host = Host(lambda _m: None)
        failures: list[BaseException] = []

        def writer(n: int) -> None:
            for i in range(100):
                try:
                    host.save_bytes("/var/lib/dhcpv6/dhcp6c_duid", f"{n}:{i}".encode())
                except BaseException as e:  # noqa: BLE001 - collected for the assertion
                    failures.append(e)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        os.umask(old)
    assert failures == []
    path = tmp_path / "var" / "lib" / "dhcpv6" / "dhcp6c_duid"
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in path.parent.iterdir()] == ["dhcp6c_duid"]  # no temporary left


def test_a_config_others_can_write_is_warned_about(tmp_path) -> None:
    conf = tmp_path / "w.conf"
    conf.write_text("[bond0]\n    address = 10.0.0.2/24\n    [[eth0]]\n")
    conf.chmod(0o666)
    loaded = reader.load(str(conf))
    assert [b.name for b in loaded.bonds] == ["bond0"]
    warnings = [str(d) for d in loaded.diagnostics if d.severity == reader.WARNING]
    assert any("is writable by every user" in w and "chmod o-w" in w for w in warnings), warnings


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_a_wpa_file_another_user_owns_is_warned_about_by_check(tmp_path) -> None:
    (tmp_path / "etc" / "wpa_supplicant").mkdir(parents=True)
    wpa = tmp_path / "etc" / "wpa_supplicant" / "wpa_supplicant.conf"
    wpa.write_text('network={\n ssid="x"\n psk="0123456789"\n}\n')
    wpa.chmod(0o600)
    os.chown(wpa, 65534, 65534)
    (tmp_path / "etc" / "wibond.conf").write_text("[bond0]\n    address = 10.0.0.2/24\n"
                                                 "    [[wlan0]]\n")
    proc = subprocess.run([sys.executable, "-m", "wibond", "check"], cwd=REPO,
                          env=dict(os.environ, WIBOND_ROOT=str(tmp_path)),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "[bond0] [[wlan0]] /etc/wpa_supplicant/wpa_supplicant.conf is owned by user 65534" \
        in proc.stderr, proc.stderr


def test_a_comment_that_is_not_utf8_costs_nothing(tmp_path) -> None:
    conf = tmp_path / "w.conf"
    conf.write_bytes(b"[bond0]\n# K\xfcche, from an old editor\n[[eth0]]\n  # \xe9t\xe9\n"
                     b"[bond1]\nhostname = caf\xe9\n[[eth1]]\n")
    loaded = reader.load(str(conf))
    assert [b.name for b in loaded.bonds] == ["bond0"]
    text = [str(d) for d in loaded.diagnostics]
    assert f"{conf}:2: warning: is not UTF-8 text; it is a comment, so it is ignored " \
           "(save the file as UTF-8 to silence this)" in text, text
    assert any(t.startswith(f"{conf}:4: warning:") for t in text), text
    assert any(t.startswith(f"{conf}:6: error: [bond1] is not UTF-8 text") for t in text), text


def test_the_generator_shows_a_hostile_bond_name_escaped_in_every_line(tmp_path) -> None:
    """`wibond check` escaped it, the generator's "not brought up" line printed it raw."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "wibond.conf").write_text(
        "[\x1b[31mred]\n[[eth0]]\n[bond\u202e1]\n[[eth1]]\n")
    proc = _generator(tmp_path, tmp_path / "out")
    assert proc.returncode == 1
    assert "\x1b" not in proc.stderr and "\u202e" not in proc.stderr, proc.stderr
    assert "\\x1b[31mred: not brought up because of the errors above" in proc.stderr, proc.stderr
    assert "bond\\u202e1: not brought up" in proc.stderr, proc.stderr


def test_a_step_shows_a_hostile_interface_name_escaped(capsys, monkeypatch) -> None:
    from wibond.runtime.helper import Output

    monkeypatch.delenv("JOURNAL_STREAM", raising=False)

    Output().error("enslave bond0 e\x1bth\u202e0: no such interface")
    err = capsys.readouterr().err
    assert err == "wibond-helper: enslave bond0 e\\x1bth\\u202e0: no such interface\n"
