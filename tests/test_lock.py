"""requirements.lock is what `make env` installs: every package pyproject.toml names (its extras
too) must be in it, pinned to one version and hashed, or a fresh clone's environment differs."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")


def test_every_declared_package_is_pinned_with_a_hash_in_the_lock():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for extra in project["optional-dependencies"].values() for r in extra}
    pinned = {}
    for block in re.split(r"\n(?=\S)", (ROOT / "requirements.lock").read_text()):
        if match := re.match(r"([A-Za-z0-9_.-]+)==(\S+)", block):
            pinned[_name(match.group(1))] = ("--hash=sha256:" in block, match.group(2))
    missing = sorted(declared - pinned.keys())
    assert not missing, f"run `make lock`: {missing} are declared but not locked"
    assert all(hashed for hashed, _ in pinned.values())
    assert pinned["torch"][1].endswith("+cpu")  # the CPU wheel, never PyPI's CUDA build
