import ast
from pathlib import Path

import pytest

import streams.core.settings as settings
from streams.core.settings import DedupSettings, InputSettings

CORE = Path(settings.__file__).parent


def test_settings_imports_nothing_of_streams():
    # The bottom of the core's import graph: any core module can import it without a cycle.
    tree = ast.parse(Path(settings.__file__).read_text())
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert not [name for name in imported if name.startswith("streams") or name.startswith(".")], imported


def test_settings_is_the_only_home_of_each_settings_class():
    classes = {"DedupSettings", "FeedSettings", "Limits", "InputSettings", "PipelineSettings"}
    for path in CORE.rglob("*.py"):
        if path.name == "settings.py":
            continue
        defined = {node.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)}
        assert not defined & classes, path


def test_settings_validates_on_construction():
    with pytest.raises(ValueError):
        DedupSettings(max_entries=3)
    with pytest.raises(ValueError):
        InputSettings(ninjs_version="9.9")
