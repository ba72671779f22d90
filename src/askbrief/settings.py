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
    api_key: str | None = None  # when set, the API's write endpoints need `Authorization: Bearer KEY`
    protect_reads: bool = False  # ...and with this, its read endpoints too
    cors_origins: list[str] = []  # origins allowed to call the API from a browser; none by default
