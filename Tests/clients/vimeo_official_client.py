"""Vimeo's own Python library (PyVimeo, from PyPI) against the OmniPost sandbox's Vimeo.

Run by the Swift test suite (VimeoTests) with the virtualenv `make test` creates: upload a file the way
the library does (POST /me/videos with approach tus, then tus PATCHes to the upload link), read the
video back, set a custom thumbnail the way the library does (`upload_picture`: the video's pictures
connection, POST, PUT the image to the picture's link, PATCH it active), and try a revoked token.
Prints one JSON line.

`texttracks <video uri> <WebVTT file> <language>` instead reads the video's text tracks (what OmniPost
wrote), adds one with the library's `upload_texttrack` (POST the track, PUT the file to its link), and
reads them again.
"""
import json
import sys

import vimeo


def texttracks(client, uri, path, language):
    def listed():
        return [{k: t.get(k) for k in ("type", "language", "name", "active", "link")} for t in client.get(uri + "/texttracks").json()["data"]]
    before = listed()
    made = client.upload_texttrack(uri, "captions", language, path)
    print(json.dumps({"before": before, "made": made.get("link"), "after": listed()}))


def main():
    base, token, path, cover = sys.argv[1:5]
    vimeo.VimeoClient.API_ROOT = base
    client = vimeo.VimeoClient(token=token)
    if path == "texttracks":
        texttracks(client, cover, sys.argv[5], sys.argv[6])
        return
    uri = client.upload(path, data={"name": "from PyVimeo", "description": "official client", "privacy": {"view": "unlisted"}, "chunk_size": 1 << 20})
    video = client.get(uri).json()
    picture = client.upload_picture(uri, cover, activate=True)
    bad = vimeo.VimeoClient(token="not-a-token-at-all-000")
    try:
        bad.upload(path, data={"name": "x"})
        refused = "accepted"
    except vimeo.exceptions.UploadAttemptCreationFailure as e:
        refused = str(e)
    print(json.dumps({"uri": uri, "status": video.get("upload", {}).get("status"), "name": video.get("name"),
                      "privacy": video.get("privacy", {}).get("view"), "refused": refused,
                      "picture": picture.get("uri") if isinstance(picture, dict) else str(picture)}))


if __name__ == "__main__":
    main()
