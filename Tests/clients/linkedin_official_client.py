"""LinkedIn's own Python client (linkedin-api-client, from PyPI) against the OmniPost sandbox.

Run by the Swift test suite (SandboxOfficialClientTests) with the virtualenv `make test` creates.
It does what the library's users do to post a video: reads who the token belongs to (`/userinfo`),
`initializeUpload`, PUTs each part to its upload URL keeping the ETags (the library has no upload
helper; plain `requests`, as LinkedIn's own samples do), `finalizeUpload`, reads the video until it is
AVAILABLE, creates the post, and finds it again with the `author` finder. Prints one JSON line.

`analytics <post urn>` instead of a file reads the post's numbers as the library's users do: the
`memberCreatorPostAnalytics` finder `entity` (the Rest.li union `(share:urn)` the library encodes itself),
once for each metric type, TOTAL aggregation.
"""
import json
import sys
import time

import requests
from requests.adapters import HTTPAdapter
from linkedin_api.clients.restli.client import RestliClient


class ToSandbox(HTTPAdapter):
    """The transport only: the library's base URLs are LinkedIn's https hosts; every request it composes
    goes to the sandbox's plain-HTTP loopback port, path, query and body unchanged."""

    def __init__(self, base):
        super().__init__()
        self.base = base.rstrip("/")

    def send(self, request, **kwargs):
        for host in ("https://api.linkedin.com", "https://www.linkedin.com"):
            if request.url.startswith(host):
                request.url = self.base + request.url[len(host):]
        return super().send(request, **kwargs)


def analytics(client, token, version, urn):
    kind = "ugcPost" if urn.startswith("urn:li:ugcPost:") else "share"
    counts, statuses, types = {}, {}, {}
    for query_type in ("IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE"):
        r = client.finder(resource_path="/memberCreatorPostAnalytics", finder_name="entity", access_token=token, version_string=version,
                          query_params={"entity": {kind: urn}, "queryType": query_type, "aggregation": "TOTAL"})
        statuses[query_type] = r.status_code
        if r.status_code == 200 and r.elements:
            counts[query_type] = r.elements[0]["count"]
            types[query_type] = list(r.elements[0]["metricType"].values())[0]
    print(json.dumps({"statuses": statuses, "counts": counts, "types": types}))


def main():
    base, token, path, version = sys.argv[1:5]
    client = RestliClient()
    client.session.mount("https://", ToSandbox(base))
    if path == "analytics":
        analytics(client, token, version, sys.argv[5])
        return
    me = client.get(resource_path="/userinfo", access_token=token)
    owner = "urn:li:person:" + me.entity["sub"]
    size = len(open(path, "rb").read())
    init = client.action(resource_path="/videos", action_name="initializeUpload", access_token=token, version_string=version,
                         action_params={"initializeUploadRequest": {"owner": owner, "fileSizeBytes": size,
                                                                    "uploadCaptions": False, "uploadThumbnail": False}})
    if init.status_code != 200:
        print(json.dumps({"ok": False, "step": "initializeUpload", "status": init.status_code, "body": init.response.text}))
        return
    value = init.value
    etags = []
    with open(path, "rb") as f:
        for part in value["uploadInstructions"]:
            f.seek(part["firstByte"])
            data = f.read(part["lastByte"] - part["firstByte"] + 1)
            r = requests.put(part["uploadUrl"], data=data, headers={"Content-Type": "application/octet-stream"})
            etags.append(r.headers["etag"])
    fin = client.action(resource_path="/videos", action_name="finalizeUpload", access_token=token, version_string=version,
                        action_params={"finalizeUploadRequest": {"video": value["video"], "uploadToken": value["uploadToken"],
                                                                 "uploadedPartIds": etags}})
    status = None
    for _ in range(50):
        status = client.get(resource_path="/videos/{id}", path_keys={"id": value["video"]}, access_token=token,
                            version_string=version).entity.get("status")
        if status != "PROCESSING":
            break
        time.sleep(0.1)
    post = client.create(resource_path="/posts", access_token=token, version_string=version, entity={
        "author": owner, "commentary": "posted by the official client \\(yes\\)", "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "content": {"media": {"title": "official", "id": value["video"]}}, "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False})
    found = client.finder(resource_path="/posts", finder_name="author", access_token=token, version_string=version,
                          query_params={"author": owner, "count": 10})
    print(json.dumps({"ok": post.status_code == 201, "finalize": fin.status_code, "status": status, "parts": len(etags),
                      "post": post.entity_id, "found": [e["id"] for e in found.elements], "body": post.response.text}))


if __name__ == "__main__":
    main()
