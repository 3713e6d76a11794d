"""Fail unless the JUnit report shows tests that really ran (not all skipped, none failed).

pytest exits 0 when every test is skipped; CI must not call that a pass.
Usage: python scripts/check_tests_ran.py test-artifacts/junit.xml
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main(report: Path) -> int:
    if not report.is_file():
        print(f"check_tests_ran: {report} not found: the tests did not run", file=sys.stderr)
        return 1
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = sum(int(suite.get("tests", 0)) for suite in suites)
    skipped = sum(int(suite.get("skipped", 0)) for suite in suites)
    failed = sum(int(suite.get("failures", 0)) + int(suite.get("errors", 0)) for suite in suites)
    ran = total - skipped
    print(f"check_tests_ran: {total} tests, {ran} ran, {skipped} skipped, {failed} failed")
    if ran == 0:
        print("check_tests_ran: no test ran", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "test-artifacts/junit.xml")))
