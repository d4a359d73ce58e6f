"""Made-up personal data for a few ticket descriptions: names, phone and ID numbers the masking must hide.

All fake: ID numbers carry a valid GB 11643 check digit so they look real to the masking rules.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from data_access.demo.reference import GIVEN, SURNAMES


def _fake_id_number(area: str, rng: np.random.Generator) -> str:
    """An 18-digit resident ID with a valid check digit (GB 11643), made up."""
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=int(rng.integers(0, 20000)))
    body = f"{area}{birth:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _fake_phone(rng: np.random.Generator) -> str:
    return f"1{int(rng.integers(3, 10))}{int(rng.integers(0, 10**9)):09d}"


def _fake_name(rng: np.random.Generator) -> str:
    size = 1 + int(rng.random() < 0.6)
    return SURNAMES[int(rng.integers(len(SURNAMES)))] + "".join(
        GIVEN[int(i)] for i in rng.integers(0, len(GIVEN), size=size)
    )


def personal_data(kind: int, district_code: str, address: str, rng: np.random.Generator) -> str:
    """A sentence with a fake phone number, ID number, or name and exact home address."""
    if kind == 0:
        return f"联系电话：{_fake_phone(rng)}。"
    if kind == 1:
        building, unit, room = int(rng.integers(1, 30)), int(rng.integers(1, 6)), int(rng.integers(101, 2600))
        return f"来电人{_fake_name(rng)}，家住{address}{building}幢{unit}单元{room}室。"
    if kind == 2:
        return f"来电人身份证号码{_fake_id_number(district_code, rng)}。"
    return f"来电人{_fake_name(rng)}，身份证号{_fake_id_number(district_code, rng)}，电话{_fake_phone(rng)}。"
