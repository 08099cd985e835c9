import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def tool(name: str, why: str) -> str:
    """A program from the virtual environment the tests run in (tools/bootstrap puts
    ansible-core and promtool there) or from PATH; the test is skipped, saying WHY, without."""
    import shutil

    import pytest

    found = shutil.which(name, path=os.path.dirname(sys.executable) + os.pathsep
                         + os.environ.get("PATH", ""))
    if not found:
        pytest.skip(f"no {name} ({why})")
    return found
