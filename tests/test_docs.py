import re

from conftest import ROOT

from askbrief.cli import app

README = (ROOT / "README.md").read_text()


def test_every_command_has_help_and_is_in_the_readme():
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        assert command.callback.__doc__ and "Example:" in command.callback.__doc__, name
        assert f"askbrief {name}" in README, name
    for group in app.registered_groups:
        for command in group.typer_instance.registered_commands:
            assert command.callback.__doc__, command.name
            assert f"askbrief {group.name} {command.name}" in README, command.name


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = re.search(r"^make test\b", README, re.M)
    assert test_command and "make test" in ci


def test_the_readme_python_example_runs_and_prints_what_the_readme_says(tmp_path, monkeypatch):
    example = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    said = re.search(r"```python\n.*?```\n\nIt prints:\n\n```\n(.*?)```", README, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    printed = []
    exec(compile(example, "README.md", "exec"), {"print": lambda *a: printed.append(" ".join(map(str, a)))})
    assert printed == said.splitlines()
