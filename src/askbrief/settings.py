"""Settings read from the environment (ASKBRIEF_*), one object for the whole process."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASKBRIEF_")

    home: Path = Path("indexes")  # where indexes live, one folder each
    # Below this calibrated confidence the reader abstains. None takes the threshold fitted with
    # the calibrator (reader_model.json: the best balanced accuracy of answering answerable and
    # declining unanswerable SQuAD questions); raise it to abstain more (README, "Quality").
    abstain_threshold: float | None = None
    reader_model: Path | None = None  # a local transformers QA model for short-answer spans
