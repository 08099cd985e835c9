"""`wibond report`: everything a hardware bug report needs, and no key, password or PSK."""

from __future__ import annotations

import os
import subprocess
import sys

from wibond.cli.bugreport import redact, report

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PSK_HEX = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
PASSPHRASE = "correct horse battery"

# What wpa_supplicant (-d), a wpa_supplicant file and a log may hold.
SECRETS_TEXT = f"""network={{
\tssid="home"
\t#psk="{PASSPHRASE}"
\tpsk={PSK_HEX}
\tsae_password='{PASSPHRASE}'
\tpassword="{PASSPHRASE}"
\twep_key0=1234567890
}}
wlan0: WPA: PMK - hexdump(len=32): 01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef
wlan0: WPA: PTK - hexdump(len=48): aa bb cc dd ee ff 00 11 22 33 44 55 66 77 88 99
wlan0: PSK (from passphrase) - hexdump(len=32): {' '.join(PSK_HEX[i:i + 2] for i in range(0, 64, 2))}
wlan0: passphrase: {PASSPHRASE}
"""


def test_redact_replaces_every_key_form() -> None:
    out = redact(SECRETS_TEXT)
    for secret in (PSK_HEX, PASSPHRASE, "1234567890", "01 23 45 67", "aa bb cc dd", "01 23 45"):
        assert secret not in out, secret
    assert 'ssid="home"' in out and "[redacted]" in out
    assert "PMK - hexdump(len=32): [redacted]" in out


def test_the_report_holds_what_a_bug_report_needs_and_no_secret(tmp_path, monkeypatch) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "wibond.conf").write_text("[bond0]\n[[eth0]]\n[[wlan0]]\n")
    (tmp_path / "etc" / "os-release").write_text('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\n')
    net = tmp_path / "sys" / "class" / "net"
    (net / "bond0" / "bonding").mkdir(parents=True)
    (net / "bond0" / "bonding" / "slaves").write_text("wlan0\n")
    (net / "wlan0" / "phy80211").mkdir(parents=True)
    (net / "wlan0" / "phy80211" / "name").write_text("phy0\n")
    (net / "wlan0" / "device").mkdir()
    (net / "wlan0" / "device" / "uevent").write_text("DRIVER=rtl8xxxu\nPRODUCT=bda/8179/0\n")
    monkeypatch.setenv("WIBOND_ROOT", str(tmp_path))
    ran: list[list[str]] = []

    def run(argv: list[str]) -> str:
        ran.append(argv)
        if argv[0] == "journalctl":
            return SECRETS_TEXT
        if argv[:2] == ["iw", "phy"]:
            return "Wiphy phy0\n\tSupported interface modes:\n\t\t * managed\n\tsecret stuff\n"
        return f"{' '.join(argv)} said this\n"

    def read(path: str) -> str:
        return (tmp_path / path.lstrip("/")).read_text() if (tmp_path / path.lstrip("/")).exists() \
            else "(absent)\n"

    text = report(run=run, read=read)
    for secret in (PSK_HEX, PASSPHRASE):
        assert secret not in text
    for want in ("### versions", "wibond 0.", "Debian GNU/Linux 13 (trixie)",
                 "### config (/etc/wibond.conf)", "[[wlan0]]", "### bond0: the kernel's view",
                 "### bond0: wlan0", "driver rtl8xxxu; USB 0bda:8179",
                 "iw dev wlan0 link said this", "iw dev wlan0 get power_save said this",
                 "Supported interface modes", "ethtool -i wlan0 said this", "### rfkill",
                 "### bond0: eth0\n(not present)"):
        assert want in text, want
    assert ["journalctl", "-b", "--no-pager", "-q", "-o", "short-monotonic", "-n", "400",
            "-u", "wibond@*"] == ran[[r[0] for r in ran].index("journalctl")][:10]


def test_wibond_report_runs_without_root_or_a_bond(tmp_path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "wibond.conf").write_text("[bond0]\n[[eth0]]\n")
    proc = subprocess.run([sys.executable, "-m", "wibond", "report"], cwd=REPO,
                          env=dict(os.environ, WIBOND_ROOT=str(tmp_path)),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# wibond report")
    assert "### bond0: the kernel's view\n(not created)" in proc.stdout
