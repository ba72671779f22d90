"""The API's request bodies: pydantic models that reject unknown fields, bounded as the engine is."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from askbrief.ingest.documents import MAX_ID
from askbrief.limits import MAX_QUESTION, MAX_SUMMARY_DOCS, MAX_SUMMARY_SENTENCES, MAX_TOP_K


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskRequest(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"question": "What did Putin say about trade?"}]})
    question: str = Field(min_length=1, max_length=MAX_QUESTION)
    top_k: int = Field(5, ge=1, le=MAX_TOP_K)
    since: str | None = None
    until: str | None = None
    sources: list[Annotated[str, Field(max_length=2000)]] = Field([], max_length=100)
    explain: bool = Field(False, description="Add `explanation`: why this answer, stage by stage")


class SummarizeRequest(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"query": "trade between Russia and India"}]})
    doc_ids: list[Annotated[str, Field(max_length=MAX_ID)]] = Field([], max_length=MAX_SUMMARY_DOCS)
    query: str | None = Field(None, min_length=1, max_length=MAX_QUESTION)
    max_sentences: int = Field(4, ge=1, le=MAX_SUMMARY_SENTENCES)
    since: str | None = Field(None, max_length=40, description="What's new since this date (YYYY-MM-DD)")
    explain: bool = Field(False, description="Add `explanation`: why each sentence was picked, what was left out")


class DocumentIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "tass-2023-12-27", "title": "Putin meets Jaishankar", "published": "2023-12-27",
         "source": "TASS", "text": "Russian President Vladimir Putin met India's foreign minister…"}]})
    text: str = Field(min_length=1)
    id: str | None = Field(None, max_length=MAX_ID)
    title: str | None = None
    published: str | None = None
    source: str | None = None


documents_in = TypeAdapter(DocumentIn | list[DocumentIn])


class UrlIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"url": "https://en.wikinews.org/wiki/Main_Page"}]})
    url: str = Field(min_length=1, max_length=2000)
