"""The selection core in other people's trainers: PyTorch Lightning (:mod:`.lightning`, extra
``lightning``) and Hugging Face ``transformers`` (:mod:`.huggingface`, extra ``huggingface``).
Each keeps its framework's own step (precision, loss scaling, clipping, accumulation)."""
