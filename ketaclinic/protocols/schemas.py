"""API shapes for protocol data. Values travel as their canonical text with `value_kind`, so decimals stay
exact (0.5 is "0.5", never a float)."""

import datetime as dt

from ninja import Schema

from ketaclinic.protocols.rules import Population


class ParameterOut(Schema):
    parameter_id: int
    key: str
    population: str
    category: str
    name: str
    description: str
    unit: str
    value_kind: str
    value: str | None
    version: int | None
    verified: bool | None
    source: str | None
    value_id: int | None


class ReadingOut(Schema):
    key: str
    population: str
    value_kind: str
    value: str
    unit: str
    version: int
    value_id: int
    verified: bool
    source: str


class VersionOut(Schema):
    value_id: int
    key: str
    population: str
    version: int
    value: str
    unit: str
    verified: bool
    source: str
    reason: str
    changed_by: str | None
    changed_at: dt.datetime
    corrects_version: int | None


class ChangeIn(Schema):
    value: str
    source: str
    reason: str
    verified: bool = False
    population: Population = Population.ALL


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None
