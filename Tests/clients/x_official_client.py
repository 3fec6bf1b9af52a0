"""X's own Python SDK (xdk, from PyPI) against the OmniPost sandbox.

Run by the Swift test suite (SandboxOfficialClientTests) with the virtualenv `make test` creates.
It uploads a video the way the SDK's users do — initialize, append segments (the SDK sends each as
base64 in JSON), finalize, poll the status as `check_after_secs` says — and posts it with
`posts.create`; then it reads the post back. With a sixth argument it also replies to the post with
that text (`posts.create` with `reply.in_reply_to_tweet_id`, a first comment's call). Prints one JSON
line: the post (and the reply), or the HTTP error.
"""
import base64
import json
import os
import sys
import time

import requests
from xdk import Client
from xdk.media.models import AppendUploadRequest, InitializeUploadRequest
from xdk.posts.models import CreateRequest


def main():
    base, token, path, text = sys.argv[1:5]
    segment = int(sys.argv[5]) if len(sys.argv) > 5 else 1024 * 1024
    reply_text = sys.argv[6] if len(sys.argv) > 6 else None
    client = Client(base_url=base, access_token=token)
    # The SDK's media calls authorize through the client's session; the post call sets the bearer itself.
    client.session.headers["Authorization"] = "Bearer " + token
    size = os.path.getsize(path)
    try:
        init = client.media.initialize_upload(body=InitializeUploadRequest(
            media_type="video/mp4", total_bytes=size, media_category="amplify_video"))
        media_id = init.data.id
        with open(path, "rb") as f:
            index = 0
            while True:
                chunk = f.read(segment)
                if not chunk:
                    break
                client.media.append_upload(media_id, body=AppendUploadRequest(
                    media=base64.b64encode(chunk).decode(), segment_index=index))
                index += 1
        fin = client.media.finalize_upload(media_id)
        info = fin.data.processing_info
        while info is not None and info.state in ("pending", "in_progress"):
            time.sleep(min(info.check_after_secs or 1, 2))
            info = client.media.get_upload_status(media_id, command="STATUS").data.processing_info
        post = client.posts.create(body=CreateRequest(text=text, media={"media_ids": [media_id]}))
        data = post.data.model_dump() if hasattr(post.data, "model_dump") else post.data
        reply = None
        if reply_text:
            made = client.posts.create(body=CreateRequest(text=reply_text, reply={"in_reply_to_tweet_id": data["id"]}))
            reply = made.data.model_dump() if hasattr(made.data, "model_dump") else made.data
        print(json.dumps({"ok": True, "media_id": media_id, "segments": index, "state": info.state if info else None,
                          "post": data, "reply": reply}))
    except requests.HTTPError as e:
        print(json.dumps({"ok": False, "status": e.response.status_code, "body": e.response.text}))


if __name__ == "__main__":
    main()
