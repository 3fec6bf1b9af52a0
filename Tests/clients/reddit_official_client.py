"""PRAW (Reddit's widely used Python client, from PyPI) against the OmniPost sandbox's Reddit.

Run by the Swift test suite (RedditTests) with the virtualenv `make test` creates: refresh a token,
submit a video with a poster the way PRAW does (media lease, form POST to https: + the lease's action,
submit, the result from the WebSocket), read the submission back, reply to it (`submission.reply`, POST
/api/comment) and read its comments (GET /comments/{id}). Prints one JSON line.
"""
import json
import os
import sys


def main():
    base, client_id, secret, refresh_token, video, poster, ca = sys.argv[1:8]
    # The sandbox's media host is HTTPS with its own CA: requests trusts it through this variable.
    os.environ["REQUESTS_CA_BUNDLE"] = ca
    import praw
    from praw.models import PostMedia

    reddit = praw.Reddit(client_id=client_id, client_secret=secret, refresh_token=refresh_token,
                         user_agent="linux:omnipost-tests:1.0 (by u/omnipost)", oauth_url=base, reddit_url=base,
                         check_for_updates=False, timeout=60)
    submission = reddit.subreddit("praw_test").submit(
        "from PRAW", video={"media": PostMedia(video), "thumbnail": PostMedia(poster)}, timeout=30)
    comment = submission.reply("first from PRAW")
    again = reddit.submission(id=submission.id)
    bodies = [c.body for c in again.comments.list()]
    print(json.dumps({"title": submission.title, "url": submission.permalink and base + submission.permalink,
                      "comment": comment.fullname, "comments": bodies}))


if __name__ == "__main__":
    main()
