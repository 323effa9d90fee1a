"""A small test-only problem type (0/1 knapsack as minimisation), loaded by workers in tests through
PROBLEM_MODULES. It exercises the server's paths that shift scheduling rarely takes: infeasible
inputs, an error while building the model, and an instance made to be slow on purpose."""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.problems import Check, InputError, Penalty, ProblemType, Rule, register
from app.problems.base import Model


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: int = Field(ge=0)
    value: int = Field(ge=0)


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")
    capacity: int = Field(ge=0)
    min_value: int = Field(default=0, ge=0, description="Hard: the packed value must reach this")
    items: list[Item]
    explode: bool = Field(default=False, description="Raise while building the model (tests failure paths)")
    build_seconds: float = Field(default=0, ge=0, description="Build this long in plain Python (a huge model)")
    hog_mb: int = Field(default=0, ge=0, description="Hold this much memory while building (a runaway build)")


def validate(payload) -> Input:
    try:
        return Input.model_validate(payload)
    except ValidationError as exc:
        raise InputError.from_pydantic(exc) from None


def build(inp: Input):
    if inp.explode:
        raise ValueError("the model builder exploded on purpose")
    _build_slowly(inp.build_seconds)
    hog = [bytearray(1024 * 1024) for _ in range(inp.hog_mb)]  # noqa: F841  (held while building)
    model = Model()
    take = [model.new_bool_var(f"take_{i}") for i in range(len(inp.items))]
    model.add(sum(it.weight * t for it, t in zip(inp.items, take, strict=False)) <= inp.capacity)
    model.add(sum(it.value * t for it, t in zip(inp.items, take, strict=False)) >= inp.min_value)
    # Minimise the value left behind.
    model.minimize(sum(it.value * (1 - t) for it, t in zip(inp.items, take, strict=False)))
    return model, take


def _build_slowly(seconds: float) -> None:
    """Busy Python work that never looks at a stop request, like building a model of many constraints."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        sum(range(10_000))


def extract(inp: Input, take, value) -> dict:
    return {"take": [i for i, t in enumerate(take) if value(t)]}


def hint(model, take, inp: Input, solution: dict) -> None:
    chosen = set(solution["take"])
    for i, t in enumerate(take):
        model.add_hint(t, i in chosen)


def check(inp: Input, solution: dict) -> Check:
    out = Check()
    chosen = set(solution.get("take", []))
    if sum(inp.items[i].weight for i in chosen) > inp.capacity:
        out.violations.append("over capacity")
    if sum(inp.items[i].value for i in chosen) < inp.min_value:
        out.violations.append("below the minimum value")
    out.penalties = [
        Penalty("left_behind", it.value, detail=f"item {i}")
        for i, it in enumerate(inp.items)
        if i not in chosen and it.value
    ]
    return out


def demo_hard() -> Input:
    # Values nearly proportional to large weights: good packings come fast, the proof takes minutes.
    import random

    rnd = random.Random(7)
    weights = [rnd.randint(10**6, 2 * 10**6) for _ in range(60)]
    items = [Item(weight=w, value=3 * w + rnd.randint(0, 7)) for w in weights]
    return Input(capacity=sum(weights) // 2 + 7, items=items)


PROBLEM = register(
    ProblemType(
        name="knapsack",
        title="Knapsack (test)",
        description="Test-only problem type.",
        input_model=Input,
        validate=validate,
        importers={},
        demos={
            "tiny": lambda: Input(
                capacity=5, items=[Item(weight=3, value=4), Item(weight=2, value=3), Item(weight=4, value=5)]
            ),
            "hard": demo_hard,
        },
        build=build,
        extract=extract,
        hint=hint,
        check=check,
        rules=[Rule("left_behind", "Value left behind")],
        # Scaled so that "tiny" is small enough to solve in the worker process (INLINE_MAX_VARIABLES)
        # and "hard" is forked into a work horse, as real problem types of those sizes would be.
        estimate=lambda inp: {"variables": 100 * len(inp.items)},
    )
)
