"""moto's server with one request handled at a time.

moto applies a TransactWriteItems as separate steps, so two threads can
interleave inside one transaction and both pass a condition that DynamoDB
would let only one pass. DynamoDB serialises conflicting transactions; holding
a lock around each request gives moto the same atomicity, which the
concurrency tests depend on. Connections are still accepted concurrently.

Usage: python infra/moto_server.py [port]
"""

import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


class Serialized:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5055
    run_simple("127.0.0.1", port, Serialized(DomainDispatcherApplication(create_backend_app)),
               threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
