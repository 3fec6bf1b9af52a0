"""Google's own client library (google-api-python-client) against the OmniPost sandbox.

Run by the Swift test suite (SandboxOfficialClientTests) with the virtualenv `make test` creates.
It builds the YouTube Data API client from the discovery document the library ships, points it at
the sandbox with `client_options.api_endpoint`, and inserts a video the way a user of the library
would: multipart (the library's default), simple media upload, resumable in chunks, or resumable in
one request; or reads a video back with videos.list (`list`, the id in place of the file), or its
numbers with YouTube Analytics' reports.query (`analytics`, ids in place of the file). Prints the returned video resource (or the HTTP error) as one JSON line.
"""
import json
import sys

import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload


class PlainHttpToSandbox(httplib2.Http):
    """The transport only: the library builds media URLs as https on the API's host (it replaces just
    the host of `api_endpoint`), and the sandbox listens on plain HTTP on loopback. Every request the
    library composes is sent unchanged apart from that scheme."""

    def __init__(self, base):
        super().__init__()
        self.netloc = base.split("://", 1)[1].rstrip("/")

    def request(self, uri, method="GET", body=None, headers=None, **kwargs):
        secure = "https://" + self.netloc
        if uri.startswith(secure):
            uri = "http://" + self.netloc + uri[len(secure):]
        return super().request(uri, method, body=body, headers=headers, **kwargs)


def main():
    base, token, path, mode = sys.argv[1:5]
    category = sys.argv[5] if len(sys.argv) > 5 else "22"
    mimetype = sys.argv[6] if len(sys.argv) > 6 else "video/mp4"
    http = google_auth_httplib2.AuthorizedHttp(Credentials(token=token), http=PlainHttpToSandbox(base))
    youtube = build("youtube", "v3", http=http, static_discovery=True,
                    client_options={"api_endpoint": base.rstrip("/") + "/"}, cache_discovery=False)
    body = {
        "snippet": {"title": "official client " + mode, "description": "sent by google-api-python-client",
                    "tags": ["sandbox", "official"], "categoryId": category},
        "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": False},
    }
    if mode == "analytics":
        # YouTube Analytics (issue 25): the library's own youtubeAnalytics v2 client from its discovery
        # document, reports().query as OmniPost asks it — the token's channel, per video, lifetime totals.
        # Here `path` is a comma-separated list of video ids.
        analytics = build("youtubeAnalytics", "v2", http=http, static_discovery=True,
                          client_options={"api_endpoint": base.rstrip("/") + "/"}, cache_discovery=False)
        try:
            report = analytics.reports().query(
                ids="channel==MINE", startDate="2005-04-23", endDate="2099-12-31",
                metrics="views,estimatedMinutesWatched,averageViewDuration,likes,comments,shares",
                dimensions="video", filters="video==" + path).execute()
            print(json.dumps({"ok": True, "resource": report}))
        except HttpError as e:
            detail = json.loads(e.content.decode("utf-8") or "{}")
            reasons = [x.get("reason") for x in detail.get("error", {}).get("errors", [])]
            print(json.dumps({"ok": False, "status": e.resp.status, "reasons": reasons}))
        return
    if mode == "captions":
        # captions().insert as the library makes it (multipart: the caption resource, then the file),
        # then captions().list for the video. Here argv[5] is the video id and argv[6] the language.
        video, language = sys.argv[5], sys.argv[6]
        try:
            made = youtube.captions().insert(
                part="snippet", body={"snippet": {"videoId": video, "language": language, "name": "official " + language, "isDraft": False}},
                media_body=MediaFileUpload(path, mimetype="application/octet-stream", resumable=False)).execute()
            listed = youtube.captions().list(part="snippet", videoId=video).execute()
            print(json.dumps({"ok": True, "resource": made, "list": listed}))
        except HttpError as e:
            detail = json.loads(e.content.decode("utf-8") or "{}")
            reasons = [x.get("reason") for x in detail.get("error", {}).get("errors", [])]
            print(json.dumps({"ok": False, "status": e.resp.status, "reasons": reasons}))
        return
    if mode == "comment":
        # commentThreads().insert and commentThreads().list as the library makes them; argv[5] is the video id.
        video = sys.argv[5]
        try:
            made = youtube.commentThreads().insert(
                part="snippet", body={"snippet": {"videoId": video, "topLevelComment": {"snippet": {"textOriginal": "first from the library"}}}}).execute()
            listed = youtube.commentThreads().list(part="snippet", videoId=video).execute()
            print(json.dumps({"ok": True, "resource": made, "list": listed}))
        except HttpError as e:
            detail = json.loads(e.content.decode("utf-8") or "{}")
            reasons = [x.get("reason") for x in detail.get("error", {}).get("errors", [])]
            print(json.dumps({"ok": False, "status": e.resp.status, "reasons": reasons}))
        return
    if mode == "playlist":
        # playlists().insert, then playlistItems().insert of the video and playlistItems().list, as the
        # library makes them. Here argv[5] is the video id and argv[6] the playlist's title.
        video, title = sys.argv[5], sys.argv[6]
        try:
            made = youtube.playlists().insert(
                part="snippet,status", body={"snippet": {"title": title}, "status": {"privacyStatus": "private"}}).execute()
            item = youtube.playlistItems().insert(
                part="snippet", body={"snippet": {"playlistId": made["id"], "resourceId": {"kind": "youtube#video", "videoId": video}}}).execute()
            listed = youtube.playlistItems().list(part="snippet", playlistId=made["id"]).execute()
            print(json.dumps({"ok": True, "playlist": made, "resource": item, "list": listed}))
        except HttpError as e:
            detail = json.loads(e.content.decode("utf-8") or "{}")
            reasons = [x.get("reason") for x in detail.get("error", {}).get("errors", [])]
            print(json.dumps({"ok": False, "status": e.resp.status, "reasons": reasons}))
        return
    if mode == "multipart":
        media = MediaFileUpload(path, mimetype=mimetype, resumable=False)
        request = youtube.videos().insert(part="snippet,status", body=body, media_body=media)
    elif mode == "media":
        media = MediaFileUpload(path, mimetype=mimetype, resumable=False)
        request = youtube.videos().insert(part="snippet,status", media_body=media)
    elif mode == "resumable":
        media = MediaFileUpload(path, mimetype=mimetype, resumable=True, chunksize=256 * 1024)
        request = youtube.videos().insert(part="snippet,status", body=body, media_body=media)
    elif mode == "resumable-single":
        media = MediaFileUpload(path, mimetype=mimetype, resumable=True, chunksize=-1)
        request = youtube.videos().insert(part="snippet,status", body=body, media_body=media)
    elif mode == "list":
        # Read back (issue 25): `path` is the video's id; what OmniPost's read asks of videos.list.
        media = None
        request = youtube.videos().list(part="status,processingDetails,statistics", id=path)
    elif mode == "status-only":
        media = MediaFileUpload(path, mimetype=mimetype, resumable=True, chunksize=-1)
        request = youtube.videos().insert(part="status", body={"status": body["status"]}, media_body=media)
    else:
        raise SystemExit("unknown mode " + mode)
    try:
        response = None
        if isinstance(media, MediaFileUpload) and media.resumable():
            while response is None:
                _, response = request.next_chunk()
        else:
            response = request.execute()
        print(json.dumps({"ok": True, "resource": response}))
    except HttpError as e:
        detail = json.loads(e.content.decode("utf-8") or "{}")
        reasons = [x.get("reason") for x in detail.get("error", {}).get("errors", [])]
        print(json.dumps({"ok": False, "status": e.resp.status, "reasons": reasons}))


if __name__ == "__main__":
    main()
