"""Where the scripts' figures go: results/<suite>/<run>.json, one folder a suite (eval_qa,
selection, bench, hostile, ...), so a suite's runs sit together and a new run names itself."""

from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"


def results_file(name: str) -> Path:
    """`suite-run.json` (or `suite.json`: the run "main") as results/suite/run.json, its folder made."""
    suite, _, run = name.removesuffix(".json").partition("-")
    out = RESULTS / suite / f"{run or 'main'}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    return out
