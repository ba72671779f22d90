"""The encoders: the question-tuned MiniLM and multilingual-e5-small as askbrief's own int8 ONNX
graphs, their tokenizers, and the quantiser that writes them; texts in, unit vectors out."""
