"""The pytest plugin: cassette marker and fixtures, exercised in a separate pytest run (pytester)."""

from __future__ import annotations

import json

import pytest

from noukai_sdk_generated.models import SessionResponse

pytest_plugins = ["pytester"]


def cassette_bytes(*grades: str) -> bytes:
    """A recorded session of one ``grade-3`` execution per grade, as the API would send it."""
    executions = [
        {
            "execution_id": f"exec-{number}",
            "slug": "grade-3",
            "trigger_type": "execute",
            "steps": [{"step_id": "s-1", "attempt": 1, "output_snapshot": {"grade": grade}}],
            "status": "completed",
            "flow_id": "flow-1",
            "snapshots_available": True,
            "trace_capture_mode": "full",
        }
        for number, grade in enumerate(grades, start=1)
    ]
    recorded = SessionResponse.model_validate(
        {"session_id": "11111111-1111-4111-8111-111111111111", "executions": executions}
    )
    return json.dumps(recorded.to_wire()).encode()


@pytest.fixture
def cassette_project(pytester: pytest.Pytester) -> pytest.Pytester:
    cassettes = pytester.mkdir("cassettes")
    (cassettes / "grading.json").write_bytes(cassette_bytes("A", "B"))
    return pytester


def test_marker_replays_from_the_cassette_without_network(
    cassette_project: pytest.Pytester,
) -> None:
    cassette_project.makepyfile(
        test_user_code="""
        import pytest
        from noukai_sdk import Noukai, current_session_id

        @pytest.mark.noukai_cassette("cassettes/grading.json")
        def test_grades(noukai_replay_scope):
            # an unreachable base URL: any real request would fail
            client = Noukai("nk_test", env="dev", dev_port=9, org="acme", project="main")
            flow = client.flow("grade-3")
            assert flow.execute(message="a").result == {"grade": "A"}
            assert flow.execute(message="b").result == {"grade": "B"}
            assert noukai_replay_scope.mode == "replay"
            assert current_session_id() == noukai_replay_scope.session_id

        @pytest.mark.noukai_cassette("cassettes/grading.json")
        async def test_grades_async():
            from noukai_sdk import AsyncNoukai
            client = AsyncNoukai("nk_test", env="dev", dev_port=9, org="acme", project="main")
            flow = client.flow("grade-3")
            assert (await flow.execute()).result == {"grade": "A"}
            assert (await flow.execute()).result == {"grade": "B"}

        def test_unmarked_tests_get_no_scope(noukai_replay_scope):
            assert noukai_replay_scope is None
            assert current_session_id() is None
        """
    )
    result = cassette_project.runpytest_subprocess(
        "-p", "no:cacheprovider", "-o", "asyncio_mode=auto"
    )
    result.assert_outcomes(passed=3)


def test_unconsumed_recordings_fail_the_test(cassette_project: pytest.Pytester) -> None:
    cassette_project.makepyfile(
        test_user_code="""
        import pytest
        from noukai_sdk import Noukai

        @pytest.mark.noukai_cassette("cassettes/grading.json")
        def test_only_one_call():
            client = Noukai("nk_test", env="dev", dev_port=9, org="acme", project="main")
            client.flow("grade-3").execute()
        """
    )
    result = cassette_project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ReplayLeftoverError*exec-2*"])


def test_a_missing_cassette_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user_code="""
        import pytest

        @pytest.mark.noukai_cassette("cassettes/absent.json")
        def test_nothing():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ReplaySessionNotFoundError*absent.json*"])
