"""Meta's own Business SDK (facebook-business, from PyPI) against the OmniPost sandbox's Graph API.

Run by the Swift test suite (SandboxOfficialClientTests) with the virtualenv `make test` creates. It
reads what OmniPost's adapters wrote after a post — a Facebook video's captions and comments, an
Instagram reel's comments — the way the SDK's users do, then writes one of each itself (a caption file
with `create_cap_t_i_on`, the SDK's name for `POST /{video-id}/captions`, and a comment with
`create_comment`) and reads again. Only the transport is moved: the SDK's Graph host is the sandbox's
loopback address; paths, parameters and bodies are the SDK's own. Prints one JSON line.

  facebook <graph base> <user token> <video id> <caption file named name.locale.srt>
  instagram <graph base> <user token> <media id>
"""
import json
import sys

from facebook_business.api import FacebookAdsApi
from facebook_business.session import FacebookSession
from facebook_business.adobjects.advideo import AdVideo
from facebook_business.adobjects.igmedia import IGMedia
from facebook_business.adobjects.user import User
from facebook_business.exceptions import FacebookRequestError


def api(token):
    return FacebookAdsApi(FacebookSession(access_token=token))


def facebook(base, token, video_id, caption_file):
    user = api(token)
    # The Page's token, as the SDK's users get it: the user's accounts edge.
    pages = list(User(fbid="me", api=user).get_accounts(fields=["id", "name", "access_token"]))
    page = api(pages[0]["access_token"])
    video = AdVideo(video_id, api=page)
    before = {"captions": sorted(c["locale"] for c in video.get_captions()),
              "comments": [c["message"] for c in video.get_comments(fields=["message", "from", "created_time"])]}
    video.create_cap_t_i_on(params={"captions_file": caption_file})
    made = video.create_comment(params={"message": "written by facebook-business"})
    after = {"captions": sorted(c["locale"] for c in video.get_captions()),
             "comments": [c["message"] for c in video.get_comments(fields=["message"])]}
    try:
        AdVideo(video_id, api=user).create_comment(params={"message": "as the user"})
        refused = None
    except FacebookRequestError as e:
        refused = e.api_error_code()
    return {"pages": len(pages), "before": before, "after": after, "comment_id": made["id"], "user_refused": refused}


def instagram(base, token, media_id):
    media = IGMedia(media_id, api=api(token))
    before = [{"text": c["text"], "username": c["username"]} for c in media.get_comments(fields=["text", "username", "timestamp"])]
    made = media.create_comment(params={"message": "written by facebook-business"})
    after = [c["text"] for c in media.get_comments(fields=["text"])]
    try:
        media.create_comment(params={"message": ""})
        refused = None
    except FacebookRequestError as e:
        refused = e.api_error_code()
    return {"before": before, "after": after, "comment_id": made["id"], "empty_refused": refused}


def main():
    mode, base = sys.argv[1:3]
    FacebookSession.GRAPH = base.rstrip("/")
    if mode == "facebook":
        out = facebook(base, *sys.argv[3:6])
    else:
        out = instagram(base, *sys.argv[3:5])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
