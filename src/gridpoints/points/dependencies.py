"""The rule sets in force (read and checked once in `create_app`), for the routes that show or
try them."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from gridpoints.points.rules import RuleSet


def provide_rulesets(state: State) -> list[RuleSet]:
    return state.rulesets


DEPENDENCIES = {"rulesets": Provide(provide_rulesets, sync_to_thread=False)}

# The annotation for a handler parameter that receives the rule sets by name.
Rulesets = NamedDependency[list[RuleSet]]
