"""tuspyserver (a tus 1.0 server from PyPI, on FastAPI/uvicorn) on loopback: a tus implementation
independent of OmniPost's own, that the `tus:` target is tested against.

Started by the Swift test suite (Support/PythonServer.swift) with the virtualenv `make test` creates.
Stores uploads in argv[1]; binds 127.0.0.1 on a port the kernel picks, prints it, serves until its stdin
closes (the test process ended, however it ended).
"""
import socket
import sys
import threading

import uvicorn
from fastapi import FastAPI
from tuspyserver import create_tus_router


def main():
    files_dir = sys.argv[1]
    app = FastAPI()
    app.include_router(create_tus_router(prefix="files", files_dir=files_dir, strict_offset_validation=True))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="error"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    print(sock.getsockname()[1], flush=True)
    sys.stdin.read()
    server.should_exit = True
    thread.join(timeout=5)


if __name__ == "__main__":
    main()
