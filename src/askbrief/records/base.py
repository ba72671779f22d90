"""The base of every record that leaves askbrief: frozen pydantic models."""

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    model_config = ConfigDict(frozen=True)
