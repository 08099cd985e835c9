"""wibond: bonds of Wi-Fi and wired links that stay online, driven by systemd.

The package is laid out as the data flows, one subpackage per phase; every
import points down this list, never up (tests/test_layers.py keeps it so):

    cli/      the `wibond` command: check, generate, status, monitor, apply,
              try, confirm, rollback
    runtime/  the steps wibond's units run (wibond-helper): the bond, its
              slaves, addresses, DHCP clients' files and clean-up, hotplug;
              and apply and try, which change a running system with them
    boot/     the generator: checked config -> a plan of units, written at boot,
              and the snapshot of the checked config the steps read later
    managers/ the other network managers (networkd, NetworkManager, dhcpcd,
              udev): what each reads to keep off wibond's interfaces
    dhcp/     the DHCP clients, one backend each: the generator takes their
              unit and availability, the steps their configuration files
    config/   wibond.conf in: configspec, reading, values, rules across keys,
              the model (Bond, Slave), the changes between two configs
    common/   what every phase uses: host paths, output formats, names and
              escaping, the unit and /run file names boot and run time share
              (layout), the machine's identity (DUID), file trust, JSON reading

Why two pieces sit where they do:
- managers/ likewise: the generator takes dhcpcd.service's drop-in from it, the
  step runtime/handoff.py the files under /run.
- dhcp/ serves two phases, the boot plan (which client, its unit) and the
  run-time steps (its files). It sits below both, above config/; the run-time
  part that acts on the kernel (configure, wait for the active slave, clean
  up) is runtime/dhcpsteps.py, so dhcp/ itself never imports runtime/.
- The snapshot is written at boot and read at run time: it lives in boot/,
  which runtime/ sits above, as the steps consume what boot produced.

Why imports are kept few, said once here: every run-time step is one Python
start, and on a Pi's slow CPU (and in the lab's emulated guests) a step's cost
is mostly the interpreter's imports; the generator runs at every boot. So the
steps import no typing, re, json, subprocess or enum (tests/test_jsonread.py
keeps them out; typing only under `if TYPE_CHECKING:`), heavier modules are
imported where they are used, and the package's __init__ files import nothing
(benchmarks/generator.py measures the generator against a bare import).
"""

__version__ = "0.1.0"
