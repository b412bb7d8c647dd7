"""A small SMTP server for the fault tests: it keeps every message it accepted (answered 250 to DATA) and,
when asked, stops answering after accepting one message (before the client's QUIT is answered), so a test
can kill the sender after the message left it but before the sender recorded that it went."""

import email
import socketserver
import threading
from email.message import Message
from typing import Any


class SmtpSink:
    def __init__(self, port: int, hold_after: int | None = None) -> None:
        self.accepted: list[Message] = []
        self.hold_after = hold_after
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                sink.converse(self.rfile, self.wfile)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "SmtpSink":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def converse(self, rfile: Any, wfile: Any) -> None:
        def say(line: str) -> None:
            wfile.write(line.encode() + b"\r\n")
            wfile.flush()

        say("220 faults-sink ESMTP")
        hold = False
        while line := rfile.readline():
            verb = line.decode(errors="replace").strip().split(" ")[0].upper()
            if verb == "DATA":
                say("354 end with <CRLF>.<CRLF>")
                data = b""
                while (chunk := rfile.readline()) and chunk != b".\r\n":
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                with self.lock:
                    self.accepted.append(email.message_from_bytes(data))
                    hold = self.hold_after is not None and len(self.accepted) == self.hold_after
                say("250 accepted")
            elif verb == "QUIT":
                if hold:
                    self.holding.set()
                    self.release.wait()
                    return
                say("221 bye")
                return
            elif verb == "EHLO":
                say("250 faults-sink")
            else:
                say("250 ok")

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(message["Message-ID"]) for message in self.accepted]
