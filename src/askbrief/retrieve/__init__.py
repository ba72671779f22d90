"""Retrieval, the stage between the index and the readers: a question parsed (its terms, dates in
English, French, German and Spanish, speaker and answer type), and hybrid retrieval (dense by best
sentence and keywords, fused) into the evidence the answer and summary stages read."""
