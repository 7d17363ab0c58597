"""The layers, as a test: which package may import which.

- ``bot.core.models``, ``bot.config`` and ``bot.settings`` are the ground floor: they import
  nothing of ``bot`` (the modules of the ``bot.core.models`` package import each other).
- ``bot.storage`` is the one place that speaks SQL; it imports the values (``bot.core.models``)
  and the config (for the YAML ⇄ database bridge), and nothing else of ``bot``.
- ``bot.core`` never imports a chat platform, the composition root, the table rows or
  SQLAlchemy: the chat contract is ``bot.core.chat``, and storage hands it values. A core
  function may hold a transaction (``bot.storage.db.Tx``) only to pass it to repositories.
- ``bot.adapters`` import the values, the chat contract, the command grammar, settings and the
  text-safety rules (escaping feed text is each renderer's job), never the rest of the core.

No violation is tolerated: the redesign of issue 14 removed the last of them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

GROUND = ("bot.core.models", "bot.config", "bot.settings")
CORE_FORBIDDEN = ("bot.adapters", "bot.app", "bot.storage.tables", "sqlalchemy")
STORAGE_ALLOWED = ("bot.storage", "bot.core.models", "bot.config")
ADAPTER_ALLOWED = (
    "bot.adapters",
    "bot.core.models",
    "bot.core.chat",
    "bot.core.commands.grammar",
    "bot.core.textsafety",
    "bot.settings",
)


@dataclass(frozen=True, slots=True)
class Import:
    importer: str
    imported: str  # the module, or the package a name was taken from
    line: int


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str, root: Path) -> bool:
    base = root.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(root: Path, package: str = "bot") -> Iterator[Import]:
    """Every import of ``bot`` or ``sqlalchemy`` in the package, resolved to a module name."""
    for path in sorted((root / package).rglob("*.py")):
        importer = _module_name(path, root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(importer, alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    target = full if _is_module(full, root) else node.module
                    yield Import(importer, target, node.lineno)


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _layer_rule_broken(importer: str, imported: str) -> bool:
    ours = _within(imported, ("bot", "sqlalchemy"))
    if not ours or _within(imported, (importer,)):
        return False
    if _within(importer, GROUND):
        # A ground package's modules may import each other (bot.core.models.chat → .feeds).
        home = next(p for p in GROUND if _within(importer, (p,)))
        return _within(imported, ("bot",)) and not _within(imported, (home,))
    if _within(importer, ("bot.storage",)):
        return _within(imported, ("bot",)) and not _within(imported, STORAGE_ALLOWED)
    if _within(importer, ("bot.core",)):
        return _within(imported, CORE_FORBIDDEN)
    if _within(importer, ("bot.adapters",)):
        return not _within(imported, ADAPTER_ALLOWED) and _within(imported, ("bot",))
    return False


def _top(imported: str) -> str:
    """``sqlalchemy.orm`` counts as ``sqlalchemy``, a row class as ``bot.storage.tables``."""
    return "sqlalchemy" if _within(imported, ("sqlalchemy",)) else imported


def violations(root: Path) -> set[tuple[str, str]]:
    return {
        (i.importer, _top(i.imported))
        for i in imports_of(root)
        if _layer_rule_broken(i.importer, i.imported)
    }


def test_no_import_breaks_the_layers() -> None:
    new = sorted(violations(ROOT))
    assert not new, "imports that break the layers (see this module's docstring):\n" + "\n".join(
        f"  {a} imports {b}" for a, b in new
    )


def _write(root: Path, module: str, source: str) -> None:
    path = root.joinpath(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(root).parents:
        if parent != Path("."):
            (root / parent / "__init__.py").touch()
    path.write_text(source, encoding="utf-8")


def test_a_forbidden_import_added_to_a_layer_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, "bot.core.models", "from bot.core import chat\n")
    _write(tmp_path, "bot.core.chat", "")
    _write(tmp_path, "bot.core.cards", "from sqlalchemy.orm import Session\n")
    _write(tmp_path, "bot.core.outbox", "from bot.storage.tables import DeliveryRow\n")
    _write(tmp_path, "bot.storage.tables", "")
    _write(tmp_path, "bot.storage.items", "from bot.core.matching import Matcher\n")
    _write(tmp_path, "bot.core.matching", "from bot.adapters.slack import blocks\n")
    _write(tmp_path, "bot.adapters.slack.blocks", "from bot.core.models import StoryCard\n")
    _write(tmp_path, "bot.adapters.discord.embeds", "import bot.core.pipeline\n")
    _write(tmp_path, "bot.core.pipeline", "from bot.storage import items\n")
    assert violations(tmp_path) == {
        ("bot.core.models", "bot.core.chat"),
        ("bot.core.cards", "sqlalchemy"),
        ("bot.core.outbox", "bot.storage.tables"),
        ("bot.storage.items", "bot.core.matching"),
        ("bot.core.matching", "bot.adapters.slack.blocks"),
        ("bot.adapters.discord.embeds", "bot.core.pipeline"),
    }
