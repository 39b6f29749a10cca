"""Unmodified noukai-sdk 0.2.0 (from the package index) works against the dev server.

0.2.0's ``env="dev"`` only knows ``http://localhost:8080/api/v1``, so this test runs a dedicated
dev server on port 8080 and skips when that port is taken or the index is unreachable.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from noukai_sdk.devserver.process import DevServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SCRIPT = Path(__file__).with_name("compat_script_0_2_0.py")
PORT = 8080


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def sdk_0_2_0(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A separate virtualenv with the published noukai-sdk 0.2.0; its python executable."""
    home = tmp_path_factory.mktemp("noukai-0.2.0")
    uv = shutil.which("uv")
    venv.EnvBuilder(with_pip=uv is None).create(home)
    python = home / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # uv installs in seconds what pip takes most of a minute for; pip when uv is not there.
    installer = (
        [uv, "pip", "install", "--python", str(python)]
        if uv
        else [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    )
    install = subprocess.run(
        [*installer, "--quiet", "noukai-sdk==0.2.0"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if install.returncode != 0:
        pytest.skip(
            f"cannot install noukai-sdk==0.2.0 from the package index: {install.stderr[-500:]}"
        )
    return python


@pytest.fixture(scope="module")
def server_on_8080(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    if not _port_is_free(PORT):
        pytest.skip(
            f"port {PORT} is in use; noukai-sdk 0.2.0's env='dev' can only reach localhost:{PORT}"
        )
    workdir = tmp_path_factory.mktemp("compat-server")
    with DevServerProcess(port=PORT, db=workdir / "dev.sqlite3", latency_ms=0):
        yield


def test_published_0_2_0_client_runs_its_documented_calls(
    sdk_0_2_0: Path, server_on_8080: None
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOUKAI_")}
    completed = subprocess.run(
        [str(sdk_0_2_0), str(SCRIPT), "nk_dev_local"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=SCRIPT.parent,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.strip().startswith("OK ")
