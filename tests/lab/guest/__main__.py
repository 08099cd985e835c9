"""Guest entry points (the lab units call these; importing `guest` refuses to run off the VM):

    python3 -m guest fixture setup|show|teardown     build/show/undo the far side
    python3 -m guest run                             run this boot's scenarios, then return
"""
import sys

from .fixture import main as fixture_main  # the package import does the lab check
from .runner import main as run_main


def main(argv):
    if len(argv) >= 2 and argv[1] == "fixture":
        return fixture_main(argv[1:])
    if len(argv) >= 2 and argv[1] == "run":
        return run_main()
    print(__doc__, file=sys.stderr)
    return 2


sys.exit(main(sys.argv))
