"""The state machines of field records (check-in review, service records, wishes): which state
may follow which, and the one refusal (409) any other move gets, in the record's own words."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from gridpoints.errors import Conflict

State = TypeVar("State", bound=StrEnum)


class Transitions(Generic[State]):
    """The moves a state vocabulary allows: `moves[current]` holds the states that may follow
    it. `refusal(current, target)` makes the Conflict for a move outside them."""

    def __init__(
        self,
        states: type[State],
        moves: Mapping[State, Collection[State]],
        refusal: Callable[[State, State], Conflict],
    ) -> None:
        self.states = states
        self.moves = moves
        self.refusal = refusal

    def allows(self, current: str, target: State) -> bool:
        return target in self.moves.get(self.states(current), ())

    def check(self, current: str, target: State) -> None:
        """Raise the refusal unless `target` may follow `current` (a stored state string)."""
        if not self.allows(current, target):
            raise self.refused(current, target)

    def refused(self, current: str, target: State) -> Conflict:
        """The refusal of this move, for a caller that learned only afterwards that it lost
        (a conditional update that found the record moved on)."""
        return self.refusal(self.states(current), target)
