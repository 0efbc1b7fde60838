"""planqa's index layer: parse plans, embed and index passages, search them.

Knows nothing of answering (qa/) or evaluation (eval/). Heavy libraries (faiss, jieba, the
model) are imported only when used.
"""
from .errors import PlanQAError
from .records import Passage

__all__ = ["PlanQAError", "Passage"]
