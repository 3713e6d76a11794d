"""What ``twin import`` says when it is done: a summary a layer (a snapshot's changes among it), and notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


@dataclass
class ImportSummary:
    layer: str
    source: str
    format: str
    imported: int
    rejected: int
    seconds: float
    rejects_csv: Path | None = None
    notes: list[str] = field(default_factory=list)
    raster: bool = False
    repaired: int = 0  # invalid geometries made valid (--make-valid), among the imported
    import_id: int | None = None  # what ``twin import --undo`` takes
    as_of: date | None = None  # a snapshot's date
    changes: dict[str, int] | None = None  # a snapshot's counts (importers.snapshot)
    tolerance_m: float | None = None  # a snapshot matched by footprint: within how many metres

    def __str__(self) -> str:
        if self.raster:
            line = f"{self.layer} <- {self.source} ({self.format}): raster registered in {self.seconds:.1f} s"
        else:
            rate = f", {self.imported / self.seconds:,.0f} features/s" if self.seconds > 0 and self.imported else ""
            repaired = f" ({self.repaired:,} repaired)" if self.repaired else ""
            line = (f"{self.layer} <- {self.source} ({self.format}): {self.imported:,} imported{repaired}, "
                    f"{self.rejected:,} rejected in {self.seconds:.1f} s{rate}")
            if self.import_id is not None:
                line += f" (import {self.import_id})"
        if self.changes is not None:
            line += "\n" + self._changes_line()
        if self.rejects_csv:
            line += f"\nrejected rows and reasons: {self.rejects_csv}"
        return "\n".join([line, *(f"note: {note}" for note in self.notes)])

    def _changes_line(self) -> str:
        changes = self.changes or {}
        counts = ", ".join(f"{changes.get(kind, 0):,} {word}" for kind, word in (
            ("new", "new"), ("altered", "altered"), ("vanished", "vanished"), ("back", "back"),
            ("unchanged", "unchanged")) if kind != "back" or changes.get(kind))
        line = f"snapshot as of {self.as_of}: {counts}"
        if "rejected_kept" in changes:
            line += f"; rejected rows left their features as they were: {changes['rejected_kept']:,}"
        if "matched_by_footprint" in changes:
            line += (f"; the source has no ids: {changes['matched_by_footprint']:,} rows matched by footprint "
                     f"(within {self.tolerance_m:g} m)")
        return line


@dataclass
class ImportReport:
    """What one ``twin import`` did: a summary a layer, and notes about the command as a whole."""

    summaries: list[ImportSummary]
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join([*(str(summary) for summary in self.summaries), *(f"note: {note}" for note in self.notes)])
