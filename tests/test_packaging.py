"""The two install descriptions stay in step: every pyproject dependency is in environment.yml."""

from __future__ import annotations

import re
import sys

from support import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_environment_yml_lists_every_pyproject_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + [dep for deps in project["optional-dependencies"].values() for dep in deps]
    names = {re.split(r"[\[<>=;! ]", dep, maxsplit=1)[0].lower() for dep in wanted}
    names -= {"twin", "tomli"}  # the package itself (extras), and a backport for Python 3.10
    listed = set(re.findall(r"^\s*-\s*([A-Za-z0-9_.-]+)", (ROOT / "environment.yml").read_text(), re.MULTILINE))
    assert names <= {name.lower() for name in listed}, names - listed
