"""Eco-city generation and import times, at scale 1 and 10 (targets at scale 1 on a 2-core machine:
generate under 60 s, import under 60 s).

Usage: .venv/bin/python scripts/bench_ecocity.py [--scales 1 10]
Each scale is generated into a temporary folder and imported, through the importers, into a fresh
database on twin's own server (`twin db up` first).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

BENCH_DB = "twin_bench_ecocity"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    args = parser.parse_args()
    twin = [sys.executable, "-m", "twin"]
    url = subprocess.run([*twin, "db", "url"], check=True, capture_output=True, text=True).stdout.strip()
    admin, bench = url.rsplit("/", 1)[0] + "/postgres", url.rsplit("/", 1)[0] + f"/{BENCH_DB}"
    rows = []
    for scale in args.scales:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
        with tempfile.TemporaryDirectory() as folder:
            home = Path(folder)
            env = dict(os.environ, TWIN_DATABASE_URL=bench, TWIN_HOME=str(home))
            started = time.perf_counter()
            subprocess.run([*twin, "generate", "ecocity", "--out", str(home / "ecocity"), "--scale", str(scale)],
                           check=True, env=env, capture_output=True)
            generated = time.perf_counter() - started
            subprocess.run([*twin, "db", "migrate"], check=True, env=env, capture_output=True)
            started = time.perf_counter()
            subprocess.run([*twin, "demo", "--no-serve", "--scale", str(scale)], check=True, env=env,
                           capture_output=True)
            imported = time.perf_counter() - started
        with psycopg.connect(bench) as conn:
            buildings = conn.execute("SELECT count(*) FROM layers.buildings").fetchone()[0]
            features = conn.execute("SELECT sum(imported) FROM twin.imports").fetchone()[0]
        rows.append((scale, buildings, features, generated, imported))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    print("\n| scale | buildings | features | generate s | import s | target (scale 1) |")
    print("|---:|---:|---:|---:|---:|---|")
    for scale, buildings, features, generated, imported in rows:
        target = ("met" if generated < 60 and imported < 60 else "missed") if scale == 1 else ""
        print(f"| {scale:g} | {buildings:,} | {features:,} | {generated:.1f} | {imported:.1f} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
