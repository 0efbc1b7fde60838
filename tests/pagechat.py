"""Asking through the chat page's own event, as the browser does, against a running `planqa serve`
(tests/test_security.py, tests/test_hardening.py): the inputs are filled from the page's /config,
the question is POSTed to Gradio's queue and the event stream is read back."""
from __future__ import annotations

import json


def chat_dependency(config: dict) -> tuple[int, dict]:
    """The question box's component id and the event its submit runs (the chat handler)."""
    box = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "planqa-question")
    return box, next(d for d in config["dependencies"] if [box, "submit"] in d["targets"])


def chat_api_name(config: dict) -> str:
    """The API name Gradio gave the chat handler (registered with api_name=False)."""
    return chat_dependency(config)[1]["api_name"]


def chat_stream(client, question: str, history: list | None = None) -> str:
    """Send `question` (after the chat `history`) through the page's event, the other inputs at the
    page's defaults; the event stream's text."""
    config = client.get("/config").json()
    components = {c["id"]: c for c in config["components"]}
    box, dep = chat_dependency(config)
    data, states = [], 0
    for i in dep["inputs"]:
        if i == box:
            data.append(question)
        elif components[i]["type"] == "state":
            data.append((history or []) if states == 0 else None)
            states += 1
        else:
            data.append(components[i].get("props", {}).get("value"))
    r = client.post(f"/gradio_api/call/{dep['api_name']}", json={"data": data})
    assert r.status_code == 200, r.text
    return client.get(f"/gradio_api/call/{dep['api_name']}/{r.json()['event_id']}").text


def shown_chat(stream: str) -> list:
    """The chat the page shows after the answer: the stream's last `data:` line."""
    data = [line.split(": ", 1)[1] for line in stream.splitlines() if line.startswith("data: ")]
    return json.loads(data[-1])[0]
