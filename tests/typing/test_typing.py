"""The package, and user code of its public API, type-check under mypy --strict and pyright strict.

The package check runs both checkers with the project's configuration (the package, the generated
code and the examples). The usage files (never executed) hold ``assert_type`` checks for
both clients (the client surface, ``output_type=``, the streaming helpers) and user code of the
generated models. Each checker runs once over all of them, and once over
a set of misuses, each of which must be reported: that guards the first check against passing
vacuously (a broken import or an ``Any`` that swallows every type would let it pass).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
USAGE_FILES = [
    "client_usage.py",
    "typed_output_usage.py",
    "streaming_usage.py",
    "generated_usage.py",
]

# Each misuse, and a word its error message must contain.
MISUSES = {
    "bad_generated_field_type.py": (
        """\
from noukai_sdk_generated.models import StepCompleted

duration: int = StepCompleted(step_id="s").cost_usd
""",
        "int",
    ),
    "bad_version.py": (
        """\
from noukai_sdk import Noukai

client = Noukai("nk_x")
client.flow("o/p/s").execute("hi", version=1.5)
""",
        "version",
    ),
    "bad_parsed_type.py": (
        """\
from pydantic import BaseModel
from typing_extensions import assert_type
from noukai_sdk import Noukai

class Invoice(BaseModel):
    total: float

def check(noukai: Noukai) -> None:
    result = noukai.flow("o/p/s").execute("hi", tool_handler=lambda calls: [], output_type=Invoice)
    assert_type(result.parsed, str)
""",
        "Invoice",
    ),
    "bad_text_delta.py": (
        """\
from typing_extensions import assert_type
from noukai_sdk import AsyncNoukai

async def check(noukai: AsyncNoukai) -> None:
    async with noukai.flow("o/p/s").stream_text("hi") as stream:
        async for delta in stream:
            assert_type(delta, bytes)
""",
        "str",
    ),
}


# Runs of one checker share a worker (``--dist loadgroup``), so the mypy runs share one cache and
# the two checkers run side by side on two cores.
BY_CHECKER = [
    pytest.param(checker, marks=pytest.mark.xdist_group(checker)) for checker in ("mypy", "pyright")
]


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for this module's mypy runs: later runs re-check only the files they add."""
    return tmp_path_factory.mktemp("mypy-cache")


def run_checker(
    checker: str, files: list[Path], mypy_cache: Path
) -> subprocess.CompletedProcess[str]:
    """Run one checker on ``files`` (none: the files of the project's configuration)."""
    if checker == "mypy":
        command = [sys.executable, "-m", "mypy", "--cache-dir", str(mypy_cache)]
        command += ["--strict"] if files else []
    else:
        command = [sys.executable, "-m", "pyright", "--pythonpath", sys.executable]
    return subprocess.run(
        [*command, *map(str, files)], capture_output=True, text=True, cwd=ROOT, check=False
    )


@pytest.mark.parametrize("checker", BY_CHECKER)
def test_the_package_type_checks(checker: str, mypy_cache: Path) -> None:
    result = run_checker(checker, [], mypy_cache)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("checker", BY_CHECKER)
def test_user_code_type_checks(checker: str, mypy_cache: Path) -> None:
    result = run_checker(checker, [HERE / name for name in USAGE_FILES], mypy_cache)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("checker", BY_CHECKER)
def test_every_misuse_is_reported(checker: str, mypy_cache: Path, tmp_path: Path) -> None:
    files = []
    for name, (code, _) in MISUSES.items():
        path = tmp_path / name
        path.write_text("# pyright: strict\n" + code)
        files.append(path)
    result = run_checker(checker, files, mypy_cache)
    assert result.returncode != 0
    for name, (_, word) in MISUSES.items():
        reported = [line for line in result.stdout.splitlines() if name in line and "error" in line]
        assert any(word in line for line in reported), f"{name} not reported:\n{result.stdout}"
