"""Categories and departments of the demo: the real 3-level complaint taxonomy and the grid event categories.

Codes follow the file order (C01 / C01.02 / C01.02.003 for complaints, GP../GE.. for grid parts and events)
so the same file gives the same codes; the weights give the realistic skew a hotline shows.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from data_access.demo.reference import (
    COMMON_L3,
    COMPLAINT_L1_WEIGHT,
    COMPLEX_L1,
    COMPLEX_L2,
    DEPARTMENTS,
    GRID_CATEGORIES,
    GRID_MINOR_DEPARTMENT,
    L1_DEPARTMENT,
    L2_DEPARTMENT,
    L3_DEPARTMENT,
    TAXONOMY_FILE,
    URGENT_L3,
    UTILITY_L3,
    BoolArray,
    DemoProblem,
    FloatArray,
    IntArray,
)


@dataclasses.dataclass(frozen=True)
class ComplaintTaxonomy:
    """Third-level complaint categories with their codes, parents, weights and handling rules."""

    l1_code: list[str]
    l2_code: list[str]
    l3_code: list[str]
    l1_name: list[str]
    l2_name: list[str]
    l3_name: list[str]
    weight: FloatArray
    department: IntArray
    utility: BoolArray
    urgent: BoolArray
    complex: BoolArray
    rows: list[dict[str, Any]]  # category table rows (all three levels)

    def find(self, l2: str, l3: str) -> int:
        for i, (a, b) in enumerate(zip(self.l2_name, self.l3_name, strict=True)):
            if (a, b) == (l2, l3):
                return i
        raise DemoProblem(f"complaint category {l2}/{l3} is not in {TAXONOMY_FILE}")


def department_index() -> dict[str, int]:
    """Department code -> its position in DEPARTMENTS (the department arrays are indexed by it)."""
    return {code: i for i, (code, _, _) in enumerate(DEPARTMENTS)}


def load_taxonomy(rng: np.random.Generator, path: Path = TAXONOMY_FILE) -> ComplaintTaxonomy:
    """The real three-level taxonomy, coded C01 / C01.02 / C01.02.003 in file order, with a skew."""
    if not path.is_file():
        raise DemoProblem(f"The complaint taxonomy {path} is missing (it ships with the repository).")
    with path.open(encoding="utf-8", newline="") as handle:
        records = [
            (r["一级分类"].strip(), r["二级分类"].strip(), r["三级分类"].strip()) for r in csv.DictReader(handle)
        ]
    l1_codes: dict[str, str] = {}
    l2_codes: dict[tuple[str, str], str] = {}
    l3_count: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    out: dict[str, list[Any]] = {k: [] for k in ("l1c", "l2c", "l3c", "l1", "l2", "l3")}
    for l1, l2, l3 in records:
        if l1 not in l1_codes:
            l1_codes[l1] = f"C{len(l1_codes) + 1:02d}"
            rows.append({"code": l1_codes[l1], "domain": "complaints", "level": 1, "name": l1, "parent_code": None})
        c1 = l1_codes[l1]
        if (l1, l2) not in l2_codes:
            siblings = sum(1 for key in l2_codes if key[0] == l1)
            l2_codes[(l1, l2)] = f"{c1}.{siblings + 1:02d}"
            rows.append({"code": l2_codes[(l1, l2)], "domain": "complaints", "level": 2, "name": l2, "parent_code": c1})
        c2 = l2_codes[(l1, l2)]
        l3_count[c2] = l3_count.get(c2, 0) + 1
        c3 = f"{c2}.{l3_count[c2]:03d}"
        rows.append({"code": c3, "domain": "complaints", "level": 3, "name": l3, "parent_code": c2})
        for key, value in zip(out, (c1, c2, c3, l1, l2, l3), strict=True):
            out[key].append(value)
    weight = _taxonomy_weights(out["l1"], out["l2c"], out["l3"], rng)
    departments = department_index()
    department = np.array(
        [
            departments[L3_DEPARTMENT.get(l3) or L2_DEPARTMENT.get(l2) or L1_DEPARTMENT.get(l1, "BGT")]
            for l1, l2, l3 in zip(out["l1"], out["l2"], out["l3"], strict=True)
        ],
        dtype=np.int64,
    )
    return ComplaintTaxonomy(
        l1_code=out["l1c"],
        l2_code=out["l2c"],
        l3_code=out["l3c"],
        l1_name=out["l1"],
        l2_name=out["l2"],
        l3_name=out["l3"],
        weight=weight,
        department=department,
        utility=np.array([n in UTILITY_L3 for n in out["l3"]]),
        urgent=np.array([n in URGENT_L3 for n in out["l3"]]),
        complex=np.array(
            [a in COMPLEX_L1 or b in COMPLEX_L2 for a, b in zip(out["l1"], out["l2"], strict=True)], dtype=bool
        ),
        rows=rows,
    )


def _taxonomy_weights(l1: list[str], l2c: list[str], l3: list[str], rng: np.random.Generator) -> FloatArray:
    """A realistic skew: top-level shares, random second-level shares, Zipf-like third level."""
    n = len(l3)
    l2_keys = sorted(set(l2c))
    l2_share = dict(zip(l2_keys, rng.gamma(1.2, 1.0, size=len(l2_keys)), strict=True))
    raw = np.empty(n)
    for i in range(n):
        boost = 4.0 if l3[i] in COMMON_L3 else (0.4 if l3[i] == "其他" else 1.0)
        raw[i] = boost / (1.0 + rng.integers(0, 6)) ** 0.9
    weight = np.empty(n)
    for key in l2_keys:
        members = np.array([i for i in range(n) if l2c[i] == key])
        weight[members] = raw[members] / raw[members].sum() * l2_share[key]
    for name in sorted(set(l1)):
        members = np.array([i for i in range(n) if l1[i] == name])
        weight[members] = weight[members] / weight[members].sum() * COMPLAINT_L1_WEIGHT.get(name, 1.0)
    return np.asarray(weight / weight.sum(), dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class GridTaxonomy:
    """Minor grid categories (one row per minor) with their major, kind, limit and department."""

    kind: list[str]
    major_code: list[str]
    minor_code: list[str]
    limit: FloatArray
    department: IntArray
    weight: FloatArray
    rows: list[dict[str, Any]]


def build_grid_taxonomy(rng: np.random.Generator) -> GridTaxonomy:
    """Part (GP..) and event (GE..) categories from the digital urban management standard."""
    departments = department_index()
    rows: list[dict[str, Any]] = []
    kind: list[str] = []
    major: list[str] = []
    minor: list[str] = []
    limit: list[float] = []
    department: list[int] = []
    weight: list[float] = []
    counters = {"部件": 0, "事件": 0}
    for kind_name, major_name, major_weight, hours, dept, minors in GRID_CATEGORIES:
        counters[kind_name] += 1
        prefix = "GP" if kind_name == "部件" else "GE"
        major_code = f"{prefix}{counters[kind_name]:02d}"
        rows.append({"code": major_code, "domain": "grid_events", "level": 1, "name": major_name, "parent_code": None})
        shares = 1.0 / (1.0 + rng.permutation(len(minors))) ** 0.8
        shares = shares / shares.sum() * major_weight
        for j, minor_name in enumerate(minors):
            code = f"{major_code}.{j + 1:02d}"
            rows.append(
                {"code": code, "domain": "grid_events", "level": 2, "name": minor_name, "parent_code": major_code}
            )
            kind.append(kind_name)
            major.append(major_code)
            minor.append(code)
            limit.append(4.0 if minor_name.endswith("井盖") else float(hours))
            department.append(departments[GRID_MINOR_DEPARTMENT.get(minor_name, dept)])
            weight.append(float(shares[j]))
    w = np.array(weight)
    return GridTaxonomy(kind, major, minor, np.array(limit), np.array(department, dtype=np.int64), w / w.sum(), rows)
