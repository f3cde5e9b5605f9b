"""The import layers point one way: every module's imports (top-level and inside functions), read with `ast`.

core ← adapters ← runtime ← verbs ← run.py; models and calibration sit beside the installation and may use its
core; bridges are separate processes. The pure core imports nothing above it, and no device, network or
inference library.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("installation", "models", "calibration")

# package prefix → prefixes its modules must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "installation.core": (
        "installation.adapters",
        "installation.runtime",
        "installation.verbs",
        "installation.bridges",
        "models",
        "calibration",
        "pygame",
        "socket",
        "onnxruntime",
        "torch",
    ),
    "installation.adapters": ("installation.runtime", "installation.verbs"),
    "installation.runtime": ("installation.verbs",),
    "installation.bridges": ("installation.runtime", "installation.verbs"),
    "models": ("installation.runtime", "installation.verbs", "installation.adapters", "installation.bridges"),
    "calibration": ("installation.runtime", "installation.verbs"),
}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import in `source`; relative imports resolved against `module`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: -node.level] if node.level else []
                base = ".".join([*anchor, *([base] if base else [])])
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names]  # `from pkg import module`
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(root: Path = ROOT, rules: dict[str, tuple[str, ...]] = FORBIDDEN) -> list[str]:
    out = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            module = module_name(path, root)
            banned = [b for layer, bs in rules.items() if _under(module, layer) for b in bs]
            seen: set[int] = set()  # one finding per import statement
            for line, name in imports(path.read_text(encoding="utf-8"), module):
                bad = next((b for b in banned if _under(name, b)), None)
                if bad and line not in seen:
                    seen.add(line)
                    out.append(f"{path.relative_to(root)}:{line}: {module} imports {name} (above it: {bad})")
    return sorted(out)


def test_no_import_goes_upward() -> None:
    found = violations()
    assert not found, "imports against the layers:\n" + "\n".join(found)


def test_every_layer_is_scanned() -> None:
    """The rules name real packages, and the scan reads a module in each (a renamed layer cannot go unchecked)."""
    for layer in FORBIDDEN:
        assert (ROOT / layer.replace(".", "/")).is_dir(), f"{layer} is not a package any more: update FORBIDDEN"
        assert list((ROOT / layer.replace(".", "/")).rglob("*.py"))


@pytest.mark.parametrize(
    ("module", "source", "caught"),
    [
        ("installation.core.x", "import pygame\n", "pygame"),
        ("installation.core.x", "def f():\n    from models.data import build\n", "models.data"),
        ("installation.adapters.x", "from installation.runtime.show import Show\n", "installation.runtime.show"),
        ("installation.runtime.x", "from installation import verbs\n", "installation.verbs"),
        ("installation.runtime.show.x", "from ...verbs import demo\n", "installation.verbs"),
        ("models.x", "from installation.runtime.inference import open_model\n", "installation.runtime.inference"),
    ],
)
def test_an_upward_import_is_caught(tmp_path: Path, module: str, source: str, caught: str) -> None:
    path = tmp_path / (module.replace(".", "/") + ".py")
    path.parent.mkdir(parents=True)
    path.write_text(source)
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
    found = violations(tmp_path)
    assert len(found) == 1 and caught in found[0], found


def test_a_downward_import_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "installation" / "runtime" / "x.py"
    path.parent.mkdir(parents=True)
    path.write_text("from installation.core.session import PenEvent\nfrom installation.adapters import display\n")
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
    assert violations(tmp_path) == []
