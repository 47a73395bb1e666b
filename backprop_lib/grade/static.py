"""What a submission's source shows, read by the grader without running it (``ast``).

The sandbox decides every verdict from data, out of the learner's reach. One thing it cannot
see from data is HOW a value was computed: a task that asks the learner to write something
the library has (``references=[...]`` in :func:`backprop_lib.checks._core.task`) must not be
answered by calling the library's own function. The sandboxed worker reports such calls,
but the learner's code runs in that same process and could hide them. So the grader also
reads the source:

* :func:`names_reference`: the task's function (or a notebook function it uses, or the
  statement that defines it) names one of the task's references, under any alias
  (``from backprop_lib.gradcheck import central_difference as cd``);
* :func:`Findings.dynamic_code`: ``exec``/``eval``/``compile`` or building functions from code
  objects: a way to run a copy of the library's source that no reference check can see;
* :func:`Findings.tampering`: tools that can blind the sandbox's own bookkeeping (frame
  introspection, profile/trace/audit hooks, ``gc`` object walks, patching the import system,
  the builtins or the library's modules).

A task with references that its check passes scores 0 when any of these applies (with the
reason); other tasks are graded on their data alone, whatever the notebook does. :func:`bindings` tells which cell
defines or imports a name (for "your cell 2 failed to import it" feedback).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Findings", "analyse", "parse_cells", "names_reference", "bindings", "reachable", "relevant"]

_DYNAMIC_CALLS = {"exec", "eval", "compile", "__import__"}
_DYNAMIC_ATTRS = {("types", "FunctionType"), ("types", "CodeType"), ("types", "LambdaType")}
_TAMPER_CALLS = {
    ("sys", "_getframe"), ("sys", "_current_frames"), ("sys", "addaudithook"), ("sys", "setprofile"),
    ("sys", "getprofile"), ("sys", "settrace"), ("threading", "setprofile"), ("threading", "settrace"),
    ("inspect", "currentframe"),
    ("inspect", "stack"), ("inspect", "getouterframes"), ("inspect", "getinnerframes"), ("inspect", "trace"),
    ("gc", "get_objects"), ("gc", "get_referrers"), ("gc", "get_referents"),
}
_FRAME_ATTRS = {"f_back", "f_locals", "f_globals", "f_builtins", "tb_frame", "gi_frame", "cr_frame", "ag_frame",
                "__code__", "__globals__", "__closure__"}
_PATCHED_MODULES = {"importlib", "builtins", "__builtins__", "sys", "inspect", "gc", "types"}
# The library's own modules are not on this list: the checks run in the grader, so replacing
# ``backprop_lib.checks`` (or numpy) in the sandbox changes nothing but the learner's own results.
# What could blind the sandbox's bookkeeping is: its worker and call machinery, the import system.
_PATCHED_PREFIXES = ("importlib.", "builtins.", "__builtins__.", "backprop_lib.grade", "backprop_lib._calling",
                     "sys.modules", "sys.meta_path",
                     "sys.path_hooks", "sys.path_importer_cache", "sys.settrace", "sys.setprofile",
                     "sys.addaudithook", "sys.audit", "sys._getframe", "inspect.", "gc.", "threading.setprofile",
                     "threading.settrace")


@dataclass
class Cell:
    index: int
    source: str
    tree: ast.Module | None
    error: str | None = None


@dataclass
class Findings:
    cells: list[Cell]
    aliases: dict[str, str] = field(default_factory=dict)        # local name -> "backprop_lib.x.y" (imports)
    functions: dict[str, list[ast.AST]] = field(default_factory=dict)  # notebook-level defs by name
    dynamic_code: list[str] = field(default_factory=list)         # "exec (cell 3)"
    tampering: list[str] = field(default_factory=list)            # "sys._getframe (cell 4)"
    # finding -> the top-level def it is in (None: top-level code)
    owners: dict[tuple[str, int], str | None] = field(default_factory=dict)
    toplevel_names: set[str] = field(default_factory=set)         # names used by top-level statements


def parse_cells(cells: list[dict]) -> list[Cell]:
    """Parse each code cell (IPython magics turned into Python the way Jupyter does, not run)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        transform: Callable[[str], str] = TransformerManager().transform_cell
    except ImportError:  # pragma: no cover
        def transform(src: str) -> str:
            return "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))
    out = []
    for cell in cells:
        source = cell["source"]
        try:
            tree = ast.parse(transform(source))
            out.append(Cell(cell["index"], source, tree))
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            out.append(Cell(cell["index"], source, None, f"{type(exc).__name__}"))
    return out


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def analyse(cells: list[dict]) -> Findings:
    findings = Findings(parse_cells(cells))
    module_alias: dict[str, str] = {}  # local name -> module (import x as y)
    for cell in findings.cells:
        if cell.tree is None:
            continue
        _collect_imports(cell.tree, module_alias, findings)
        for node in cell.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                findings.functions.setdefault(node.name, []).append(node)
        for stmt in cell.tree.body:
            _scan_statement(stmt, f"cell {cell.index}", module_alias, findings)
    return findings


def _collect_imports(tree: ast.AST, module_alias: dict[str, str], findings: Findings) -> None:
    """Record the cell's imports (anywhere in it) in ``module_alias`` and, for backprop_lib, in
    ``findings.aliases``. Importing ctypes alone is not tampering: the sandbox handles crashes."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                local = a.asname or a.name.split(".")[0]
                module_alias[local] = a.name if a.asname else a.name.split(".")[0]
                if a.name.startswith("backprop_lib"):
                    findings.aliases[local] = a.name if a.asname else "backprop_lib"
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                local = a.asname or a.name
                module_alias[local] = f"{node.module}.{a.name}"
                if node.module.startswith("backprop_lib"):
                    findings.aliases[local] = f"{node.module}.{a.name}"


def _scan_statement(stmt: ast.stmt, where: str, module_alias: dict[str, str], findings: Findings) -> None:
    """Scan one top-level statement; its findings are owned by its def/class (None: top level)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        owner: str | None = stmt.name
        findings.toplevel_names |= {n.id for d in stmt.decorator_list for n in ast.walk(d) if isinstance(n, ast.Name)}
    else:
        owner = None
        findings.toplevel_names |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    seen = (len(findings.dynamic_code), len(findings.tampering))
    for node in ast.walk(stmt):
        _scan(node, where, module_alias, findings)
    findings.owners.update({("dynamic", i): owner for i in range(seen[0], len(findings.dynamic_code))})
    findings.owners.update({("tampering", i): owner for i in range(seen[1], len(findings.tampering))})


def reachable(findings: Findings, function: str) -> set[str]:
    """The notebook's functions and classes that can run while ``function`` is checked: those it
    names (transitively), and those the notebook's top-level code names (they may have been
    installed anywhere, e.g. as a replacement for a numpy function)."""
    todo = [function, *(n for n in findings.toplevel_names if n in findings.functions)]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in findings.functions:
            continue
        seen.add(name)
        for node in findings.functions[name]:
            todo.extend(n.split(".")[0] for n in _names_in(node) if n.split(".")[0] in findings.functions)
    return seen


def relevant(findings: Findings, function: str) -> tuple[list[str], list[str]]:
    """``(dynamic_code, tampering)`` findings that can affect a call of ``function``: in the
    notebook's top-level code or in a function reachable from it (:func:`reachable`)."""
    live = reachable(findings, function)

    def keep(kind: str, items: list[str]) -> list[str]:
        return [text for i, text in enumerate(items) if findings.owners.get((kind, i)) in live | {None}]

    return keep("dynamic", findings.dynamic_code), keep("tampering", findings.tampering)


def _resolve(name: str | None, module_alias: dict[str, str]) -> str | None:
    if not name:
        return None
    head, _, rest = name.partition(".")
    full = module_alias.get(head, head)
    return f"{full}.{rest}" if rest else full


def _scan(node: ast.AST, where: str, module_alias: dict[str, str], findings: Findings) -> None:
    if isinstance(node, ast.Call):
        _scan_call(node, where, module_alias, findings)
    elif isinstance(node, ast.Attribute) and node.attr in _FRAME_ATTRS:
        if node.attr == "__code__" and not isinstance(getattr(node, "ctx", None), ast.Store):
            return  # reading f.__code__ alone: see the assignments below
        findings.tampering.append(f".{node.attr} ({where})")
    elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        _scan_assignment(node, where, module_alias, findings)


def _scan_call(node: ast.Call, where: str, module_alias: dict[str, str], findings: Findings) -> None:
    name = _resolve(_dotted(node.func), module_alias)
    if name in _DYNAMIC_CALLS or (name and name.startswith("builtins.") and name[9:] in _DYNAMIC_CALLS):
        findings.dynamic_code.append(f"{name.rsplit('.', 1)[-1]} ({where})")
    elif name and tuple(name.rsplit(".", 1)) in _DYNAMIC_ATTRS:
        findings.dynamic_code.append(f"{name} ({where})")
    elif name and tuple(name.rsplit(".", 1)) in _TAMPER_CALLS:
        findings.tampering.append(f"{name} ({where})")
    elif name in ("setattr", "delattr") and node.args:
        target = _resolve(_dotted(node.args[0]), module_alias)
        if target and (target.split(".")[0] in _PATCHED_MODULES
                       or target.startswith(("backprop_lib.grade", "backprop_lib._calling"))):
            findings.tampering.append(f"{name}({target}, ...) ({where})")


def _scan_assignment(node: ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete, where: str,
                     module_alias: dict[str, str], findings: Findings) -> None:
    """An assignment to (or deletion of) an attribute of a patched module is tampering."""
    targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
    for target_node in targets:
        for t in ast.walk(target_node):
            if isinstance(t, ast.Subscript):
                t = t.value
            if not isinstance(t, ast.Attribute):
                continue
            dotted = _resolve(_dotted(t), module_alias)
            if dotted and dotted.startswith(_PATCHED_PREFIXES):
                findings.tampering.append(f"assigns to {dotted} ({where})")
                return


def _names_in(node: ast.AST) -> set[str]:
    dotted = {_dotted(n) for n in ast.walk(node) if isinstance(n, ast.Attribute)}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {d for d in dotted if d}


def names_reference(findings: Findings, function: str, references: dict[str, str]) -> str | None:
    """The reference (``"backprop_lib.gradcheck.central_difference"``) that the task's function,
    a notebook function it uses, or a top-level statement binding the function's name names;
    None if none does. ``references`` maps full names to themselves or to their short name."""
    targets = set(references)
    short = {name.rsplit(".", 1)[-1]: name for name in targets}

    def resolves(dotted: str) -> str | None:
        head, _, rest = dotted.partition(".")
        full = findings.aliases.get(head)
        if full is None:
            return None
        candidate = f"{full}.{rest}" if rest else full
        if candidate in targets:
            return candidate
        # ``import backprop_lib as bl; bl.gradcheck.central_difference`` or a re-export
        tail = candidate.rsplit(".", 1)[-1]
        if tail in short and candidate.startswith("backprop_lib"):
            return short[tail]
        return None

    seen: set[str] = set()
    todo = [function]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        hit = resolves(name)
        if hit:
            return hit
        for node in _definitions_of(findings, name):
            for used in _names_in(node):
                hit = resolves(used)
                if hit:
                    return hit
                head = used.split(".")[0]
                if head in findings.functions and head not in seen:
                    todo.append(head)
    return None


def _definitions_of(findings: Findings, name: str) -> list[ast.AST]:
    """The notebook's defs of ``name`` and its top-level statements that bind it (``f = cd``)."""
    nodes: list[ast.AST] = list(findings.functions.get(name, []))
    for cell in findings.cells:
        for stmt in cell.tree.body if cell.tree is not None else ():
            if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if any(isinstance(t, ast.Name) and t.id == name for tt in targets for t in ast.walk(tt)):
                    nodes.append(stmt)
    return nodes


def bindings(findings: Findings) -> dict[str, list[tuple[int, str]]]:
    """Top-level names each cell binds: ``name -> [(cell index, "import"|"def"|"assign"), ...]``."""
    out: dict[str, list[tuple[int, str]]] = {}
    for cell in findings.cells:
        if cell.tree is None:
            for m in re.finditer(r"^(?:def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*=", cell.source, re.MULTILINE):
                out.setdefault(m.group(1) or m.group(2), []).append((cell.index, "def"))
            continue
        for stmt in cell.tree.body:
            kind, names = "", []
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                kind = "import"
                names = [a.asname or a.name.split(".")[0] for a in stmt.names if a.name != "*"]
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                kind, names = "def", [stmt.name]
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                kind = "assign"
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                names = [t.id for tt in targets for t in ast.walk(tt) if isinstance(t, ast.Name)]
            for name in names:
                out.setdefault(name, []).append((cell.index, kind))
    return out
