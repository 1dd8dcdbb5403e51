import subprocess
import sys

from vgaemu import __version__


def test_version_from_module():
    out = subprocess.run([sys.executable, "-m", "vgaemu", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"vgaemu {__version__}"
