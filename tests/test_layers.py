"""The house's limits on the package's shape, checked on every run: the layer contract of
pyproject.toml (import-linter: stages import only downward, no circles between the modules of a
package), modules of at most 300 lines and functions of at most 60 (the package, scripts/ and the
tests alike), and an engine of at most 250 lines (a facade that only calls the stages)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "askbrief"
MAX_MODULE_LINES = 300
MAX_ENGINE_LINES = 250
MAX_FUNCTION_LINES = 60
STAGES = ("text", "encoders", "ingest", "index", "retrieve", "answer", "explain", "summary", "fetch", "serve", "cli")


def lint_imports(config: Path | None = None) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    if config:
        command += ["--config", str(config)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_layer_contract_holds():
    run = lint_imports()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Stages import only downward KEPT" in run.stdout
    assert "No import circles between the modules of a package KEPT" in run.stdout


def test_the_layer_contract_catches_an_upward_import(tmp_path):
    """The contract is not vacuous: a copy of the package in which the reader imports the
    explanations (a stage reaching up) breaks it, and the report names the import."""
    copy = tmp_path / "src"
    subprocess.run(["cp", "-r", str(PACKAGE.parent), str(copy)], check=True)
    reader = copy / "askbrief" / "answer" / "features.py"
    reader.write_text(reader.read_text() + "\nfrom askbrief.explain.answer import explain_answer  # noqa\n")
    config = tmp_path / "contract.toml"
    config.write_text((ROOT / "pyproject.toml").read_text())
    run = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache", "--config", str(config)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})
    assert run.returncode != 0
    assert "askbrief.answer.features -> askbrief.explain.answer" in run.stdout


def test_the_pipeline_is_in_the_folder_list():
    assert all((PACKAGE / stage / "__init__.py").exists() for stage in STAGES)
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "citations.py", "engine.py", "errors.py", "limits.py", "settings.py"]


def test_modules_and_functions_stay_small():
    too_long = []
    for path in sorted(p for folder in (PACKAGE, ROOT / "scripts", ROOT / "tests") for p in folder.rglob("*.py")):
        text, name = path.read_text(), str(path.relative_to(ROOT))
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        too_long += [f"{name}: {node.name}() {node.end_lineno - node.lineno + 1} lines" for node in ast.walk(ast.parse(text))
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not too_long, f"over {MAX_MODULE_LINES} lines a module or {MAX_FUNCTION_LINES} a function: {too_long}"
    engine = len((PACKAGE / "engine.py").read_text().splitlines())
    assert engine <= MAX_ENGINE_LINES, f"engine.py: {engine} lines, over {MAX_ENGINE_LINES}"
