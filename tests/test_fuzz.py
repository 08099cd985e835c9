"""Property-based fuzzing of the config path (hypothesis, fixed seed): hostile and broken
configs, generated from a grammar of the file and by mutating the bundled examples. For each:

- no exception escapes `reader.load`, the plan or the writers' format functions;
- a good bond placed beside the broken text always comes up;
- `wibond check` and the generator agree: no bond with an error is planned, every good bond is;
- the plan is deterministic and stays inside the generator's directory;
- every line of every file written at boot or at run time (drop-ins, EnvironmentFiles, the DHCP
  clients' configurations, resolv.conf) parses back to the values meant.

WIBOND_FUZZ_EXAMPLES sets how many configs (default 2500, a few seconds a thousand).
"""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, example, given, seed, settings
from hypothesis import strategies as st

from wibond import dhcp
from wibond.boot.plan import File, Symlink, plan_all
from wibond.common import formats, identity
from wibond.config import reader
from wibond.config.model import wpa_conf_for
from wibond.dhcp import DHCLIENT, DHCP6C, DHCPCD

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
EXAMPLES = [open(os.path.join(REPO, "examples", n), encoding="utf-8").read()
            for n in sorted(os.listdir(os.path.join(REPO, "examples"))) if n.endswith(".conf")]
GOOD_NAME = "zgood0"
GOOD = f"\n[{GOOD_NAME}]\n    address = 10.9.9.2/24\n    dhcp = ipv4\n    [[zeth9]]\n"
DUID = identity.default_duid(bytes.fromhex("5ab1e7e57ab1e7e57ab1e7e57ab1e7e5"))
N = int(os.environ.get("WIBOND_FUZZ_EXAMPLES", "2500"))

SPEC = reader._spec()
BOND_KEYS = list(SPEC["__many__"].scalars)
SLAVE_KEYS = list(SPEC["__many__"]["__many__"].scalars)

# (Never the good bond's own names: a second [zgood0] would make that bond itself broken.)
names = st.sampled_from([
    "bond0", "bond1", "eth0", "wlan0", "wlan1", "wlx*", "dongle", "en-dock.1", "wl-int",
    "mode", "primary", "type", "wpa_conf", "__many__", "DEFAULT", "master", "down", "lo", "all",
    "-i", ".hidden", "a" * 16, "bo\x1bnd", "wl an", "caf\u00e9", "x/y", "%i", "$X", "a;b",
    "", " ", "'q'", '"q"', "[x]", "eth0 ",
]) | st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x2FF), max_size=18)
values = st.sampled_from([
    "active-backup", "balance-rr", "active", "none", "follow", "100", "0", "-1", "300",
    "ipv4", "ipv4, ipv6", "none", "auto", "dhcpcd", "dhclient", "udhcpc", "eth0", "wlan0",
    "192.168.1.2/24", "10.0.0.1", "fe80::1", "fe80::1%bond0", "fe80::1%eth0\\n", "1.2.3.4%x",
    "fd00::1/64", "fe80::1%eth0/64", "'''fe80::1%eth0\nnameserver 6.6.6.6'''",
    "'''a\nb'''", "/etc/wpa_supplicant/w.conf", "/etc/w\\", "/etc/$x", "/etc/100%", "rel/path",
    "legacy-2.4 6 9 12", "6;reboot", "00:11:22:33:44:55", "01:00:00:00:00:01", "0bda:8179",
    "nl80211", "nl80211,wext", "lab-host", "bad host", "x" * 300, "", ",", "a, b, c", "'x",
    '"x', "\\", "#", "=", "00:02:00:00:ab:11:01:02:03:04:05:06:07:08", "zz",
]) | st.text(max_size=30)
keys = st.sampled_from(BOND_KEYS + SLAVE_KEYS + ["bogus", "", "=", "[x", "mode mode"])


@st.composite
def grammar_line(draw) -> str:
    kind = draw(st.integers(0, 9))
    indent = draw(st.sampled_from(["", "    ", "\t"]))
    if kind <= 2:
        depth = draw(st.sampled_from([1, 1, 2, 2, 3]))
        return f"{indent}{'[' * depth}{draw(names)}{']' * depth}"
    if kind == 3:
        return draw(st.sampled_from(["[ ]", "[]", "[ [x] ]", "[[x]", "[x]]", "[[[", "]",
                                     "[bond0] # c", "['quoted']", '["bond 1"]']))
    if kind == 4:
        return draw(st.sampled_from(["", "# comment", "  ", "\\", "'''", "key", "= v"]))
    return f"{indent}{draw(keys)} = {draw(values)}"


@st.composite
def configs(draw) -> bytes:
    if draw(st.booleans()):
        lines = draw(st.lists(grammar_line(), max_size=25))
        text = "\n".join(lines)
    else:  # a bundled example, mutated
        lines = draw(st.sampled_from(EXAMPLES)).splitlines()
        for _ in range(draw(st.integers(1, 6))):
            at = draw(st.integers(0, len(lines)))
            op = draw(st.integers(0, 2))
            new = draw(grammar_line())
            if op == 0 or not lines:
                lines.insert(at, new)
            elif op == 1:
                lines[min(at, len(lines) - 1)] = new
            else:
                del lines[min(at, len(lines) - 1)]
        text = "\n".join(lines)
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:  # a byte that is not UTF-8 somewhere
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])) + raw[at:]
    # the good bond, on lines of its own after whatever the text left open
    return raw + GOOD.encode()


def installed(client) -> bool:
    return client.name in ("dhclient", "dhcp6c", "dhcpcd")


_ENV_LINE = re.compile(r"^([A-Z_][A-Z0-9_]*)=(.*)$")


def parse_env(text: str) -> list[tuple[str, str]]:
    """EnvironmentFile= as systemd reads the values formats.env_file writes (no quoting, no
    escapes, no continuation: anything that would need them is refused there)."""
    out = []
    for line in text.split("\n")[:-1]:
        m = _ENV_LINE.match(line)
        assert m, line
        assert "\\" not in m.group(2) and not re.search("[\"'$`]", m.group(2)), line
        out.append((m.group(1), m.group(2)))
    return out


def check_unit_file(path: str, text: str) -> None:
    for line in text.split("\n")[:-1]:
        assert not re.search(r"[\x00-\x1f\x7f]", line), (path, line)
        if not line or line.startswith("#") or re.fullmatch(r"\[[A-Za-z]+\]", line):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z]+", key), (path, line)
        assert not value.endswith("\\"), (path, line)
        # the only specifiers are the ones wibond writes itself
        assert re.sub(r"%%|%I|%i", "", value).count("%") == 0, (path, line)


def check_conf_lines(text: str) -> None:
    for line in text.split("\n")[:-1]:
        assert not re.search(r"[\x00-\x08\x0a-\x1f\x7f]", line), line


@seed(20261202)
@settings(max_examples=N, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(configs())
# Regressions: each found a defect before it was fixed (tests/test_hostile.py has the story).
@example(b"[bond0]\n[[mode]]\n[[eth0]]\n" + GOOD.encode())
@example(b"[bond0]\n[[eth0]]\n[[[type]]]\n" + GOOD.encode())
@example(b"[__many__]\n[[eth0]]\n" + GOOD.encode())
@example(b"[DEFAULT]\n[[eth0]]\n" + GOOD.encode())
@example(b"[bond0]\n[[eth0]]\n[ ]\ndhcp = ipv4\n" + GOOD.encode())
@example(b"[bond0]\ndns = '''fe80::1%eth0\nnameserver 1.2.3.4'''\n[[eth0]]\n" + GOOD.encode())
@example(b"[bond0]\n[[wlan0]]\nwpa_conf = /etc/w\\\n" + GOOD.encode())
@example(b"[bond0]\n[[eth0]]\n\xff\n" + GOOD.encode())
@example(b"[bond0]\n[[master]]\n" + GOOD.encode())
def test_hostile_configs(tmp_path_factory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "wibond.conf"
    path.write_bytes(raw)
    loaded = reader.load(str(path), shown="/etc/wibond.conf")  # never raises
    for diag in loaded.diagnostics:
        assert not re.search(r"[\x00-\x1f\x7f]", str(diag)), str(diag)
    good = loaded.bond(GOOD_NAME)
    assert good is not None, [str(d) for d in loaded.errors]

    bad = {d.bond for d in loaded.errors}
    assert not bad & {b.name for b in loaded.bonds}
    choices = {b.name: dhcp.choose(b, installed) for b in loaded.bonds}
    plan = plan_all(loaded.bonds, "/etc/wibond.conf", choices)
    assert plan == plan_all(loaded.bonds, "/etc/wibond.conf", choices)  # deterministic
    planned = {rel.split("wibond@", 1)[1].split(".service")[0]
               for rel in plan if rel.startswith("wibond@")}
    from wibond.common.names import escape_instance
    assert planned == {escape_instance(b.name) for b in loaded.bonds}
    for rel, entry in plan.items():
        assert not rel.startswith("/") and ".." not in rel.split("/"), rel
        assert isinstance(entry, (File, Symlink))
        if isinstance(entry, File):
            check_unit_file(rel, entry.text)

    for bond in loaded.bonds:  # what the run-time steps would write for it
        for client, families in choices[bond.name].clients:
            for _p, content in client.files(bond, DUID, families).items():
                if _p.endswith(".env"):
                    assert parse_env(content.decode()) == [("METRIC", str(bond.metric))]
                elif not _p.endswith("_duid"):
                    check_conf_lines(content.decode())
        for client in (DHCLIENT, DHCP6C, DHCPCD):
            fams = [f for f in bond.dhcp if f in client.families] or ["ipv4"]
            for _p, content in client.files(bond, DUID, fams).items():
                if not _p.endswith(("_duid", ".env")):
                    check_conf_lines(content.decode())
        for slave in bond.wireless_slaves:
            conf = wpa_conf_for(slave, slave.name, lambda _p: False)
            pairs = [("WPA_CONF", conf), ("WPA_DRIVER", slave.driver),
                     ("BITRATES", slave.bitrates or "")]
            assert parse_env(formats.env_file(pairs)) == pairs
        resolv = "".join(formats.resolv_line("nameserver", s) for s in bond.dns)
        assert [ln.split(" ", 1)[1] for ln in resolv.splitlines()] == bond.dns
