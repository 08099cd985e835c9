"""jsonread.loads reads what json.loads reads, and refuses what it refuses."""

from __future__ import annotations

import json
import math
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wibond.common import jsonread

GOOD = ['{"a": [1, -2.5e3, null, true, false, "x\\u00e9\\n\\"q\\""]}', " [] \n", '"s"', "12",
        '{"a": {"b": []}, "c": {}}', '[{"ifindex": 2, "ifname": "bond0", "addr_info": '
        '[{"family": "inet", "local": "192.168.77.10", "prefixlen": 24, "dynamic": true}]}]']


@pytest.mark.parametrize("text", GOOD)
def test_reads_what_json_reads(text: str) -> None:
    assert jsonread.loads(text) == json.loads(text)
    assert jsonread.loads(text.encode()) == json.loads(text)


def test_constants_as_json_reads_them() -> None:
    assert math.isnan(jsonread.loads("NaN"))
    assert jsonread.loads("[Infinity, -Infinity]") == [math.inf, -math.inf]


@pytest.mark.parametrize("text", ["", " ", "{", "[1,]", '{"a": 1} x', "nul", "[1] [2]"])
def test_refuses_what_json_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        jsonread.loads(text)


def test_a_units_start_step_imports_no_re_json_typing_or_subprocess() -> None:
    """What join, start, dhcp-start and the stop steps import to read the snapshot, run `ip`
    and write their files: none of the modules that cost a step most of its start on a slow
    board."""
    import subprocess
    import sys

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import sys; sys.path.insert(0, sys.argv[1]);"
            "from wibond.runtime import helper, rfkill, dhcpsteps;"
            "from wibond.boot import snapshot; from wibond.common import formats, jsonread;"
            "from wibond.runtime.addressing import static_record;"
            "from wibond.runtime.hostio import spawn; spawn(['true']);"
            "jsonread.loads('[1]'); formats.env_file([('A', 'b')]);"
            "print(*sorted(m for m in ('re', 'json', 'typing', 'subprocess', 'hashlib', 'site',"
            " 'ipaddress', 'locale', 'threading') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-S", "-c", code, repo],
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@given(json_values)
@settings(max_examples=300, deadline=None)
def test_dumps_writes_what_json_writes(value) -> None:
    assert jsonread.dumps(value) == json.dumps(value, indent=1, sort_keys=True)


def test_dumps_writes_the_generators_snapshot_as_json_did() -> None:
    value = {"b": [1, 2.5, None, True, {"x": "ünï\u2028\x00"}], "a": {}, "c": [], "d": -0.0,
             "e": float("inf")}
    assert jsonread.dumps(value) == json.dumps(value, indent=1, sort_keys=True)
