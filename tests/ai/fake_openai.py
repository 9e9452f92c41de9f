"""A local OpenAI-compatible server for tests and the bench: POST /v1/chat/completions with scripted replies.

The real ``openai`` client talks to it over HTTP on 127.0.0.1, so timeouts, status codes and retries are
the SDK's real behaviour. Replies are taken from ``script`` in order; when it is empty, ``default`` answers
(a valid structured answer unless a test sets another). Usage counts are estimated like a BPE tokenizer
would (``ai/tokens.py``), including the JSON schema sent in ``response_format``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from saleor_support_plugin.ai.tokens import messages_token_estimate, token_estimate


@dataclass
class Reply:
    content: str | None = None  # the assistant message text (JSON or not)
    refusal: str | None = None
    status: int = 200
    delay: float = 0.0
    error: str = ""

    @classmethod
    def answer(cls, **fields: object) -> Reply:
        return cls(content=json.dumps(valid_answer(**fields), ensure_ascii=False))


def valid_answer(**fields: object) -> dict:
    answer = {
        "intent": "order_status",
        "sentiment": 0,
        "urgency": "normal",
        "language": "en",
        "confidence": 0.93,
        "reply": "Hi! Your order has shipped; tracking number 1Z999AA10123456784.",
        "citations": ["order"],
    }
    answer.update(fields)
    return answer


class FakeOpenAI:
    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.default: Callable[[dict], Reply] = lambda request: Reply.answer()
        self.requests: list[dict] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, request: dict) -> Reply:
        return self.script.pop(0) if self.script else self.default(request)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                fake.requests.append(body)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "not found"}})
                reply = fake._next(body)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status != 200:
                    return self._send(reply.status, {"error": {"message": reply.error or "scripted", "type": "x"}})
                return self._send(200, _completion(body, reply))

            def _send(self, status: int, payload: dict) -> None:
                raw = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.send_header("x-request-id", f"req_{len(fake.requests)}")
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        return Handler


def _completion(request: dict, reply: Reply) -> dict:
    schema = json.dumps((request.get("response_format") or {}).get("json_schema", {}))
    prompt_tokens = messages_token_estimate(request.get("messages", [])) + token_estimate(schema)
    completion_tokens = token_estimate(reply.content or reply.refusal or "")
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content, "refusal": reply.refusal},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
