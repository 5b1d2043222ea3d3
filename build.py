#!/usr/bin/env python3
"""Build organization-branded conda installers: `python build.py --help`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from orgconda.cli import main

if __name__ == "__main__":
    sys.exit(main())
