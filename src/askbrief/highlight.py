"""Short-answer highlighting: a question and the answer's first cited sentence in, the answer
span inside that sentence out, from a local transformers question-answering model.

Optional: used only when ASKBRIEF_SPAN_MODEL names a folder holding such a model (no QA
weights ship on PyPI, so askbrief never needs one). Loaded offline, once per process.
"""

from pathlib import Path

import numpy as np

from askbrief.errors import BadInput
from askbrief.records import Citation, Span

MAX_SPAN_TOKENS = 30  # SQuAD answers are short; longer spans are the model wandering
MAX_LENGTH = 384  # question + sentence, in word pieces (the usual SQuAD setting)


class SpanReader:
    def __init__(self, folder: Path):
        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise BadInput("span_model", f"ASKBRIEF_SPAN_MODEL={folder} is not a transformers model folder"
                           " (no config.json); unset it or point it at a saved question-answering model")
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.model = AutoModelForQuestionAnswering.from_pretrained(folder, local_files_only=True).eval()

    def span(self, question: str, citation: Citation) -> Span:
        """The best-scoring span of the cited sentence, as offsets into its document."""
        import torch

        encoded = self.tokenizer(question, citation.quote, truncation="only_second", max_length=MAX_LENGTH,
                                 return_offsets_mapping=True, return_tensors="pt")
        offsets = encoded.pop("offset_mapping")[0].tolist()
        in_sentence = np.array([s == 1 for s in encoded.sequence_ids(0)])
        with torch.no_grad():
            output = self.model(**encoded)
        start = np.where(in_sentence, output.start_logits[0].numpy(), -np.inf)
        end = np.where(in_sentence, output.end_logits[0].numpy(), -np.inf)
        scores = start[:, None] + end[None, :]
        allowed = np.triu(np.ones_like(scores, dtype=bool)) & ~np.triu(np.ones_like(scores, dtype=bool), MAX_SPAN_TOKENS)
        i, j = np.unravel_index(np.argmax(np.where(allowed, scores, -np.inf)), scores.shape)
        first, last = offsets[i][0], offsets[j][1]
        return Span(doc_id=citation.doc_id, start=citation.start + first, end=citation.start + last,
                    text=citation.quote[first:last])
