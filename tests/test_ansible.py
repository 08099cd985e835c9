"""examples/ansible: the playbook parses (`ansible-playbook --syntax-check`), and what its
role renders from the example group_vars is a config `wibond check` accepts and a
wpa_supplicant file wibond reads. The lab's try-rollback runs the play for real."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import tool

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
EXAMPLE = os.path.join(REPO, "examples", "ansible")


def run_playbook(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_HOME=str(tmp_path / "ansible-home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1",
               PYTHONWARNINGS="ignore")
    program = tool("ansible-playbook", "tools/bootstrap test puts ansible-core in .venv")
    return subprocess.run([program, *args], cwd=EXAMPLE, env=env, text=True,
                          capture_output=True, timeout=300)


def test_the_playbook_passes_syntax_check(tmp_path) -> None:
    proc = run_playbook(tmp_path, "--syntax-check", "-i", "inventory.ini", "site.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "playbook: site.yml" in proc.stdout


RENDER = """
- hosts: localhost
  gather_facts: false
  vars:
    vault_farm_psk: "correct horse battery"
  tasks:
    - ansible.builtin.template:
        src: "{{ example }}/roles/wibond/templates/wibond.conf.j2"
        dest: "{{ out }}/etc/wibond.conf"
    - ansible.builtin.template:
        src: "{{ example }}/roles/wibond/templates/wpa_supplicant.conf.j2"
        dest: "{{ out }}/etc/wpa_supplicant/wpa_supplicant-wlan0.conf"
        mode: "0600"
      vars:
        item: "{{ wibond_radios[0] }}"
"""


def test_what_the_role_renders_is_a_config_wibond_accepts(tmp_path) -> None:
    root = tmp_path / "root"
    (root / "etc" / "wpa_supplicant").mkdir(parents=True)
    (root / "usr" / "sbin").mkdir(parents=True)
    for program in ("wpa_supplicant", "dhcpcd"):
        (root / "usr" / "sbin" / program).write_text("")
        (root / "usr" / "sbin" / program).chmod(0o755)
    play = tmp_path / "render.yml"
    play.write_text(RENDER)
    proc = run_playbook(tmp_path, "-i", "localhost,", "-c", "local", "-e",
                        f"ansible_python_interpreter={sys.executable}", "-e",
                        "@group_vars/pis.yml", "-e", f"out={root}", "-e", f"example={EXAMPLE}",
                        str(play))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "correct horse battery" not in proc.stdout + proc.stderr
    conf = (root / "etc" / "wibond.conf").read_text()
    assert "    dhcp = ipv4, ipv6\n" in conf and "    [[wlan0]]\n" in conf
    wpa = (root / "etc" / "wpa_supplicant" / "wpa_supplicant-wlan0.conf").read_text()
    assert 'psk="correct horse battery"' in wpa and "country=GB" in wpa
    check = subprocess.run([sys.executable, "-m", "wibond", "check", "--json"], cwd=REPO,
                           env=dict(os.environ, WIBOND_ROOT=str(root)), text=True,
                           capture_output=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "correct horse battery" not in check.stdout + check.stderr
