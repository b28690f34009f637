"""Builds the dedup core's hot modules into C extensions with mypyc (bench/README.md "Round 4").

Everything else is in pyproject.toml; this file only adds `ext_modules`. mypyc compiles the
typed modules as they are: the `.py` files stay beside the extensions and are what runs when no
extension is there, so the package never needs a compiler at import time.

NEWSCLEAN_COMPILE: "auto" (the default) compiles when a C compiler and the Python headers are
present and installs the pure-Python modules otherwise; "1" requires the compilation (the
Docker image installs gcc for it); "0" skips it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import sysconfig
from pathlib import Path

from setuptools import setup

# the exact path's hot modules (`bench/bench_dedup.py`), compiled together so that their calls
# to one another are C calls; modules outside this list stay interpreted
COMPILED = [
    "streams/core/boilerplate.py",
    "streams/core/dedup.py",
    "streams/core/edits.py",
    "streams/core/evidence.py",
    "streams/core/fingerprint.py",
    "streams/core/normalise.py",
    "streams/core/repeats.py",
    "streams/core/source_table.py",
    "streams/core/templates.py",
]


def _can_compile() -> bool:
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")[:1]
    headers = Path(sysconfig.get_paths()["include"], "Python.h")
    return bool(compiler) and shutil.which(compiler[0]) is not None and headers.exists()


def _extensions() -> list:
    mode = os.environ.get("NEWSCLEAN_COMPILE", "auto").strip().lower()
    if mode in ("0", "no", "false", "off"):
        return []
    if mode == "auto" and not _can_compile():
        print("newsclean: no C compiler or Python headers: installing the pure-Python core", file=sys.stderr)
        return []
    from mypyc.build import mypycify

    # the modules they import but that stay interpreted are type-checked only for what the
    # compiled ones use of them. The shared library (newsclean_core__mypyc) is a top-level
    # module, as mypyc lays it out: each streams/core/<module> extension is a shim that loads it.
    return mypycify(["--follow-imports=silent", *COMPILED], group_name="newsclean_core")


setup(ext_modules=_extensions())
