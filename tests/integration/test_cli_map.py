"""``noukai map``: many rows, bounded concurrency, per-row errors, progress, and resuming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_process import dev_env, in_terminal, piped
from conftest import DevServerProcess


@pytest.fixture
def env(dev_server: DevServerProcess) -> dict[str, str]:
    return dev_env(dev_server.api_key, dev_server.port)


def write_rows(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def map_args(flow: str, rows: Path, out: Path, *extra: str) -> tuple[str, ...]:
    return ("map", flow, "--input", str(rows), "--output", str(out), *extra)


def read_results(path: Path) -> list[dict[str, object]]:
    return sorted(
        (json.loads(line) for line in path.read_text().splitlines()),
        key=lambda row: int(str(row["index"])),
    )


def test_map_writes_one_result_row_per_input(env: dict[str, str], tmp_path: Path) -> None:
    rows = write_rows(
        tmp_path / "in.jsonl",
        ["first", {"message": "second", "parameters": {"audience": "kids"}}, "third"],
    )
    out = tmp_path / "out.jsonl"
    done = piped(
        *("map", "demo/examples/structured-output", "--input", str(rows)),
        *("--output", str(out), "--concurrency", "2", "--param", "audience=adults"),
        env=env,
    )
    assert done.returncode == 0, done.stderr
    results = read_results(out)
    assert [row["index"] for row in results] == [0, 1, 2]
    assert {row["status"] for row in results} == {"completed"}
    assert results[1]["input"] == {"message": "second", "parameters": {"audience": "kids"}}
    assert results[1]["output"] == {
        "text": "second",
        "word_count": 1,
        "char_count": 6,
        "audience": "kids",
    }
    assert results[0]["output"]["audience"] == "adults"  # type: ignore[index]
    assert str(results[0]["execution_id"]).startswith("exec_")
    assert "map: 3 completed, 0 failed of 3 rows" in done.stderr


def test_map_without_output_prints_rows_on_stdout(env: dict[str, str], tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "in.jsonl", ["a", "b"])
    done = piped("map", "demo/examples/hello-world", "--input", str(rows), env=env)
    assert done.returncode == 0, done.stderr
    outputs = sorted(json.loads(line)["output"] for line in done.stdout.splitlines())
    assert outputs == ["Hello! You said: a", "Hello! You said: b"]


def test_failed_rows_are_recorded_and_exit_1(env: dict[str, str], tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "in.jsonl", ["a", "b"])
    out = tmp_path / "out.jsonl"
    done = piped(
        "map", "demo/examples/failing", "--input", str(rows), "--output", str(out), env=env
    )
    assert done.returncode == 1
    for row in read_results(out):
        assert row["status"] == "failed"
        assert row["error"] == {
            "type": "FlowFailed",
            "message": "The demo flow 'failing' always fails at this step.",
            "code": "FLOW_EXECUTION_ERROR",
            "step_id": "explode",
        }


def test_map_in_jobs_mode(env: dict[str, str], tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "in.jsonl", [f"row {i}" for i in range(6)])
    out = tmp_path / "out.jsonl"
    done = piped(
        *("map", "demo/examples/hello-world", "--input", str(rows), "--output", str(out)),
        *("--jobs", "--concurrency", "3"),
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert [row["output"] for row in read_results(out)] == [
        f"Hello! You said: row {i}" for i in range(6)
    ]


def test_map_resumes_from_a_partial_output_file(env: dict[str, str], tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "in.jsonl", [f"row {i}" for i in range(5)])
    out = tmp_path / "out.jsonl"
    earlier = [
        {"index": 0, "input": "row 0", "status": "completed", "output": "kept from before"},
        {"index": 1, "input": "row 1", "status": "failed", "error": {"type": "X", "message": "m"}},
    ]
    out.write_text("".join(json.dumps(row) + "\n" for row in earlier) + '{"index": 2, "inp')
    done = piped(
        "map", "demo/examples/hello-world", "--input", str(rows), "--output", str(out), env=env
    )
    assert done.returncode == 0, done.stderr
    results = read_results(out)
    assert [row["index"] for row in results] == [0, 1, 2, 3, 4]
    assert results[0]["output"] == "kept from before"
    assert results[1] == {
        "index": 1,
        "input": "row 1",
        "status": "completed",
        "execution_id": results[1]["execution_id"],
        "output": "Hello! You said: row 1",
    }
    assert "4 completed, 0 failed, 1 already done of 5 rows" in done.stderr


def test_resuming_with_another_input_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text(
        json.dumps({"index": 0, "input": "old", "status": "completed", "output": 1}) + "\n"
    )
    rows = write_rows(tmp_path / "in.jsonl", ["new"])
    done = piped(
        "map", "demo/examples/hello-world", "--input", str(rows), "--output", str(out), env=env
    )
    assert done.returncode == 2
    assert "different input" in done.stderr
    assert json.loads(out.read_text())["input"] == "old"


def test_ctrl_c_mid_map_keeps_finished_rows_and_a_rerun_completes(
    env: dict[str, str], tmp_path: Path
) -> None:
    rows = write_rows(
        tmp_path / "in.jsonl",
        [{"message": f"row {i}", "parameters": {"delay_ms": 150}} for i in range(12)],
    )
    out = tmp_path / "out.jsonl"

    def some_rows_written(_screen: str) -> bool:
        return out.exists() and len(out.read_text().splitlines()) >= 2

    args = map_args("demo/examples/slow", rows, out, "--concurrency", "2")
    stopped = in_terminal(*args, env=env, interrupt_when=some_rows_written)
    assert stopped.returncode == 130
    assert "Traceback" not in stopped.text
    finished = len(out.read_text().splitlines())
    assert 2 <= finished < 12
    resumed = in_terminal(*args, env=env)
    assert resumed.returncode == 0, resumed.text
    assert f"{finished} already done of 12 rows" in resumed.text
    assert [row["index"] for row in read_results(out)] == list(range(12))


def test_a_terminal_shows_a_progress_bar(env: dict[str, str], tmp_path: Path) -> None:
    rows = write_rows(
        tmp_path / "in.jsonl", [{"message": "x", "parameters": {"delay_ms": 100}}] * 6
    )
    out = tmp_path / "out.jsonl"
    screens: list[str] = []

    def watch(screen: str) -> bool:
        screens.append(screen)
        return False

    done = in_terminal(
        *map_args("demo/examples/slow", rows, out, "--concurrency", "1"),
        env=env,
        interrupt_when=watch,
    )
    assert done.returncode == 0, done.text
    shown = "\n".join(screens)
    assert "failed" in shown and "rows/s" in shown and "ETA" in shown
    assert "/6" in shown


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("not json", "not valid JSON"),
        ('{"nope": 1}', "unknown field 'nope'"),
        ("3", "expected a message"),
    ],
)
def test_a_malformed_input_line_is_named_before_any_request(
    env: dict[str, str], tmp_path: Path, line: str, expected: str
) -> None:
    rows = tmp_path / "in.jsonl"
    rows.write_text('"fine"\n' + line + "\n")
    done = piped("map", "demo/examples/hello-world", "--input", str(rows), env=env)
    assert done.returncode == 2
    assert done.stderr == f"noukai map: {rows}:2: " + done.stderr.split(":2: ", 1)[1]
    assert expected in done.stderr and done.stdout == ""


def test_a_batch_wide_error_stops_the_map(env: dict[str, str], tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "in.jsonl", ["a", "b", "c"])
    done = piped("map", "demo/examples/nope", "--input", str(rows), env=env)
    assert done.returncode == 3
    assert "not found (404)" in done.stderr
