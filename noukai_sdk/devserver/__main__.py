"""``python -m noukai_sdk.devserver [options]``: the same as ``noukai dev-server [options]``."""

from __future__ import annotations

import sys

from noukai_sdk.cli import main

if __name__ == "__main__":
    sys.exit(main(["dev-server", *sys.argv[1:]]))
