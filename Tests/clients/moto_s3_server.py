"""moto's standalone S3 server (from PyPI) on loopback: an S3 implementation independent of OmniPost's own.

Started by the Swift test suite (Support/MotoServer.swift) with the virtualenv `make test` creates.
Binds 127.0.0.1 on a port the kernel picks, prints that port, and serves until its stdin closes
(the test process ended, however it ended).
"""
import sys

from moto.server import ThreadedMotoServer


def main():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
