"""Every stage of dvc.yaml declares the library code that shapes its outputs.

A module a stage runs but does not declare leaves its outputs stale after a change: ``dvc repro``
sees nothing to do. This follows each stage's imports through the source (function-level
imports included) and checks that every module reached is covered by one of the stage's deps,
unless it is plumbing that moves numbers without changing them (below).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

#: read params, name paths, raise errors, time and meter a stage, load and save portfolios, or
#: dispatch to a stage: none of them computes what a stage writes, so a change to them need not
#: re-run the pipeline.
PLUMBING = {
    "acacia", "acacia.cli", "acacia.params", "acacia.paths", "acacia.errors", "acacia.frugality",
    "acacia.data", "acacia.data.schema", "acacia.data.portfolio", "acacia.data.ids",
}
#: functions of the library's users that no stage calls: the imports inside them are not followed
#: (``Portfolio.from_frames`` infers a schema and types two DataFrames for a notebook user).
USER_ONLY = {("acacia.data.portfolio", "from_frames")}


def module_file(name: str) -> Path | None:
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def imported_modules(name: str) -> set[str]:
    """acacia modules reached from ``name`` through import statements anywhere in the source."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        mod = todo.pop()
        path = module_file(mod)
        if mod in seen or path is None:
            continue
        seen.add(mod)
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in _nodes(ast.parse(path.read_text()), mod):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: up ``level - 1`` packages from this module's own
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                # ``from acacia.models import tabdiff`` may name a submodule or an attribute.
                targets = [base, *(f"{base}.{a.name}" for a in node.names)]
            else:
                continue
            todo += [t for t in targets if t.split(".")[0] == "acacia"]
    return seen


def _nodes(tree: ast.AST, mod: str) -> list[ast.AST]:
    """Every node of a module, less the bodies of its :data:`USER_ONLY` functions."""
    out, todo = [], [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef) and (mod, node.name) in USER_ONLY:
            continue
        out.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return out


#: the stages that load a model by its saved class (acacia.models.<key> and what it imports)
LOADS_THE_MODEL = ("train", "sample")


def stages() -> list[tuple[str, str, list[str], str | None]]:
    """(stage, the acacia stage it runs, its deps, its model) for every stage of dvc.yaml, the
    per-model ones once per model of params.yaml with ``${key}`` filled in."""
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    models = yaml.safe_load((ROOT / "params.yaml").read_text())["train"]["models"]
    out = []
    for name, stage in spec.items():
        body = stage.get("do", stage)
        words = body["cmd"].split()
        assert words[0] == "acacia", f"{name}: expected an 'acacia <stage>' command, got {body['cmd']!r}"
        if stage.get("foreach") == "${train.models}":
            out += [(f"{name}@{m}", words[1], [d.replace("${key}", m) for d in body.get("deps", [])], m)
                    for m in models]
        else:
            out.append((name, words[1], list(body.get("deps", [])), None))
    return out


@pytest.mark.parametrize(("stage", "command", "deps", "model"), stages(), ids=[s[0] for s in stages()])
def test_stage_declares_the_code_it_runs(stage, command, deps, model):
    covered = [ROOT / d for d in deps]
    reached = imported_modules(f"acacia.stages.{command}")
    if model is not None and command in LOADS_THE_MODEL:
        reached |= imported_modules(f"acacia.models.{model}")
    missing = []
    for mod in sorted(reached):
        if mod in PLUMBING or mod.startswith("acacia.stages"):
            continue
        path = module_file(mod)
        if not any(path == c or c in path.parents for c in covered):
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"dvc.yaml stage '{stage}' runs code it does not list in deps: {missing}"


def test_no_model_file_imports_another_model():
    # What lets a model's stages depend on its own file alone: shared code lives in blocks.
    models = yaml.safe_load((ROOT / "params.yaml").read_text())["train"]["models"]
    for m in models:
        others = {f"acacia.models.{o}" for o in models if o != m}
        assert not imported_modules(f"acacia.models.{m}") & others, m


def test_the_import_walk_sees_function_level_imports():
    # The train stage reaches the shared loop only through the models; the usecase stage reaches
    # its figures through an import inside a function.
    assert "acacia.training.loop" in imported_modules("acacia.stages.train")
    assert "acacia.usecases.figures" in imported_modules("acacia.stages.usecase")


def test_checkpoint_stamp_hashes_the_train_stages_code_deps():
    # The train stage discards a checkpoint written by other code (stages/train.py); the code it
    # hashes for that must be the code dvc.yaml reruns the stage for.
    from acacia.stages.train import training_code

    for stage, _, deps, model in stages():
        if stage.startswith("train@"):
            code = {d.removeprefix("src/acacia/") for d in deps if d.startswith("src/acacia/")}
            assert code == set(training_code(model)), stage
