"""``python -m noukai_sdk.devserver [options]``: the same as ``noukai dev-server [options]``."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    try:
        from noukai_sdk.cli import main

        sys.exit(main(["dev-server", *sys.argv[1:]]))
    except KeyboardInterrupt:  # Ctrl-C while still importing: a quiet stop, as later on
        sys.exit(130)
