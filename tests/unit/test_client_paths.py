"""Flow addressing: slug forms and their messages, segment validation, encoding, version routing."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx
from client_helpers import BASE, KEY, Kind, completed, make_client, resolve
from wire_double import KINDS, Wire, ok, short_completed

from noukai_sdk import (
    Noukai,
)


@pytest.fixture
def client() -> Noukai:
    return Noukai(KEY, org="acme", project="spelling")


def test_slug_forms(client: Noukai) -> None:
    flow = client.flow("grade-3")
    assert (flow.org, flow.project, flow.slug) == ("acme", "spelling", "grade-3")
    flow = client.flow("other/proj/grade-4")
    assert (flow.org, flow.project, flow.slug) == ("other", "proj", "grade-4")
    flow = client.flow("s", org="o", project="p")
    assert (flow.org, flow.project, flow.slug) == ("o", "p", "s")
    flow = Noukai(KEY).flow(slug="s", org="o", project="p")
    assert (flow.org, flow.project, flow.slug) == ("o", "p", "s")


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (
            ("o/p/s",),
            {"org": "o"},
            "Pass either a slug string OR org/project/slug kwargs, not both.",
        ),
        (("",), {}, "Slug string is empty."),
        (
            ("a/b",),
            {},
            "Slug string must be either a single slug name (with client org/project defaults) or 'org/project/slug'; got: 'a/b'",
        ),
        (("a//c",), {}, "Slug string must be either a single slug name"),
        (("/b/c",), {}, "Slug string must be either a single slug name"),
        (("a/b/c/d",), {}, "Slug string must be either a single slug name"),
        (("s",), {"org": "o"}, "Kwargs form requires all of org=, project=, slug=."),
        ((None,), {"org": "o"}, "Kwargs form requires all of org=, project=, slug=."),
        ((), {"org": "o", "project": "p"}, "Kwargs form requires all of org=, project=, slug=."),
        ((), {}, "Must provide either a slug string or org/project/slug kwargs."),
    ],
)
def test_slug_errors(
    client: Noukai, args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as info:
        client.flow(*args, **kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize("defaults", [{}, {"org": "", "project": ""}])
def test_short_slug_needs_client_defaults(defaults: dict[str, str]) -> None:
    with pytest.raises(
        ValueError, match="requires the client to be constructed with org and project defaults"
    ) as info:
        Noukai(KEY, **defaults).flow("grade-3")
    assert "'org/project/grade-3'" in str(info.value)


@pytest.mark.parametrize("bad", [".", ".."])
def test_dot_segments_are_rejected(client: Noukai, bad: str) -> None:
    with pytest.raises(ValueError, match="slug"):
        client.flow(slug=bad, org="o", project="p")


@pytest.mark.parametrize("bad_id", ["", "a/b", ".."])
def test_execution_and_step_ids_are_validated(client: Noukai, bad_id: str) -> None:
    with pytest.raises(ValueError, match="execution_id"):
        client.flow("s").run(bad_id)
    with pytest.raises(ValueError, match="step_id"):
        client.flow("s").run("e").step_trace(bad_id)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_segments_are_percent_encoded(kind: Kind) -> None:
    client = make_client(kind)
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/seq/my%20org/p%3Fq/s%23frag/execute").respond(200, json=completed())
        resolve(client.flow(slug="s#frag", org="my org", project="p?q").execute("hi"))
    assert route.called
    assert route.calls.last.request.url.raw_path == b"/api/v1/seq/my%20org/p%3Fq/s%23frag/execute"


@pytest.mark.parametrize(
    ("version", "path"),
    [
        (None, "/seq/o/p/s/execute"),
        ("production", "/seq/o/p/s/execute"),
        ("draft", "/seq/o/p/s/v0/execute"),
        (0, "/seq/o/p/s/v0/execute"),
        (7, "/seq/o/p/s/v7/execute"),
    ],
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_version_routing(kind: Kind, version: Any, path: str) -> None:
    client = make_client(kind)
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(path).respond(200, json=completed())
        resolve(client.flow("o/p/s").execute("hi", version=version))
    assert route.call_count == 1


@pytest.mark.parametrize("version", [True, False, -1, "3", "latest", "Draft", 1.0])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_invalid_versions_raise_before_any_request(kind: Kind, version: Any) -> None:
    client = make_client(kind)
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.route().respond(200, json=completed())
        with pytest.raises(ValueError) as info:
            resolve(client.flow("o/p/s").execute("hi", version=version))
        with pytest.raises(ValueError, match="Invalid version"):
            resolve(client.flow("o/p/s").execute_async("hi", version=version))
        with pytest.raises(ValueError):
            client.flow("o/p/s").steps("hi", version=version)
    assert not route.called
    assert str(info.value) == (
        f'Invalid version: {version!r}. Expected "draft", "production", or a non-negative integer.'
    )


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_jobs_are_submitted_versioned_and_polled_unversioned(kind: Kind) -> None:
    client = make_client(kind)
    with respx.mock(base_url=BASE) as mock:
        submit = mock.post("/seq/o/p/s/v3/jobs").respond(
            200, json={"executionId": "j1", "status": "started", "flowId": "f", "blockCount": 1}
        )
        poll = mock.get("/seq/o/p/s/jobs/j1").respond(
            200, json={"executionId": "j1", "status": "running"}
        )
        job = resolve(client.flow("o/p/s").execute_async("m", version=3))
        assert resolve(job.poll()).status == "running"
    assert submit.called and poll.called
    assert json.loads(submit.calls.last.request.content) == {
        "message": "m",
        "parameters": {},
        "iterationsUsed": 0,
        "accumulatedOutputs": {},
        "trace": False,
    }


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("slug", "path"),
    [("a b/p#q/s?x", "/seq/a%20b/p%23q/s%3Fx/execute"), ("o/p/ü", "/seq/o/p/%C3%BC/execute")],
)
def test_path_segments_are_percent_encoded(kind: str, slug: str, path: str) -> None:
    wire = Wire(ok(short_completed()))
    resolve(wire.client(kind).flow(slug).execute("hi"))
    assert wire.requests[0].url.raw_path.decode() == "/api/v1" + path


@pytest.mark.parametrize("kind", KINDS)
def test_bad_ids_are_refused_before_any_request(kind: str) -> None:
    wire = Wire(ok(short_completed()))
    flow = wire.client(kind).flow("o/p/s")
    for bad in ("", "a/b", ".."):
        with pytest.raises(ValueError):
            resolve(flow.run(bad).trace())
    with pytest.raises(ValueError):
        resolve(flow.run("e").step_trace("x/y"))
    assert not wire.requests
