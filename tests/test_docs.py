import re

from askbrief.cli import app
from conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_every_command_has_help_and_is_in_the_readme():
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        assert command.callback.__doc__ and "Example:" in command.callback.__doc__, name
        assert f"askbrief {name}" in README, name


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = re.search(r"^make test\b", README, re.M)
    assert test_command and "make test" in ci


def test_the_readme_python_example_runs(tmp_path, monkeypatch):
    example = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    printed = []
    exec(compile(example, "README.md", "exec"), {"print": lambda *a: printed.append(a)})
    (answer, quote), = printed
    assert "Oil rose 3%" in quote and "[1]" in answer
