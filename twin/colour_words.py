"""A colouring's words in a language besides English (a layer file's ``[zh-CN.colour_by.<attribute>]``:
its title and its classes' labels), and the colouring (:class:`twin.catalog.ColourBy`) worded with them.
Its own module so that twin.catalog, which reads them into each layer's translations, stays readable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from twin.catalog import ColourBy


class ColourByWords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)  # as every table of a layer file

    title: str
    classes: list[str] = Field(default=[], description="the classes' labels, in the colouring's order")
    other: str | None = None
    missing: str

    def problem(self, colouring: ColourBy | None) -> tuple[str, str] | None:
        """(the field at fault, what is wrong) where these words do not fit ``colouring``, else None."""
        if colouring is None:
            return "", "names no colouring of the layer (style.colour_by's attributes)"
        if self.classes and len(self.classes) != len(colouring.classes):
            return ".classes", f"gives {len(self.classes)} labels for the colouring's {len(colouring.classes)} classes"
        if self.other is not None and colouring.other is None:
            return ".other", "the colouring has no 'other' class"
        return None

    def lacks(self, colouring: ColourBy) -> list[str]:
        """What of ``colouring`` these words leave in English."""
        return ([".classes"] if colouring.classes and not self.classes else []) \
            + ([".other"] if colouring.other is not None and self.other is None else [])

    def worded(self, colouring: ColourBy) -> ColourBy:
        """``colouring`` with these words for its title and labels (English where they give none)."""
        classes = [entry.model_copy(update={"label": label}) for entry, label in zip(colouring.classes, self.classes)]
        other = colouring.other.model_copy(update={"label": self.other}) \
            if colouring.other is not None and self.other else colouring.other
        return colouring.model_copy(update={"title": self.title, "classes": classes or colouring.classes,
                                            "other": other,
                                            "missing": colouring.missing.model_copy(update={"label": self.missing})})
