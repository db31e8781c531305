"""The serve tests share helpers (tests/serve/test_ssh.py's and test_web.py's clients and
servers): this folder is importable from them."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
