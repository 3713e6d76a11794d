"""The two install descriptions stay in step: every pyproject dependency is in environment.yml."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support import ROOT

pytestmark = pytest.mark.fast

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


def test_the_wheel_carries_everything_twin_reads_at_run_time(tmp_path: Path) -> None:
    """A city installs twin from a wheel, with no checkout beside it: the layer catalog, the analyses'
    SQL and clearance table, the alias table and the migrations' template must be inside it."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "--quiet",
                    "--wheel-dir", str(tmp_path)], check=True, cwd=tmp_path)
    names = set(zipfile.ZipFile(next(tmp_path.glob("twin-*.whl"))).namelist())
    catalog = {f"twin/_layers/{path.relative_to(ROOT / 'layers')}" for path in (ROOT / "layers").rglob("*.toml")}
    read = {str(path.relative_to(ROOT)) for package in ("twin", "importers", "viewer")
            for path in (ROOT / package).rglob("*") if path.suffix in (".sql", ".toml", ".mako")}
    assert "twin/analyses/gb50289.toml" in read and "twin/_layers/buildings.toml" in catalog
    assert catalog | read <= names, sorted((catalog | read) - names)
