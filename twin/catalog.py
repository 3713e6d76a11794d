"""The layer catalog: one TOML file per layer in ``layers/``, read into :class:`Layer` objects.

A layer is data. Its file says what the layer is (id, title, group, geometry kind, attributes, whether it
changes over time) and how it is drawn in 3D, in English, and its words in each other language of
:mod:`twin.i18n` in a table named by the language (``[zh-CN]``: title, description, the attributes'
titles, the coded values', the classes' and the colourings' words (:mod:`twin.colour_words`); what it
leaves out reads in English); the store makes its table from that, the viewer its panel entry and mesh,
the service its collection. A malformed file raises :class:`CatalogError` naming the file and the field.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from twin import i18n
from twin.colour_words import ColourByWords
from twin.errors import CatalogError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# The groups a layer may belong to, in panel order (their titles: the messages' ``groups``).
GROUPS = ("base", "buildings", "underground", "smart", "emergency")

# Columns every vector layer has; attribute names may not shadow them.
FEATURE_COLUMNS = ("id", "source", "source_id", "version", "import_id", "name", "valid_from", "valid_to", "geom")

GeometryKind = Literal["point", "line", "polygon", "raster"]
DrawMode = Literal["extrude", "solid", "tube", "box", "glyph", "drape"]
AttributeType = Literal["text", "integer", "real", "date", "boolean", "json", "solid"]
Symbol = Literal["sphere", "cone", "cube", "cylinder", "pole", "diamond", "pin"]

TEMPLATES_DIR = "templates"

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class _FieldProblem(ValueError):
    """A fault found by a check across fields, pinned on the field a person should fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class _Strict(BaseModel):
    # A misspelt key is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_colour(value: str) -> str:
    if not _COLOUR.match(value):
        raise ValueError(f"expected a colour like '#87ceeb', got '{value}'")
    return value.lower()


Colour = Annotated[str, AfterValidator(_check_colour)]


class Attribute(_Strict):
    type: AttributeType
    title: str | None = None
    unit: str | None = None
    required: bool = False
    values: list[str] | None = Field(default=None, description="the allowed values of a coded attribute")


class StyleClass(_Strict):
    value: int | str
    label: str
    color: Colour


class Swatch(_Strict):
    label: str
    color: Colour


class ValueClass(Swatch):
    values: list[str] = Field(min_length=1, description="the attribute's values this class gathers")


class ColourBy(_Strict):
    """A colouring of the features by one of their attributes, offered by the viewer beside the plain colour:
    coded values by ``classes``, numbers (years) by a ``ramp`` over equal shares of the features."""

    attribute: str
    title: str
    classes: list[ValueClass] = []
    ramp: list[Colour] = Field(default=[], description="from the lowest values to the highest")
    other: Swatch | None = Field(default=None, description="classes: a value no class names")
    missing: Swatch = Field(description="features without a value (a real city's data often has none)")

    @model_validator(mode="after")
    def _classes_or_ramp(self) -> ColourBy:
        if bool(self.classes) == bool(self.ramp):
            raise ValueError(f"colouring by '{self.attribute}' needs either classes or a ramp of at least two colours")
        if self.ramp and len(self.ramp) < 2:
            raise ValueError(f"colouring by '{self.attribute}': a ramp needs at least two colours")
        return self


class Style(_Strict):
    color: Colour
    opacity: float = Field(default=1.0, ge=0.0, le=1.0)
    specular: float = Field(default=0.0, ge=0.0, le=1.0, description="how much the surface shines (water)")
    classes: list[StyleClass] = []
    colour_by: list[ColourBy] = []


class Translation(_Strict):
    """A layer's words in one language besides English: what a layer file's ``[zh-CN]`` table holds."""

    title: str | None = None  # a template's table has none; tests/test_catalog.py asks every layer's
    description: str = ""
    attributes: dict[str, str] = Field(default={}, description="attribute name -> its title")
    values: dict[str, dict[str, str]] = Field(default={}, description="coded attribute -> {value: its words}")
    classes: dict[str, str] = Field(default={}, description="a style class's value, as text -> its label")
    colour_by: dict[str, ColourByWords] = Field(default={}, description="a colouring's attribute -> its words")


class Draw(_Strict):
    """How the layer becomes 3D; the attribute-valued fields name columns of the layer."""

    mode: DrawMode
    height: str | None = Field(default=None, description="extrude: attribute with the height in metres")
    floors: str | None = Field(default=None, description="extrude: attribute with the number of floors")
    storey_height: float = Field(default=3.0, gt=0, description="extrude: metres per floor")
    base: str | None = Field(default=None, description="extrude: attribute with the height of the ground it stands "
                                                       "on, in metres (else the DEM's)")
    solid: str | None = Field(default=None, description="solid: attribute with the 3D surfaces")
    diameter: str | None = Field(default=None, description="tube: attribute with the diameter in mm")
    section_size: str | None = Field(default=None, description="tube: attribute with the size in mm where the "
                                                               "diameter is unknown (a duct's section height)")
    width: str | None = Field(default=None, description="box, drape: attribute with the width in metres")
    section_height: str | None = Field(default=None, description="box: attribute with the height in metres")
    symbol: Symbol | None = Field(default=None, description="glyph: the shape drawn at each point")
    size: float | None = Field(default=None, gt=0, description="glyph: size in metres")
    offset: float = Field(default=0.0, description="metres above (or below, negative) the ground")
    texture: Literal["classes", "rgb"] | None = Field(
        default=None, description="raster: what it dresses the ground in: 'classes' (one band of class values, "
        "coloured as style.classes says), 'rgb' (an orthophoto's own 8-bit red, green, blue (and alpha) bands); "
        "unset: it dresses nothing (a DEM is the ground itself)")

    @model_validator(mode="after")
    def _mode_needs(self) -> Draw:
        needs = {
            "extrude": ("height", "floors"),
            "solid": ("solid",),
            "tube": ("diameter",),
            "box": ("width",),
            "glyph": ("symbol",),
        }.get(self.mode, ())
        if needs and not any(getattr(self, name) for name in needs):
            raise ValueError(f"mode '{self.mode}' needs one of: {', '.join(needs)}")
        return self

    def referenced_attributes(self) -> dict[str, str]:
        """Field name -> attribute name, for every field that names an attribute."""
        names = ("height", "floors", "base", "solid", "diameter", "section_size", "width", "section_height")
        return {name: getattr(self, name) for name in names if getattr(self, name)}


class Layer(_Strict):
    id: str
    title: str
    group: Literal["base", "buildings", "underground", "smart", "emergency"]
    description: str = ""
    geometry: GeometryKind
    z: bool = Field(default=False, description="the geometry has heights (pipes at depth, 3D solids)")
    time_varying: bool = False
    caption: bool = Field(default=False, description="the year's caption counts its features (extruded layers "
                                                     "and underground lines are always in it)")
    depth_to: Literal["top", "invert", "centre"] = Field(
        default="top",
        description="what a depth attribute measures down to (CJJ 61: pressure pipes to their top, drainage to "
        "its invert; 'centre': to the stored line itself); the stored geometry is the pipe's centre line",
    )
    order: int = Field(default=100, description="place within its group in the panel")
    draw: Draw
    style: Style
    attributes: dict[str, Attribute] = {}
    translations: dict[str, Translation] = Field(default={}, description="language -> the layer's words in it; "
                                                 "a file writes each as a table named by its language")

    @model_validator(mode="before")
    @classmethod
    def _language_tables(cls, data: object) -> object:
        """``[zh-CN]`` tables into ``translations`` (a key that is no language stays, to be refused)."""
        if isinstance(data, dict):
            data = dict(data)
            found = {language: data.pop(language) for language in i18n.LANGUAGES
                     if language != i18n.DEFAULT and language in data}
            if found:
                data["translations"] = found
        return data

    @field_validator("id")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError("must be lower case letters, digits and _, starting with a letter")
        return value

    @field_validator("attributes")
    @classmethod
    def _attribute_names(cls, value: dict[str, Attribute]) -> dict[str, Attribute]:
        for name in value:
            if not _IDENTIFIER.match(name):
                raise ValueError(f"attribute '{name}' must be lower case letters, digits and _")
            if name in FEATURE_COLUMNS:
                raise ValueError(f"attribute '{name}' is a column every layer has already")
        return value

    @model_validator(mode="after")
    def _draw_refers_to_attributes(self) -> Layer:
        for field, name in self.draw.referenced_attributes().items():
            if name not in self.attributes:
                raise _FieldProblem(f"draw.{field}", f"names attribute '{name}', which the layer does not declare")
        if self.geometry == "raster" and self.attributes:
            raise _FieldProblem("attributes", "a raster layer has no attribute table; remove [attributes]")
        for index, colouring in enumerate(self.style.colour_by):
            if colouring.attribute not in self.attributes:
                raise _FieldProblem(f"style.colour_by.{index}.attribute",
                                    f"names attribute '{colouring.attribute}', which the layer does not declare")
        if self.draw.texture and self.geometry != "raster":
            raise _FieldProblem("draw.texture", "only a raster layer dresses the ground; remove it")
        return self

    @model_validator(mode="after")
    def _translations_name_what_exists(self) -> Layer:
        classes = {str(entry.value) for entry in self.style.classes}
        for language, words in self.translations.items():
            for name in {*words.attributes, *words.values} - set(self.attributes):
                raise _FieldProblem(f"{language}.attributes", f"names attribute '{name}', which the layer does "
                                                              "not declare")
            for name, labels in words.values.items():
                for value in set(labels) - set(self.attributes[name].values or ()):
                    raise _FieldProblem(f"{language}.values.{name}", f"'{value}' is not one of the attribute's values")
            for value in set(words.classes) - classes:
                raise _FieldProblem(f"{language}.classes", f"'{value}' is not the value of a style class")
            for attribute, said in words.colour_by.items():
                problem = said.problem(next((c for c in self.style.colour_by if c.attribute == attribute), None))
                if problem is not None:
                    raise _FieldProblem(f"{language}.colour_by.{attribute}{problem[0]}", problem[1])
        return self

    @property
    def is_raster(self) -> bool:
        return self.geometry == "raster"

    def group_title(self, language: str = i18n.DEFAULT) -> str:
        return i18n.text(f"groups.{self.group}", language)

    def title_in(self, language: str) -> str:
        words = self.translations.get(language)
        return (words.title if words else None) or self.title

    def description_in(self, language: str) -> str:
        words = self.translations.get(language)
        return words.description if words and words.description else self.description

    def attribute_title(self, name: str, language: str) -> str | None:
        words = self.translations.get(language)
        return (words.attributes.get(name) if words else None) or self.attributes[name].title

    def value_words(self, name: str, value: str, language: str) -> str:
        """A coded attribute's value as a person reads it: ``in_service``, "in service", "在用"."""
        words = self.translations.get(language)
        return (words.values.get(name, {}).get(value) if words else None) or value.replace("_", " ")

    def class_label(self, entry: StyleClass, language: str) -> str:
        words = self.translations.get(language)
        return (words.classes.get(str(entry.value)) if words else None) or entry.label

    def colour_by_in(self, language: str) -> list[ColourBy]:
        """The layer's colourings with their title and labels in ``language`` (English where it has none)."""
        words = self.translations[language].colour_by if language in self.translations else {}
        return [words[c.attribute].worded(c) if c.attribute in words else c for c in self.style.colour_by]

    def untranslated(self, language: str) -> list[str]:
        """What the layer's file leaves in English in ``language``: the fields of its table it lacks."""
        words = self.translations.get(language)
        if words is None:
            return [language]
        missing = ["title"] if not words.title else []
        missing += ["description"] if self.description and not words.description else []
        missing += [f"attributes.{name}" for name, attribute in self.attributes.items()
                    if attribute.title and name not in words.attributes]
        missing += [f"values.{name}.{value}" for name, attribute in self.attributes.items()
                    for value in attribute.values or () if value not in words.values.get(name, {})]
        for colouring in self.style.colour_by:
            said = words.colour_by.get(colouring.attribute)
            missing += [f"colour_by.{colouring.attribute}{part}" for part in (said.lacks(colouring) if said else [""])]
        return missing + [f"classes.{entry.value}" for entry in self.style.classes
                          if str(entry.value) not in words.classes]


class Catalog:
    """The layers of one catalog folder, in panel order."""

    def __init__(self, layers: list[Layer], directory: Path) -> None:
        self.directory = directory
        group_rank = {name: rank for rank, name in enumerate(GROUPS)}
        self._layers = sorted(layers, key=lambda layer: (group_rank[layer.group], layer.order, layer.id))

    def __iter__(self) -> Iterator[Layer]:
        return iter(self._layers)

    def __len__(self) -> int:
        return len(self._layers)

    def __contains__(self, layer_id: object) -> bool:
        return layer_id in self._by_id

    @cached_property
    def _by_id(self) -> dict[str, Layer]:
        return {layer.id: layer for layer in self._layers}

    def __getitem__(self, layer_id: str) -> Layer:
        try:
            return self._by_id[layer_id]
        except KeyError:
            known = ", ".join(sorted(self._by_id))
            raise CatalogError(f"unknown layer '{layer_id}'; known layers: {known}") from None

    @property
    def vector_layers(self) -> list[Layer]:
        return [layer for layer in self._layers if not layer.is_raster]


def load_layer(path: Path) -> Layer:
    """Read one layer file; any fault is a CatalogError naming the file and the field.

    ``extends = "NAME"`` starts the layer from ``templates/NAME.toml`` beside it (what all pipes or all
    point assets share); the layer's own keys win, and tables merge key by key.
    """
    data = _read_toml(path)
    template = data.pop("extends", None)
    if template is not None:
        template_path = path.parent / TEMPLATES_DIR / f"{template}.toml"
        if not isinstance(template, str) or not template_path.is_file():
            raise CatalogError(f"{path}: field 'extends': no template {template_path}")
        data = _merge(_read_toml(template_path), data)
    try:
        layer = Layer.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        problem = error.get("ctx", {}).get("error")
        # A language's table is read into `translations`; the file calls it by the language alone.
        loc = error["loc"][1:] if error["loc"][:1] == ("translations",) else error["loc"]
        field = problem.field if isinstance(problem, _FieldProblem) else ".".join(map(str, loc))
        message = error["msg"].removeprefix("Value error, ")
        raise CatalogError(f"{path}: field '{field}': {message}") from None
    if layer.id != path.stem:
        raise CatalogError(f"{path}: field 'id': '{layer.id}' must equal the file name '{path.stem}'")
    return layer


def load_catalog(directory: Path | None = None) -> Catalog:
    """Every ``*.toml`` layer file of ``directory`` (default: the TWIN_LAYERS_DIR setting)."""
    if directory is None:
        from twin.settings import get_settings

        directory = get_settings().layers_dir
    if not directory.is_dir():
        raise CatalogError(f"{directory}: the layer catalog folder does not exist; set TWIN_LAYERS_DIR")
    layers = [load_layer(path) for path in sorted(directory.glob("*.toml"))]
    if not layers:
        raise CatalogError(f"{directory}: no layer files (*.toml) in the catalog folder")
    return Catalog(layers, directory)


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot be read: {exc}") from None


def _merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
