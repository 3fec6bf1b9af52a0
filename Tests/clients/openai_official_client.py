"""OpenAI's own Python library (openai, from PyPI) against the OmniPost sandbox's chat-completions endpoint.

Run by the Swift test suite (SandboxOfficialClientTests) with the virtualenv `make test` creates. It asks
for a JSON object the way the library's users do (`chat.completions.create` with `response_format`),
reads the typed answer, then sends a request the API refuses (no messages) and reports the library's
error. Prints one JSON line.
"""
import json
import sys

import openai


def main():
    base, brief = sys.argv[1], sys.argv[2]
    client = openai.OpenAI(base_url=base.rstrip("/") + "/openai/v1", api_key="sk-sandbox", max_retries=0)
    out = {}
    answer = client.chat.completions.create(
        model="sandbox-writer",
        messages=[
            {"role": "system", "content": "Answer with one JSON object."},
            {"role": "user", "content": brief},
        ],
        response_format={"type": "json_object"},
        temperature=0.7,
    )
    out["object"] = answer.object
    out["model"] = answer.model
    out["finish_reason"] = answer.choices[0].finish_reason
    out["content"] = json.loads(answer.choices[0].message.content)
    out["total_tokens"] = answer.usage.total_tokens
    try:
        client.chat.completions.create(model="sandbox-writer", messages=[])
        out["refused"] = None
    except openai.BadRequestError as e:
        out["refused"] = {"status": e.status_code, "param": (e.body or {}).get("param")}
    out["ok"] = True
    print(json.dumps(out))


if __name__ == "__main__":
    main()
