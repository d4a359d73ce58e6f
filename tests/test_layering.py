"""The house rules, read from the source: which way imports run, and what presentation code may not do.

* ``dashboard/`` and ``pages/`` (presentation) run no SQL: no SQLAlchemy import outside type hints, no
  ``execute``/``connect``/``begin`` calls, and none of the data layer's readers that bypass the data
  session (``run_metrics``, ``fetch_details``, ...): every read goes through ``DataSession``.
* ``data_access/`` never imports ``dashboard/`` (the data layer works without the presentation).
* No module imports another module's private (``_underscore``) names, by ``from m import _x`` or as
  ``m._x`` on an imported project module.
* Modules stay small (about 400 lines), so a newcomer can read one in a sitting; a function over about
  60 lines says why, in a comment right above it.

Each rule is also run on a literal snippet that breaks it, so the test itself can fail.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROJECT = ("dashboard", "data_access", "pages", "bench")
PRESENTATION = ("dashboard", "pages")
# Readers of the data layer that take an engine and so skip the session's scope, audit and cache.
SESSIONLESS_READERS = frozenset(
    {
        "run_metrics",
        "fetch_details",
        "histogram",
        "compute_alerts",
        "code_names",
        "region_names",
        "data_as_of",
        "latest_record_times",
        "target_rows",
        "category_choices",
        "category_tree",
        "service_item_names",
        "grid_centres",
        "table_counts",
        "search",
    }
)
SQL_CALLS = frozenset({"execute", "exec_driver_sql", "connect", "begin", "scalar", "scalars"})
MAX_LINES = 400
SLACK = 1.1  # "about 400": a module may run a tenth over before it must be split
MAX_FUNCTION_LINES = 70  # "about 60"; longer needs a reason in a comment right above the def


def sources(*folders: str) -> list[Path]:
    found = [path for folder in folders for path in sorted((REPO / folder).rglob("*.py"))]
    if "pages" in folders:
        found.append(REPO / "streamlit_app.py")
    return found


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks (imports for annotations only)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            inside.update(id(child) for statement in node.body for child in ast.walk(statement))
    return inside


def presentation_problems(path: str, text: str) -> Iterator[str]:
    """What a presentation module does that only the data layer may: SQL, or reading around the session."""
    tree = ast.parse(text)
    annotations_only = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in annotations_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sqlalchemy":
                    yield f"{path}:{node.lineno} imports sqlalchemy"
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] == "sqlalchemy":
                yield f"{path}:{node.lineno} imports from sqlalchemy"
            if node.module.startswith("data_access"):
                for alias in node.names:
                    if alias.name in SESSIONLESS_READERS:
                        yield f"{path}:{node.lineno} imports {alias.name} from {node.module} (read through the session)"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
            owner = ast.unparse(node.func.value)
            if not owner.startswith(("st.", "st", "self.data", "ctx.data")):
                yield f"{path}:{node.lineno} calls {owner}.{node.func.attr}(...)"


def _project_module(name: str) -> bool:
    return name.split(".")[0] in PROJECT


def private_import_problems(path: str, text: str) -> Iterator[str]:
    """``from project.module import _private`` and ``module._private`` on an imported project module."""
    tree = ast.parse(text)
    imported_modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and _project_module(node.module):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    yield f"{path}:{node.lineno} imports {node.module}.{alias.name}"
                imported_modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _project_module(alias.name):
                    imported_modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in imported_modules
        ):
            yield f"{path}:{node.lineno} uses {node.value.id}.{node.attr}"


def upward_imports(path: str, text: str) -> Iterator[str]:
    """An import of ``dashboard`` (presentation) from the data layer."""
    for node in ast.walk(ast.parse(text)):
        names = (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
        for name in names:
            if name.split(".")[0] in ("dashboard", "pages"):
                yield f"{path}:{node.lineno} imports {name}"


def _relative(path: Path) -> str:
    return str(path.relative_to(REPO))


def test_presentation_runs_no_sql_and_reads_only_through_the_session() -> None:
    checked = sources(*PRESENTATION)
    assert len(checked) > 40, "the walk over dashboard/ and pages/ found too few modules"
    found = [problem for path in checked for problem in presentation_problems(_relative(path), path.read_text())]
    assert found == []


def test_the_data_layer_never_imports_the_presentation() -> None:
    checked = sources("data_access")
    assert len(checked) > 40
    assert [problem for path in checked for problem in upward_imports(_relative(path), path.read_text())] == []


def test_no_module_imports_another_modules_private_names() -> None:
    checked = sources(*PROJECT)
    assert len(checked) > 80
    found = [problem for path in checked for problem in private_import_problems(_relative(path), path.read_text())]
    assert found == []


def test_modules_stay_small() -> None:
    checked = sources(*PROJECT)
    sizes = {_relative(path): len(path.read_text().splitlines()) for path in checked}
    assert [f"{path}: {lines} lines" for path, lines in sizes.items() if lines > MAX_LINES * SLACK] == []


def long_function_problems(path: str, text: str) -> Iterator[str]:
    """Functions over ``MAX_FUNCTION_LINES`` without a comment right above them (or their decorators)."""
    lines = text.splitlines()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
            reason = first >= 2 and lines[first - 2].strip().startswith("#")
            if length > MAX_FUNCTION_LINES and not reason:
                yield f"{path}:{node.lineno} {node.name} is {length} lines with no reason above it"


def test_long_functions_say_why() -> None:
    checked = sources(*PROJECT)
    found = [problem for path in checked for problem in long_function_problems(_relative(path), path.read_text())]
    assert found == []


@pytest.mark.parametrize(
    ("rule", "snippet"),
    [
        (presentation_problems, "import sqlalchemy as sa\n"),
        (presentation_problems, "from sqlalchemy import select\n"),
        (presentation_problems, "with engine.connect() as c:\n    c.execute(q)\n"),
        (presentation_problems, "from data_access.semantic.metrics import run_metrics\n"),
        (private_import_problems, "from data_access.semantic.compiler import _MetricCompiler\n"),
        (private_import_problems, "from data_access.semantic import compiler\ncompiler._ordering(x)\n"),
        (upward_imports, "from dashboard.core.i18n import t\n"),
        (long_function_problems, "def f() -> None:\n" + "    x = 1\n" * MAX_FUNCTION_LINES),
    ],
)
def test_each_rule_finds_what_it_forbids(rule: object, snippet: str) -> None:
    assert list(rule("snippet.py", snippet))  # type: ignore[operator]


def test_annotations_only_imports_are_allowed() -> None:
    snippet = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import sqlalchemy as sa\n"
    assert list(presentation_problems("snippet.py", snippet)) == []
