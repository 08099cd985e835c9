"""`wibond metrics`: the text format node_exporter's textfile collector reads, the failover
count kept across restarts, and --follow writing the file only when it changes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from test_report import IW_LINK
from test_status import REPO, fake_root, write

from wibond.cli import metrics, radio
from wibond.cli.report import Sources
from wibond.common import paths
from wibond.common.formats import FormatError, prom_help, prom_sample
from wibond.config import reader
from wibond.dhcp.leases import Lease
from wibond.runtime.hostio import Host

NET = "sys/class/net"
# A sample line of the exposition format 0.0.4: name, optional labels, a number.
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{{{_LABEL}(?:,{_LABEL})*\}})? (-?[0-9.e+]+)$')


def parse(text: str) -> dict[str, float]:
    """The samples of TEXT as {'name{labels}': value}; fails on a line the format has not."""
    out: dict[str, float] = {}
    declared: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert name not in declared, f"{name} declared twice"
            declared[name] = kind
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        assert m.group(1) in declared, f"{m.group(1)} has no TYPE line before it"
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


class FakeSources(Sources):
    """The fake sysfs of test_status under WIBOND_ROOT; iw and the lease made up."""

    def __init__(self, lease: Lease | None = None) -> None:
        self.lease = lease

    def radio(self, ifname: str) -> dict:
        return radio.parse_link(IW_LINK.replace("wlan0", ifname))

    def dhcp(self, bond):  # type: ignore[no-untyped-def]
        lease = self.lease

        class Client:
            name = "dhclient"

            def lease(self, _bond: str) -> Lease | None:
                return lease
        return [(Client(), ["ipv4"])]


@pytest.fixture
def root(tmp_path, monkeypatch):
    fake_root(tmp_path)
    write(tmp_path, "etc/wibond.conf", "[tbond0]\ndhcp = ipv4\n[[twlan0]]\ntype = wireless\n[[twlx*]]\n"
                                       "[[teth9]]\ntype = wired\n")
    write(tmp_path, f"{NET}/tbond0/ifindex", "7")
    (tmp_path / NET / "twlx0011" / "phy80211").mkdir(parents=True)
    monkeypatch.setenv("WIBOND_ROOT", str(tmp_path))
    return tmp_path


def bonds():  # type: ignore[no-untyped-def]
    return reader.load(paths.host(paths.CONFIG)).bonds


def test_every_family_has_help_and_type_and_the_samples_parse(root) -> None:
    lease = Lease("192.168.77.50", 1_700_000_000.0, 600)
    text = metrics.render(metrics.collect(bonds(), FakeSources(lease), metrics.Failovers()))
    got = parse(text)
    b = '{bond="tbond0"}'
    assert got[f"wibond_bond_up{b}"] == 1
    assert got['wibond_bond_info{bond="tbond0",mode="active-backup",primary="teth9"}'] == 1
    assert got[f"wibond_bond_on_primary{b}"] == 0          # the dongle carries it, not teth9
    assert got['wibond_bond_active_slave{bond="tbond0",slave="twlx0011"}'] == 1
    assert got['wibond_bond_active_slave{bond="tbond0",slave="twlan0"}'] == 0
    assert got['wibond_slave_up{bond="tbond0",slave="twlx0011",type="radio"}'] == 1
    assert got['wibond_slave_up{bond="tbond0",slave="twlan0",type="radio"}'] == 0
    # named in the config, not enslaved: down
    assert got['wibond_slave_up{bond="tbond0",slave="teth9",type="wired"}'] == 0
    assert got['wibond_slave_link_failures_total{bond="tbond0",slave="twlan0"}'] == 3
    assert got['wibond_radio_signal_dbm{bond="tbond0",slave="twlx0011"}'] == -30
    assert got['wibond_radio_tx_bitrate_bits_per_second{bond="tbond0",slave="twlx0011"}'] == 54e6
    assert got['wibond_radio_connected{bond="tbond0",slave="twlx0011"}'] == 1
    assert got['wibond_lease_expiry_timestamp_seconds{bond="tbond0",family="ipv4"}'] == 1_700_000_600
    assert got[f"wibond_failovers_total{b}"] == 0
    assert f"wibond_last_failover_timestamp_seconds{b}" not in got   # none yet
    for name, kind, _help in metrics.FAMILIES:
        if any(k.startswith(name + "{") for k in got):
            assert f"# HELP {name} " in text and f"# TYPE {name} {kind}\n" in text
        assert name.startswith("wibond_")
        assert kind != "counter" or name.endswith("_total")


def test_a_bond_not_made_says_down_and_nothing_else(root) -> None:
    import shutil

    shutil.rmtree(root / NET / "tbond0")
    got = parse(metrics.render(metrics.collect(bonds(), FakeSources(), None)))
    assert got == {'wibond_bond_up{bond="tbond0"}': 0}


def test_a_hostile_interface_name_is_escaped_not_a_new_line() -> None:
    line = prom_sample("wibond_slave_up", [("bond", "b0"), ("slave", 'a"b\\c\nd')], 1)
    assert line == 'wibond_slave_up{bond="b0",slave="a\\"b\\\\c\\nd"} 1\n'
    assert parse("# TYPE wibond_slave_up gauge\n" + line)
    with pytest.raises(FormatError):
        prom_sample("wibond-slave", [], 1)
    with pytest.raises(FormatError):
        prom_sample("wibond_x", [("__name__", "x")], 1)
    with pytest.raises(FormatError):
        prom_sample("wibond_x", [], float("nan"))
    with pytest.raises(FormatError):
        prom_sample("wibond_x", [("slave", "\udcff")], 1)
    with pytest.raises(FormatError):
        prom_help("wibond_x", "histogram", "x")
    assert prom_sample("wibond_x", [], 1700000000.25) == "wibond_x 1700000000.25\n"


def test_failovers_count_changes_between_slaves_not_starts_nor_losses() -> None:
    f = metrics.Failovers()
    f.observe("bond0", 5, "eth0", 100.0)            # the bond came up: no failover
    f.observe("bond0", 5, "wlan0", 110.0)           # the cable pulled
    assert (f.total("bond0"), f.last_at("bond0")) == (1, 110.0)
    assert not f.observe("bond0", 5, "wlan0", 111.0)  # nothing changed, nothing to save
    f.observe("bond0", 5, None, 120.0)              # every link down: not a failover
    f.observe("bond0", 5, "wlan0", 125.0)           # the same one back: not one either
    assert f.total("bond0") == 1
    f.observe("bond0", 5, None, 130.0)
    f.observe("bond0", 5, "eth0", 135.0)            # down, then another slave: one
    assert f.total("bond0") == 2
    # wibond@bond0 restarted: the bond deleted, then made anew with the radio first
    f.observe("bond0", None, None, 140.0)
    f.observe("bond0", 9, "wlan0", 141.0)
    assert f.total("bond0") == 2                    # a start, not a failover; the count kept
    f.observe("bond0", 9, "eth0", 142.0)            # the primary's updelay passed: failback
    assert f.total("bond0") == 3
    again = metrics.Failovers(json.loads(json.dumps(f.data())))   # what --follow keeps in /run
    assert again.total("bond0") == 3 and again.last_at("bond0") == 142.0


class ScriptedHost(Host):
    """The real Host on the fake sysfs, whose waits for a link change play SCRIPT: each a
    change made to the files, as the kernel would, before the wait returns."""

    def __init__(self, root, script) -> None:  # type: ignore[no-untyped-def]
        super().__init__(lambda _line: None)
        self.root, self.script, self.timeouts = root, list(script), []

    def watch_links(self, groups: int = 1) -> None:
        pass

    def wait_link_change(self, timeout: float | None) -> None:
        self.timeouts.append(timeout)
        self.script.pop(0)(self.root)


def test_follow_counts_a_failover_and_failback_and_removes_its_file(root) -> None:
    def cut(r):  # type: ignore[no-untyped-def]
        write(r, f"{NET}/tbond0/bonding/active_slave", "twlan0")

    def back(r):  # type: ignore[no-untyped-def]
        write(r, f"{NET}/tbond0/bonding/active_slave", "twlx0011")

    seen: list[str] = []

    def quiet(r):  # type: ignore[no-untyped-def]
        seen.append((r / "var/lib/node/wibond.prom").read_text())

    sources = FakeSources()
    sources._host = ScriptedHost(root, [cut, back, quiet])
    out = root / "var/lib/node"
    metrics.follow("/var/lib/node", None, sources, tick=15.0, rounds=4)
    got = parse(seen[0])
    assert got['wibond_failovers_total{bond="tbond0"}'] == 2
    assert got['wibond_bond_active_slave{bond="tbond0",slave="twlx0011"}'] == 1
    assert got['wibond_last_failover_timestamp_seconds{bond="tbond0"}'] > 0
    # a radio is a slave: it looks again every 15 s; gone with the exporter
    assert sources.host.timeouts == [15.0, 15.0, 15.0]
    assert not (out / "wibond.prom").exists() and os.listdir(out) == []
    state = json.loads((root / paths.METRICS_STATE.lstrip("/")).read_text())
    assert state["bonds"]["tbond0"]["total"] == 2


def test_follow_sleeps_without_a_timeout_when_nothing_changes_by_itself(root) -> None:
    write(root, "etc/wibond.conf", "[tbond0]\n[[teth9]]\ntype = wired\n")
    write(root, f"{NET}/tbond0/bonding/slaves", "teth9")
    write(root, f"{NET}/tbond0/bonding/active_slave", "teth9")
    write(root, f"{NET}/teth9/bonding_slave/mii_status", "up")
    writes: list[str] = []
    sources = FakeSources()
    host = ScriptedHost(root, [lambda r: None])
    real_save = host.save_bytes

    def save(path: str, data: bytes, mode: int = 0o644, durable: bool = False) -> None:
        writes.append(path)
        real_save(path, data, mode, durable)

    host.save_bytes = save  # type: ignore[method-assign]
    sources._host = host
    metrics.follow("/var/lib/node", None, sources, rounds=2)
    assert host.timeouts == [None]           # no radio, no lease: only a kernel message wakes it
    # the text did not change between the two looks: written once
    assert writes.count("/var/lib/node/wibond.prom") == 1


def wibond(root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wibond", *args], cwd=REPO, check=False,
                          env=dict(os.environ, WIBOND_ROOT=str(root)),
                          capture_output=True, text=True, timeout=60)


def test_the_command_prints_writes_and_says_when_no_count_is_kept(root) -> None:
    proc = wibond(root, "metrics")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# no failover count: wibond-metrics.service has not run")
    assert 'wibond_bond_active_slave{bond="tbond0",slave="twlx0011"} 1' in proc.stdout
    assert "wibond_failovers_total" not in proc.stdout
    write(root, paths.METRICS_STATE.lstrip("/"), json.dumps(
        {"version": 1, "bonds": {"tbond0": {"total": 4, "last_at": 1700000000.5,
                                            "active": "twlx0011", "ifindex": 7}}}))
    proc = wibond(root, "metrics", "--textfile-dir", "/var/lib/prometheus/node-exporter")
    assert proc.returncode == 0 and proc.stdout == ""
    text = (root / "var/lib/prometheus/node-exporter/wibond.prom").read_text()
    assert 'wibond_failovers_total{bond="tbond0"} 4' in text
    assert 'wibond_last_failover_timestamp_seconds{bond="tbond0"} 1700000000.5' in text
    assert oct(os.stat(root / "var/lib/prometheus/node-exporter/wibond.prom").st_mode)[-3:] == "644"
    proc = wibond(root, "metrics", "--follow")
    assert proc.returncode == 2 and "--textfile-dir" in proc.stderr
    write(root, "etc/wibond.conf", "[tbond0]\nmode = nonsense\n[[twlan0]]\n")
    proc = wibond(root, "metrics")
    assert proc.returncode == 1 and "nonsense" in proc.stderr
