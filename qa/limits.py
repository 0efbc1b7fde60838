"""Limits shared by the chat page and the JSON API, so the controls and the server agree."""
from __future__ import annotations

# Quotes per answer: the page's count control offers 1..MAX_K, the page's handler clamps to it
# and the API refuses more with a 400. Ten quotes already fill two phone screens.
MAX_K = 10
DEFAULT_K = 5

# The chat history the server takes back (the page keeps it server-side; respond() caps whatever
# it is given): the newest messages, at most this many and this many characters in all. A
# ten-quote answer with its sections opened is about 25,000 characters (tests/test_app.py).
MAX_HISTORY_MESSAGES = 60
MAX_HISTORY_CHARS = 200_000

# The echo of a question in the chat is cut here (the question itself is limited in qa/answer.py).
MAX_ECHO_CHARS = 200
