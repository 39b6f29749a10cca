"""What each kind of block computes: deterministic text, token counts and cost, tool plans.

Nothing here sleeps, stores or talks HTTP; the engine calls these pure functions and turns their
results into events.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from noukai_sdk.devserver._flows import BlockSpec

PROMPT_PRICE_USD = Decimal("0.000001")
COMPLETION_PRICE_USD = Decimal("0.000002")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?:\.([^{}]+))?\}")


@dataclass(frozen=True, slots=True)
class TemplateContext:
    """Everything a block template may refer to."""

    message: str
    parameters: Mapping[str, Any]
    outputs: Mapping[str, Any]
    tool_outputs: Sequence[str] = ()
    loop_index: int = 0

    def lookup(self, name: str, key: str | None) -> Any:
        """The value of ``{name}`` or ``{name.key}``; ``None`` when it does not exist."""
        simple: dict[str, Any] = {
            "message": self.message,
            "word_count": len(self.message.split()),
            "char_count": len(self.message),
            "loop_index": self.loop_index,
            "tool_outputs": "; ".join(self.tool_outputs),
        }
        if key is None:
            return simple.get(name)
        if name == "parameters":
            return self.parameters.get(key)
        if name == "outputs":
            return self.outputs.get(key)
        return None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts and the cost derived from them."""

    prompt: int
    completion: int

    @property
    def total(self) -> int:
        return self.prompt + self.completion

    @property
    def cost(self) -> Decimal:
        return self.prompt * PROMPT_PRICE_USD + self.completion * COMPLETION_PRICE_USD


def render(template: str, context: TemplateContext) -> str:
    """Substitute ``{placeholders}``; unknown ones are left as written."""

    def substitute(match: re.Match[str]) -> str:
        value = context.lookup(match.group(1), match.group(2))
        if value is None:
            return match.group(0)
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)

    return _PLACEHOLDER.sub(substitute, template)


def render_value(template: str, context: TemplateContext) -> Any:
    """Like :func:`render`, but a template that is a single placeholder keeps the value's type."""
    match = _PLACEHOLDER.fullmatch(template)
    if match is not None:
        value = context.lookup(match.group(1), match.group(2))
        if value is not None:
            return value
    return render(template, context)


def count_tokens(text: str) -> int:
    """A stand-in tokenizer: one token per four characters, at least one."""
    return max(1, math.ceil(len(text) / 4))


def usage_for(prompt: str, completion: str) -> Usage:
    return Usage(prompt=count_tokens(prompt), completion=count_tokens(completion))


def format_cost(cost: Decimal) -> str:
    """Cost as the contract's decimal text with six places, e.g. ``"0.000150"``."""
    return f"{cost:.6f}"


def structured_output(block: BlockSpec, context: TemplateContext) -> dict[str, Any]:
    return {name: render_value(template, context) for name, template in block.fields.items()}


def output_text(output: Any) -> str:
    """The text a streaming block sends for ``output``: itself, or a JSON value's JSON text
    (which the joined deltas then parse back to exactly ``output``)."""
    return output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)


def stream_chunks(text: str) -> list[str]:
    """The deltas a ``stream`` block emits: one per word, keeping the separating spaces."""
    words = text.split(" ")
    return [word if index == 0 else " " + word for index, word in enumerate(words)]


def plan_tool_calls(block: BlockSpec, message: str) -> list[dict[str, Any]]:
    """The arguments of each call a ``tool`` block makes, in the order the message names them.

    With ``choices`` the block calls the tool once per choice named in the message; without, it
    calls it once with the whole message.
    """
    if not block.choices:
        return [{block.argument: message}] if message else []
    lowered = message.lower()
    found = [
        (position, choice)
        for choice in block.choices
        if (position := _word_position(lowered, choice.lower())) >= 0
    ]
    return [{block.argument: choice} for _, choice in sorted(found)]


def _word_position(text: str, word: str) -> int:
    match = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)
    return -1 if match is None else match.start()
