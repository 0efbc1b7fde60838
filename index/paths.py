"""Where the plan and its index live unless the user says otherwise."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def default_seeds() -> Path:
    """PLANQA_SEEDS, or the project's seeds/ folder."""
    return Path(os.environ.get("PLANQA_SEEDS") or PROJECT / "seeds")


def default_index() -> Path:
    """PLANQA_INDEX, or .planqa/index in the project folder."""
    return Path(os.environ.get("PLANQA_INDEX") or PROJECT / ".planqa" / "index")
