"""Debian's desktop-background packages, whose photographs the corruption benchmarks train on.

The product never needs them: :func:`labelwise.vision.corruption.debian_photos` reads whichever
are installed. The benchmarks install them when run as root (as ``make bench`` is), since the
package archive is one of the few places this machine reaches.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from labelwise.vision.corruption import DEBIAN_PHOTOS, debian_photos


def ensure_debian_photos() -> int:
    """Install the packages holding :data:`DEBIAN_PHOTOS` when missing and this is root;
    return how many of the photographs are there."""
    packages = sorted({package for package, _ in DEBIAN_PHOTOS.values()})
    if len(debian_photos()) < len(DEBIAN_PHOTOS) and _can_install():
        apt = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(apt, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            subprocess.run(apt, env=env, capture_output=True)
    found = len(debian_photos())
    print(f"Debian photographs: {found} of {len(DEBIAN_PHOTOS)} ({', '.join(packages)})",
          file=sys.stderr)  # fmt: skip
    return found


def _can_install() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None
