"""tuspy (the widely used Python tus client, from PyPI) against the OmniPost sandbox's tus server.

Run by the Swift test suite (TusTests) with the virtualenv `make test` creates: create an upload with
metadata, send one 1 MiB chunk with sha1 checksums, stop, then resume with a new uploader from the
offset the server reports (HEAD) and finish. Prints one JSON line.
"""
import json
import sys

from tusclient import client


def main():
    endpoint, path = sys.argv[1:3]
    c = client.TusClient(endpoint)
    first = c.uploader(path, chunk_size=1 << 20, metadata={"filename": "clip.mp4"}, upload_checksum=True)
    first.upload_chunk()
    url = first.url
    second = c.uploader(path, chunk_size=1 << 20, url=url, upload_checksum=True)
    resumed = second.get_offset()
    second.upload()
    print(json.dumps({"ok": second.offset == second.get_file_size(), "url": url, "resumed_offset": resumed}))


if __name__ == "__main__":
    main()
