"""Settings read from the environment (ASKBRIEF_*), one object for the whole process."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASKBRIEF_")

    home: Path = Path("indexes")  # where indexes live, one folder each
    # Below this calibrated confidence the reader abstains. 0.5 answers when it is more likely
    # right than wrong; raise it to abstain more (see README, "Quality").
    abstain_threshold: float = 0.5
    reader_model: Path | None = None  # a local transformers QA model for short-answer spans
