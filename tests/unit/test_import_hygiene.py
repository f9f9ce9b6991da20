"""Where the project's kinds of classes live: ports and errors only in the domain. (That light modules import nothing
heavy is checked in a fresh interpreter: tests/integration/test_import_cost.py.)"""

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO_ROOT


def _classes(folder: Path) -> Iterator[tuple[Path, ast.ClassDef]]:
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                yield path, node


def _bases(node: ast.ClassDef) -> set[str]:
    return {base.id if isinstance(base, ast.Name) else ast.unparse(base) for base in node.bases}


def test_ports_and_errors_live_in_the_domain() -> None:
    """Use cases define no ports, and no layer but the domain defines the project's errors."""
    package = REPO_ROOT / "llm_engineering"
    ports = [f"{path}:{node.name}" for path, node in _classes(package / "application") if "Protocol" in _bases(node)]
    assert ports == []
    errors = [
        f"{path}:{node.name}"
        for layer in ("application", "infrastructure", "model")
        for path, node in _classes(package / layer)
        if any(base.endswith(("Error", "Exception")) for base in _bases(node))
    ]
    assert errors == []
