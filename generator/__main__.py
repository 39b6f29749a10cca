"""Command line: ``python -m generator`` regenerates, ``python -m generator --check`` detects drift."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator._tools import REPO_ROOT, missing_tools, rerun_with_tools


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generator",
        description="Regenerate noukai_sdk_generated/ from openapi.yaml.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temporary directory and fail with a diff if the committed tree differs",
    )
    parser.add_argument(
        "--root", default=str(REPO_ROOT), help="repository root (default: this checkout)"
    )
    args = parser.parse_args(argv)
    if missing_tools():
        return rerun_with_tools(Path(args.root), sys.argv[1:] if argv is None else argv)
    from generator._pipeline import GenerationError
    from generator._spec_values import SpecError

    try:
        return _run(check_only=args.check, root=args.root)
    except (GenerationError, SpecError) as error:
        sys.stderr.write(f"generation failed: {error}\n")
        return 2


def _run(*, check_only: bool, root: str) -> int:
    from generator._pipeline import check, generate

    if check_only:
        diff = check(root=root)
        if diff:
            sys.stdout.write(diff)
            sys.stderr.write(
                "noukai_sdk_generated/ is stale against openapi.yaml: run `python -m generator`.\n"
            )
            return 1
        sys.stderr.write("noukai_sdk_generated/ is up to date.\n")
        return 0
    generate(root=root)
    sys.stderr.write("noukai_sdk_generated/ regenerated.\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
