#!/usr/bin/env python3
"""A stand-in for the Pushover API, for the end-to-end tests.

receiver.py --port-file F --log L [--mode-file M]

Binds 127.0.0.1 on a port the OS chooses, writes that port to F, then serves
until killed.  Every request is appended to L as one JSON line:
{"method", "path", "query", "headers", "body", "form"}.  The answer depends on
the content of M, re-read on each request (default "200"):
  200  -> 200 {"status":1,"request":"<uuid>"}
  400  -> 400 Pushover's "user identifier is not a valid ..." body
  429  -> 429 with a JSON body (over the monthly limit)
  500  -> 500 with a JSON body
  hang -> the request is read, logged, and never answered
Python 3 standard library only.
"""
import argparse
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOG_LOCK = threading.Lock()


def read_mode(path):
    if not path:
        return "200"
    try:
        with open(path, encoding="utf-8") as fh:
            mode = fh.read().strip()
    except OSError:
        return "200"
    return mode or "200"


def answer_for(mode):
    """(status, body dict) for a mode; None for 'hang'."""
    rid = str(uuid.uuid4())
    if mode == "hang":
        return None
    if mode == "400":
        return 400, {"user": "invalid",
                     "errors": ["user identifier is not a valid user, group, "
                                "or subscribed user key"],
                     "status": 0, "request": rid}
    if mode == "429":
        return 429, {"errors": ["application is over its monthly message limit"],
                     "status": 0, "request": rid}
    if mode == "500":
        return 500, {"errors": ["internal server error"], "status": 0,
                     "request": rid}
    return 200, {"status": 1, "request": rid}


class Handler(BaseHTTPRequestHandler):
    server_version = "receiver/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep stderr quiet
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        body = raw.decode("utf-8", errors="replace")
        parts = urlsplit(self.path)
        form = {}
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("application/x-www-form-urlencoded") or (
                body and "=" in body and not ctype):
            for key, vals in parse_qs(body, keep_blank_values=True).items():
                form[key] = vals[0]
        record = {
            "method": self.command,
            "path": parts.path,
            "query": parts.query,
            "headers": {k: v for k, v in self.headers.items()},
            "body": body,
            "form": form,
        }
        with LOG_LOCK:
            with open(self.server.log_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        ans = answer_for(read_mode(self.server.mode_path))
        if ans is None:
            # Never answer: the client must give up on its own timeout.
            time.sleep(3600)
            return
        status, obj = ans
        out = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_POST = _handle
    do_GET = _handle
    do_PUT = _handle
    do_DELETE = _handle


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--mode-file")
    args = ap.parse_args()

    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.log_path = args.log
    srv.mode_path = args.mode_file
    open(args.log, "a").close()
    # Written atomically so a reader never sees a partial port number.
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as fh:
        fh.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
