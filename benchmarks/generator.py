"""Benchmark: the generator's wall time at boot, against importing configobj.

Installs wibond into a scratch tree with `make install` (so its modules
have their bytecode, as configobj's do), runs that generator on each bundled
example and, interleaved with it, the baseline
`python3 -c "import configobj, validate"`; prints medians and their ratio.
The aim is a ratio of at most 1.1: the generator should cost little more
than the library it cannot do without.

    python3 benchmarks/generator.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The wibond configs among the examples (wpa_supplicant.conf is a radio's file).
EXAMPLES = sorted(os.path.join(REPO, "examples", n) for n in os.listdir(os.path.join(REPO, "examples"))
                  if n.endswith(".conf") and n != "wpa_supplicant.conf")


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    baseline_cmd = [sys.executable, "-c", "import configobj, validate"]
    print(f"python: {sys.executable} {sys.version.split()[0]}; runs per figure: {args.runs}")
    worst = 0.0
    img = tempfile.mkdtemp(prefix="wibond-bench-")
    subprocess.run(["make", "-s", "-C", REPO, "install", f"DESTDIR={img}",
                    f"PYTHON={sys.executable}", f"HOST_PYTHON={sys.executable}"],
                   check=True, stdout=subprocess.DEVNULL)
    generator = os.path.join(img, "usr/lib/systemd/system-generators/wibond-generator")
    for example in EXAMPLES:
        with tempfile.TemporaryDirectory() as tmp:
            os.makedirs(os.path.join(tmp, "root", "etc"))
            # an image with dhcpcd, as on Arch Linux ARM (the generator picks the DHCP client
            # from what is installed)
            os.makedirs(os.path.join(tmp, "root", "usr", "bin"))
            stub = os.path.join(tmp, "root", "usr", "bin", "dhcpcd")
            with open(stub, "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(stub, 0o755)
            with open(example) as src, open(os.path.join(tmp, "root", "etc", "wibond.conf"), "w") as dst:
                dst.write(src.read())
            # The installed script names the target's package directory; point it into img.
            env = dict(os.environ, WIBOND_ROOT=os.path.join(tmp, "root"),
                       PYTHONPATH=os.path.join(img, "usr/lib/wibond/python"))
            gen, base = [], []
            for i in range(args.runs + 3):
                out = os.path.join(tmp, f"out{i}")
                os.mkdir(out)
                g = timed([generator, out, out, out], env)
                b = timed(baseline_cmd, env)
                if i >= 3:  # warm-up runs fill the page cache
                    gen.append(g)
                    base.append(b)
        ratio = statistics.median(gen) / statistics.median(base)
        worst = max(worst, ratio)
        print(f"{os.path.basename(example):20s} generator {statistics.median(gen) * 1000:7.1f} ms   "
              f"baseline {statistics.median(base) * 1000:7.1f} ms   ratio {ratio:.2f}")
    print(f"worst ratio {worst:.2f} (aim: at most 1.10)")
    subprocess.run(["rm", "-rf", img], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
