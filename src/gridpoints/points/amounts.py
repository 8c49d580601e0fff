"""A rule's points as an SQL integer expression, exactly as `Rule.amount` computes them.

Amounts are scaled by 100, so the rounding is exact: the rule's numbers are validated to two
decimals (`points.rules`) and go into the expression as integer constants.
"""

from __future__ import annotations

from decimal import Decimal

from gridpoints.points.rules import Rule

# Amounts in hundredths; an hour is 60 minutes: points = num / (100 * 100 * 60).
_SCALE = 100
_DENOMINATOR = _SCALE * _SCALE * 60


def _scaled(value: float) -> int:
    return int(Decimal(str(value)) * _SCALE)


def amount_sql(rule: Rule, minutes: str) -> str:
    """The rule's points for an event of `minutes` (an SQL expression), as `Rule.amount`."""
    fixed, per_hour, multiplier = (
        _scaled(rule.points.fixed),
        _scaled(rule.points.per_hour),
        _scaled(rule.points.multiplier),
    )
    # (fixed * 60 + per_hour * minutes) * multiplier, in hundredths, leaving out what is 0.
    terms = [str(fixed * 60)] if fixed else []
    if per_hour:
        terms.append(f"{per_hour} * CAST({minutes} AS BIGINT)")
    num = f"({' + '.join(terms) or '0'})"
    if multiplier != _SCALE:
        num = f"({num} * {multiplier})"
        den = _DENOMINATOR
    else:
        den = _DENOMINATOR // _SCALE
    rounding = {
        "down": (f"{num} / {den}", f"-((-{num} + {den - 1}) / {den})"),
        "up": (f"({num} + {den - 1}) / {den}", f"-((-{num}) / {den})"),
        "half_up": (f"(2 * {num} + {den}) / {2 * den}", f"-((2 * (-{num}) + {den}) / {2 * den})"),
    }[rule.points.rounding]
    # With no negative part the amount is never negative: no need to ask.
    if fixed >= 0:
        points = f"({rounding[0]})"
    else:
        points = f"(CASE WHEN {num} >= 0 THEN {rounding[0]} ELSE {rounding[1]} END)"
    cap = rule.cap_per_event
    if cap is None:
        return points
    return (
        f"(CASE WHEN {points} > {cap} THEN {cap} WHEN {points} < -{cap} THEN -{cap}"
        f" ELSE {points} END)"
    )
