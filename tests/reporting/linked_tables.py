"""Random registers as snapshot rows, made into real return tables (so every table of one
authority is linked to its others exactly as in a real release), and an attacker of the published
figures written apart from the product's own audit (scipy's linprog)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
from scipy.optimize import linprog

from registers.codes import Category, DelayReason, HospitalType, Sex, UrgentReason
from reporting.disclosure import Key, Release
from reporting.tables import compute_tables

CENSUS = dt.date(2025, 9, 25)
HOSTS = ["S37000001", "england", "wales", "northern_ireland", "outside_uk"]


def person_row(rng: random.Random, *, in_hospital_share: float = 0.12) -> dict[str, Any]:
    """One adult on the register, shaped roughly like the national figures."""
    row = {
        "age": rng.choice([19, 23, 30, 40, 50, 60, 70]),
        "sex": rng.choice([Sex.MALE, Sex.MALE, Sex.FEMALE, Sex.NOT_KNOWN]),
        "category": Category.ENHANCED_MONITORING,
        "urgent_reason": "",
        "admission_date": None,
        "ready_for_discharge_date": None,
        "hospital_type": "",
        "delay_reason": "",
        "host_area": "",
    }
    draw = rng.random()
    if draw < in_hospital_share:
        row |= {
            "category": Category.URGENT,
            "urgent_reason": UrgentReason.IN_HOSPITAL,
            "admission_date": CENSUS
            - dt.timedelta(days=rng.choice([30, 200, 400, 900, 2500, 4000])),
            "hospital_type": rng.choice(HospitalType.values),
        }
        if rng.random() < 0.4:
            row["ready_for_discharge_date"] = CENSUS - dt.timedelta(
                days=rng.choice([10, 60, 120, 250, 500])
            )
            row["delay_reason"] = rng.choice([*DelayReason.values, ""])
    elif draw < 0.16:
        row |= {
            "category": Category.URGENT,
            "urgent_reason": UrgentReason.INAPPROPRIATE_OUT_OF_AREA,
            "host_area": rng.choice(HOSTS),
        }
    elif draw < 0.28:
        row |= {"category": Category.URGENT, "urgent_reason": UrgentReason.AT_RISK_OF_BREAKDOWN}
    elif draw < 0.42:
        row |= {"category": Category.APPROPRIATE_OUT_OF_AREA, "host_area": rng.choice(HOSTS)}
    return row


@dataclass
class FakeReturn:
    """What the national documents read from an AuthorityReturn."""

    authority: Any
    tables: list[dict[str, Any]]
    status: str = "submitted"

    def get_status_display(self) -> str:
        return "Submitted"


def fake_return(index: int, rows: list[dict[str, Any]], movement: dict | None = None) -> FakeReturn:
    authority = SimpleNamespace(code=f"S3700{index:04d}", name=f"Authority {index}")
    return FakeReturn(authority, compute_tables(rows, CENSUS, movement or {}))


def random_returns(seed: int, sizes: list[int]) -> list[FakeReturn]:
    rng = random.Random(seed)
    movement = lambda: {  # noqa: E731
        "added": rng.randint(0, 6),
        "left": {"died": rng.randint(0, 2)},
        "moved_between_categories": rng.randint(0, 5),
    }
    return [
        fake_return(i, [person_row(rng) for _ in range(n)], movement()) for i, n in enumerate(sizes)
    ]


class NoSolution(Exception):
    """The attacker's assumptions contradict the published figures: they learn nothing."""


def lp_ranges(
    release: Release,
    hidden: set[Key],
    *,
    floor_one: bool | set[Key] = False,
    upper: dict | None = None,
) -> dict[Key, tuple[float, float]]:
    """The attacker: min and max of each hidden cell subject to every published figure.

    floor_one: the attacker believes these hidden cells (True: all) are at least 1, as they
    would if zeros were always shown.
    upper: extra upper bounds the attacker knows (a cell labelled primary is below the threshold).
    """
    keys = sorted(hidden)
    index = {k: i for i, k in enumerate(keys)}
    a_eq, b_eq, a_ub, b_ub = [], [], [], []
    for constraint in release.constraints:
        row = np.zeros(len(keys))
        rhs = float(constraint.rhs)
        for key, coefficient in constraint.terms:
            if key in index:
                row[index[key]] += coefficient
            else:
                rhs -= coefficient * release.values[key]
        if not row.any():
            continue
        (a_eq if constraint.equal else a_ub).append(row)
        (b_eq if constraint.equal else b_ub).append(rhs)
    ones = set(keys) if floor_one is True else set(floor_one or ())
    bounds = [(1 if k in ones else 0, (upper or {}).get(k)) for k in keys]
    found = {}
    for k in keys:
        ends = []
        for sign in (1, -1):
            cost = np.zeros(len(keys))
            cost[index[k]] = sign
            result = linprog(
                cost,
                A_ub=np.array(a_ub) if a_ub else None,
                b_ub=b_ub or None,
                A_eq=np.array(a_eq) if a_eq else None,
                b_eq=b_eq or None,
                bounds=bounds,
                method="highs",
            )
            if result.status == 3:
                ends.append(float("inf"))
            elif result.status == 2:
                raise NoSolution(result.message)
            else:
                assert result.status == 0, result.message
                ends.append(sign * result.fun)
        found[k] = (ends[0], ends[1])
    return found
