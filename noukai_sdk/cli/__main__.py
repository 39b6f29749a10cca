"""``python -m noukai_sdk.cli``: the ``noukai`` command without the console script."""

from __future__ import annotations

import sys

from noukai_sdk.cli import main

sys.exit(main())
