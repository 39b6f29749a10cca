"""Run with noukai-sdk 0.2.0 installed, against a dev server on localhost:8080.

Exercises what 0.2.0 documents: execute, steps, events with run_remaining, a tool-call round trip
(automatic and manual), a job, and error cases. Prints ``OK <n>`` after n checks, or fails.
"""

from __future__ import annotations

import json
import sys

import noukai_sdk as nk

checks = 0


def check(condition: object, what: str) -> None:
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


assert nk.__version__ == "0.2.0", nk.__version__
WEATHER = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
]


def weather(calls):
    return [
        {
            "role": "tool",
            "tool_call_id": c["id"],
            "content": "sunny in " + json.loads(c["function"]["arguments"])["city"],
        }
        for c in calls
    ]


with nk.Noukai(sys.argv[1], env="dev") as client:
    hello = client.flow("demo/examples/hello-world")
    result = hello.execute("hi")
    check(isinstance(result, nk.ExecuteResult), "execute returns ExecuteResult")
    check(
        result.status == "completed" and result.output == "Hello! You said: hi",
        f"execute result {result!r}",
    )
    check(result.execution_id, "execution id")

    steps = list(client.flow("demo/examples/two-step").steps("go"))
    check([s.step_id for s in steps] == ["draft", "polish"], f"steps {steps!r}")
    check(all(isinstance(s, nk.StepCompleted) and s.tokens.total > 0 for s in steps), "step tokens")
    check(all(float(s.cost_usd) > 0 for s in steps), "costUsd parses as a decimal string")

    events = list(client.flow("demo/examples/two-step").events("go", run_remaining=True))
    check(isinstance(events[0], nk.RunStarted) and events[0].run_id, f"first event {events[0]!r}")
    check(isinstance(events[-1], nk.FlowCompleted), f"last event {events[-1]!r}")
    check(not any(isinstance(e, nk.StepPaused) for e in events), "no StepPaused with run_remaining")
    check(any(isinstance(e, nk.StepStarted) for e in events), "StepStarted present")

    paused_events = list(client.flow("demo/examples/two-step").events("go"))
    check(
        sum(isinstance(e, nk.StepPaused) for e in paused_events) == 1,
        "one StepPaused between two steps",
    )
    check(isinstance(paused_events[-1], nk.FlowCompleted), "events end with FlowCompleted")

    tools = client.flow("demo/examples/tools-enabled")
    auto = tools.execute("Paris and Rome", tools=WEATHER, tool_handler=weather)
    check(auto.output == "Weather report: sunny in Paris; sunny in Rome", f"auto tools {auto!r}")

    paused = tools.execute("Oslo", tools=WEATHER)
    check(isinstance(paused, nk.PausedResult) and paused.requires_tool_calls, f"paused {paused!r}")
    call_id = paused.tool_calls[0]["id"]
    resumed = paused.resume_sync(
        tool_results=[{"role": "tool", "tool_call_id": call_id, "content": "cold"}]
    )
    check(resumed.output == "Weather report: cold", f"manual resume {resumed!r}")

    step_tools = list(tools.steps("Tokyo", tools=WEATHER, tool_handler=weather))
    check(
        step_tools[-1].output == "Weather report: sunny in Tokyo",
        f"tool pause on /step {step_tools!r}",
    )

    job = hello.execute_async("queued")
    check(job.execution_id and job.flow_id, "job handle")
    status = job.wait(timeout=20, poll_interval=0.1)
    check(
        status.status == "completed" and status.result == "Hello! You said: queued",
        f"job {status!r}",
    )

    trace = hello.run(result.execution_id).trace()
    check(
        trace.flow_run.id and trace.steps and trace.steps[0].status == "completed",
        f"trace {trace!r}",
    )
    latest = hello.run(result.execution_id).step_trace("answer")
    check(latest.step_id == "answer" and latest.attempt >= 1, "step trace")
    attempts = hello.run(result.execution_id).step_trace("answer", attempt="all")
    check(len(attempts.attempts) >= 1, "all attempts")
    live = list(hello.run(result.execution_id).live_trace())
    check(
        isinstance(live[0], nk.RunStarted) and isinstance(live[-1], nk.FlowCompleted), "live trace"
    )

    failed = client.flow("demo/examples/failing").execute("x")
    check(failed.status == "failed", f"failed run is a result {failed!r}")
    failed_steps = list(client.flow("demo/examples/failing").steps("x"))
    check(
        isinstance(failed_steps[-1], nk.StepFailed), f"steps() yields StepFailed {failed_steps!r}"
    )

    try:
        client.flow("demo/examples/does-not-exist").execute("x")
        check(False, "404 raises")
    except nk.FlowNotFoundError as error:
        check(
            error.status_code == 404 and error.code == "FLOW_NOT_FOUND" and error.request_id,
            repr(error),
        )

    try:
        tools.execute("Oslo")
        check(False, "400 raises")
    except nk.FlowExecutionError as error:
        check(error.status_code == 400 and error.code == "TOOLS_NOT_ENABLED", repr(error))

with nk.Noukai("nk_wrong_key", env="dev") as stranger:
    try:
        stranger.flow("demo/examples/hello-world").execute("x")
        check(False, "401 raises")
    except nk.AuthenticationError as error:
        check(error.status_code == 401 and error.www_authenticate, repr(error))

print(f"OK {checks}")
