"""The AT Protocol SDK for Python (atproto, from PyPI) against the OmniPost sandbox's Bluesky PDS.

Run by the Swift test suite (BlueskyTests) with the virtualenv `make test` creates: sign in with a
handle and app password, post a video the way the SDK does (uploadBlob, then createRecord with a
video embed), read the post back, reply to it (a post whose `reply` holds strong refs to it) and read
the thread (getPostThread). Prints one JSON line.
"""
import json
import sys

from atproto import Client, models
from atproto_client.request import Request


def main():
    base, handle, password, path = sys.argv[1:5]
    # httpx's 5 s default is too short for a test machine running the whole suite at once.
    client = Client(base_url=base + "/xrpc", request=Request(timeout=120))
    client.login(handle, password)
    with open(path, "rb") as f:
        video = f.read()
    post = client.send_video(text="from the SDK", video=video, video_alt="a test video")
    rkey = post.uri.rsplit("/", 1)[-1]
    got = client.com.atproto.repo.get_record({"repo": client.me.did, "collection": "app.bsky.feed.post", "rkey": rkey})
    ref = models.create_strong_ref(post)
    reply = client.send_post(text="first from the SDK", reply_to=models.AppBskyFeedPost.ReplyRef(root=ref, parent=ref))
    thread = client.get_post_thread(post.uri, depth=1)
    replies = [r.post.record.text for r in (thread.thread.replies or [])]
    print(json.dumps({"uri": post.uri, "text": got.value.text, "reply": reply.uri, "replies": replies}))


if __name__ == "__main__":
    main()
