"""``Usage``: tokens and cost of a run, summed from its steps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol


class _TokenCounts(Protocol):
    @property
    def prompt(self) -> int | None: ...

    @property
    def completion(self) -> int | None: ...

    @property
    def total(self) -> int | None: ...


class StepCost(Protocol):
    """What a step reports about its model use: a trace attempt or a ``step_completed`` event."""

    @property
    def tokens(self) -> _TokenCounts | None: ...

    @property
    def cost_usd(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens and cost of one run (or of several, added with ``+``).

    ``cost_usd`` is a :class:`~decimal.Decimal` because the server reports cost as decimal text;
    a float would lose the sub-cent digits that add up over a batch.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: Decimal = Decimal(0)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )

    @classmethod
    def of_step(cls, step: StepCost) -> Usage:
        """The usage one step reports; missing counts are 0, a total missing is prompt + completion."""
        tokens = step.tokens
        prompt = (tokens.prompt or 0) if tokens is not None else 0
        completion = (tokens.completion or 0) if tokens is not None else 0
        total = (tokens.total or 0) if tokens is not None else 0
        return cls(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=total or prompt + completion,
            cost_usd=_decimal_cost(step.cost_usd),
        )

    @classmethod
    def sum_steps(cls, steps: Iterable[StepCost]) -> Usage:
        """The usage of a run: the sum over the steps (or step attempts) that report any."""
        usage = cls()
        for step in steps:
            usage = usage + cls.of_step(step)
        return usage


def _decimal_cost(text: str | None) -> Decimal:
    """The server's decimal cost text as a Decimal; absent or unreadable counts as 0."""
    if not text:
        return Decimal(0)
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        return Decimal(0)
    return value if value.is_finite() else Decimal(0)
