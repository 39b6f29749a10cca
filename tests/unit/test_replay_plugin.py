"""The pytest plugin: cassette marker and fixtures, exercised in a separate pytest run (pytester)."""

from __future__ import annotations

import pytest
from test_replay_helpers import execution, session, step, wire_bytes

pytest_plugins = ["pytester"]


@pytest.fixture
def cassette_project(pytester: pytest.Pytester) -> pytest.Pytester:
    cassettes = pytester.mkdir("cassettes")
    recorded = session(
        execution("exec-1", steps=[step("s-1", {"grade": "A"})]),
        execution("exec-2", steps=[step("s-1", {"grade": "B"})]),
    )
    (cassettes / "grading.json").write_bytes(wire_bytes(recorded))
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
