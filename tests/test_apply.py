"""`wibond apply`: the plan from the running config to an edited one (pure), and carrying it
out against the fake kernel: only what changed is touched."""

from __future__ import annotations

from test_helper import PI, World, _root  # noqa: F401  (autouse: WIBOND_ROOT per test)

from wibond.boot import snapshot
from wibond.common import layout, paths
from wibond.config import changes, reader
from wibond.runtime import apply, bondctl

SECOND = """
[bond1]
    primary = eth1
    [[eth1]]
        type = wired
"""


def load(text: str, tmp_path):
    path = tmp_path / "candidate.conf"
    path.write_text(text)
    loaded = reader.load(str(path))
    assert not loaded.errors, loaded.errors
    return loaded


# -- the plan ---------------------------------------------------------------------

def test_plan_unchanged_bond_is_not_touched(tmp_path) -> None:
    a = load(PI + SECOND, tmp_path).bonds
    p = changes.plan(a, load(PI + SECOND.replace("primary = eth1", "primary = eth2")
                                  + "    [[eth2]]\n        type = wired\n", tmp_path).bonds)
    assert p.unchanged == ["bond0"]
    assert {(c.bond, c.kind, c.what) for c in p.changes} == {
        ("bond1", "set", "primary"), ("bond1", "slave-add", "eth2")}


def test_plan_kinds(tmp_path) -> None:
    old = load(PI, tmp_path).bonds
    new = load(PI.replace("primary = wlan0", "primary = wlan1")
                 .replace("metric = 100", "metric = 50")
                 .replace("    [[wlan1]]\n        after = wlan0\n", "    [[wlan1]]\n")
                 .replace("[[wlan0]]", "[[wlan0]]\n        bitrates = 6 9 12"), tmp_path).bonds
    p = changes.plan(old, new)
    assert [(c.kind, c.what) for c in p.changes] == [
        ("set", "primary"), ("set", "metric"), ("slave-restart", "wlan0"),
        ("slave-restart", "wlan1")]
    assert p.changes[0].describe() == "bond0: primary wlan0 -> wlan1, set in place"
    mac = changes.plan(old, load(PI.replace("[bond0]", "[bond0]\n    mac = 02:00:00:00:aa:01"),
                                 tmp_path).bonds)
    assert [c.kind for c in mac.changes] == ["recreate"]
    assert "mac (none) -> 02:00:00:00:aa:01" in mac.changes[0].describe()
    gone = changes.plan(old + load(SECOND, tmp_path).bonds, old)
    assert [(c.bond, c.kind) for c in gone.changes] == [("bond1", "remove")]
    dhcp = changes.plan(old, load(PI.replace("[bond0]", "[bond0]\n    dhcp = ipv4"), tmp_path).bonds)
    assert [(c.kind, c.what) for c in dhcp.changes] == [("dhcp", "dhcp")]


def test_removing_the_only_other_slave_says_traffic_moves_first(tmp_path) -> None:
    old = load(PI, tmp_path).bonds
    new = load(PI.replace("    [[wlan1]]\n        after = wlan0\n", ""), tmp_path).bonds
    (c,) = changes.plan(old, new).changes
    assert c.kind == "slave-remove" and "traffic moves to another slave first" in c.describe()


# -- carrying it out ----------------------------------------------------------------

class Booted(World):
    """The PI setup (+ a second bond) running as the units would have made it, with the
    generator's snapshot and each bond's record; a daemon-reload writes the snapshot of
    the file as it is then, as the generator would."""

    def __init__(self, root, conf: str) -> None:
        super().__init__(root, conf)
        h = self.host
        for name, kind in (("wlan0", "wlan"), ("wlan1", "wlan"), ("eth1", "ether")):
            h.add(name, kind)
        self.generate()
        for bond, slaves in (("bond0", ["wlan0", "wlan1"]), ("bond1", ["eth1"])):
            if f"[{bond}]" not in conf:
                continue
            self.ok("create", bond)
            self.ok("static", bond)
            for s in slaves:
                if h.links[s].kind == "wlan":
                    self.ok("slave-env", bond, s)
                self.ok("enslave", bond, s)
            # what the bond's start step keeps: the snapshot and the config's text
            bondctl.keep_record(h, bond, snapshot.read(h, paths.CONFIG)[0])
        real_run = h.run

        def run(program, *args, input=None):  # type: ignore[no-untyped-def]
            out = real_run(program, *args, input=input)
            if args[:1] == ("daemon-reload",):
                self.generate()
            return out

        h.run = run  # type: ignore[method-assign]
        h.programs.add("systemd-run")
        h.mutations()

    def generate(self) -> None:
        from wibond.common import paths

        in_force = paths.config_in_force()   # a pending try's candidate, as the generator reads
        loaded = reader.load(paths.host(in_force), shown=in_force)
        self.host.save(snapshot.PATH, snapshot.dumps(loaded, loaded.bonds, loaded.errors))

    def edit(self, conf: str):  # type: ignore[no-untyped-def]
        (self.root / "etc" / "wibond.conf").write_text(conf)
        loaded = reader.load(str(self.root / "etc" / "wibond.conf"), shown="/etc/wibond.conf")
        assert not loaded.errors, loaded.errors   # apply refuses such a file (the CLI test)
        return loaded

    def apply(self, conf: str, dry_run: bool = False) -> tuple[changes.Plan, list[str], list[str]]:
        said: list[str] = []
        p = apply.apply(self.host, self.edit(conf), said.append, dry_run=dry_run,
                        lookup=self.lookup)
        return p, self.host.mutations(), said


def touches(ops: list[str], bond: str, slaves: list[str]) -> list[str]:
    names = [bond] + slaves
    return [op for op in ops if any(f"/{n}/" in op or f" {n} " in f"{op} " or f"@{n}." in op
                                    for n in names)]


def test_apply_unchanged_config_changes_nothing(tmp_path) -> None:
    w = Booted(tmp_path, PI + SECOND)
    p, ops, _said = w.apply(PI + SECOND)
    assert p.changes == [] and sorted(p.unchanged) == ["bond0", "bond1"]
    assert ops == []


def test_apply_other_bond_changed_leaves_this_one_alone(tmp_path) -> None:
    w = Booted(tmp_path, PI + SECOND)
    p, ops, said = w.apply(PI + SECOND.replace("[bond1]", "[bond1]\n    miimon = 200"))
    assert [(c.bond, c.what) for c in p.changes] == [("bond1", "miimon")]
    assert "systemctl daemon-reload" in ops
    assert touches(ops, "bond0", ["wlan0", "wlan1"]) == []
    assert "write /sys/class/net/bond1/bonding/miimon 200" in ops
    assert w.host.links["bond1"].bonding["miimon"] == "200"
    # The records now say what runs: a second apply has nothing to do.
    assert w.apply(PI + SECOND.replace("[bond1]", "[bond1]\n    miimon = 200"))[1] == []


def test_apply_primary_in_place_no_unit_restarts(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    assert w.host._active(w.host.links["bond0"]) == "wlan0"
    _p, ops, _said = w.apply(PI.replace("primary = wlan0", "primary = wlan1"))
    assert [op for op in ops if op.startswith("systemctl")] == ["systemctl daemon-reload"]
    assert "write /sys/class/net/bond0/bonding/primary wlan1" in ops
    assert w.host._active(w.host.links["bond0"]) == "wlan1"


def test_apply_removing_the_active_slave_moves_traffic_first(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    _p, ops, said = w.apply(PI.replace("primary = wlan0", "primary = wlan1")
                            .replace("    [[wlan0]]\n", "").replace("        after = wlan0\n", ""))
    move = "write /sys/class/net/bond0/bonding/active_slave wlan1"
    stop = "systemctl stop bond0-supplicant@wlan0.service"
    assert move in ops and stop in ops and ops.index(move) < ops.index(stop)
    assert ops.index(stop) < ops.index("systemctl daemon-reload")   # while systemd has the unit
    assert any("active slave wlan0 -> wlan1 before wlan0 leaves" in s for s in said)


def test_apply_static_address_swapped_in_place(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    _p, ops, _said = w.apply(PI.replace("192.168.43.150/24", "192.168.43.151/24"))
    assert "ip addr del 192.168.43.150/24 dev bond0" in ops
    assert "ip addr add 192.168.43.151/24 dev bond0" in ops
    assert [op for op in ops if op.startswith("systemctl")] == ["systemctl daemon-reload"]


def test_apply_mode_change_recreates_and_new_bond_starts(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    p, ops, _said = w.apply(PI.replace("[bond0]", "[bond0]\n    mac = 02:00:00:00:aa:01") + SECOND)
    assert "systemctl restart wibond@bond0.service" in ops
    assert "systemctl start wibond@bond1.service" in ops


def test_apply_removed_bond_stopped_before_the_reload(tmp_path) -> None:
    w = Booted(tmp_path, PI + SECOND)
    _p, ops, _said = w.apply(PI)
    assert ops.index("systemctl stop wibond@bond1.service") < ops.index("systemctl daemon-reload")


def test_dry_run_changes_nothing(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    p, ops, _said = w.apply(PI.replace("primary = wlan0", "primary = wlan1"), dry_run=True)
    assert p.lines() == ["bond0: primary wlan0 -> wlan1, set in place"] and ops == []


def test_start_step_keeps_the_record(tmp_path) -> None:
    w = World(tmp_path, PI)
    w.host.add("wlan0", "wlan")
    loaded = reader.load(str(tmp_path / "etc" / "wibond.conf"), shown="/etc/wibond.conf")
    w.host.save(snapshot.PATH, snapshot.dumps(loaded, loaded.bonds, []))
    w.ok("start", "bond0")
    assert (tmp_path / layout.record_path("bond0").lstrip("/")).read_bytes() == \
        (tmp_path / snapshot.PATH.lstrip("/")).read_bytes()
    assert apply.running(w.host)[0]["bond0"].primary == "wlan0"


def test_cli_refuses_a_broken_config_and_changes_nothing(tmp_path, capsys) -> None:
    from wibond.cli.main import main

    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "wibond.conf").write_text("[bond0]\n    miimon = lots\n    [[eth0]]\n")
    assert main(["apply"]) == 1
    err = capsys.readouterr().err
    assert "miimon" in err and "nothing changed" in err


def test_apply_arp_monitoring_on_once_for_all_its_keys(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    p, ops, _said = w.apply(PI.replace("[bond0]", "[bond0]\n    arp_interval = 200\n"
                                                  "    arp_ip_target = gateway\n"
                                                  "    arp_validate = all"))
    assert {c.what for c in p.changes} >= {"arp_interval", "arp_ip_target", "arp_validate"}
    assert ops.count("write /sys/class/net/bond0/bonding/arp_interval 200") == 1
    assert "write /sys/class/net/bond0/bonding/arp_ip_target +192.168.43.1" in ops
    assert w.host.links["bond0"].bonding["miimon"] == "0"
    assert [op for op in ops if op.startswith("systemctl")] == ["systemctl daemon-reload"]


DHCP_BOND = """\
[bond0]
    primary = wlan0
    dhcp = ipv4
    dhcp_client = dhcpcd
    [[wlan0]]
    [[wlan1]]
"""


def test_an_option_the_dhcp_clients_configuration_holds_restarts_it(tmp_path) -> None:
    # dhcpcd runs with `nolink` under ARP monitoring: its running configuration lacks it.
    program = tmp_path / "usr" / "sbin" / "dhcpcd"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    w = Booted(tmp_path, DHCP_BOND)
    w.ok("dhcp-config", "bond0", "dhcpcd")
    p, ops, _said = w.apply(DHCP_BOND.replace("dhcp = ipv4", "dhcp = ipv4\n    arp_interval = 200\n"
                                                            "    arp_ip_target = gateway"))
    assert ("dhcp", "configuration") in [(c.kind, c.what) for c in p.changes]
    assert "its DHCP client's configuration changes (/run/wibond/bond0/dhcpcd.conf)" in \
        "\n".join(p.lines())
    assert "systemctl restart dhcpcd@bond0.service" in ops
    assert "systemctl restart wibond-arp@bond0.service" in ops
    # Unchanged: nothing to restart.
    w.ok("dhcp-config", "bond0", "dhcpcd")
    assert w.apply((tmp_path / "etc" / "wibond.conf").read_text())[1] == []
