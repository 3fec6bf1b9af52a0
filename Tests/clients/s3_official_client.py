"""AWS's own SDK for Python (boto3, from PyPI) against the OmniPost sandbox's S3.

Run by the Swift test suite (SandboxOfficialClientTests) with the virtualenv `make test` creates, with
the SDK's defaults (its checksums and body encoding included): create a bucket, put an object, read it
back signed and through a presigned link, let a short link expire, and sign with a wrong secret.
Prints one JSON line.
"""
import hashlib
import json
import sys
import time
import urllib.error
import urllib.request

import boto3
from botocore.exceptions import ClientError


def fetch(url):
    try:
        with urllib.request.urlopen(url) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    endpoint, key_id, secret, path = sys.argv[1:5]
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key_id, aws_secret_access_key=secret, region_name="us-east-1")
    s3.create_bucket(Bucket="media")
    data = open(path, "rb").read()
    s3.put_object(Bucket="media", Key="clips/a clip.mp4", Body=data, ContentType="video/mp4")
    got = s3.get_object(Bucket="media", Key="clips/a clip.mp4")["Body"].read()
    link = s3.generate_presigned_url("get_object", Params={"Bucket": "media", "Key": "clips/a clip.mp4"}, ExpiresIn=600)
    status, linked = fetch(link)
    short = s3.generate_presigned_url("get_object", Params={"Bucket": "media", "Key": "clips/a clip.mp4"}, ExpiresIn=1)
    time.sleep(2.2)
    expired_status, expired_body = fetch(short)
    bad = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key_id, aws_secret_access_key=secret + "x", region_name="us-east-1")
    try:
        bad.put_object(Bucket="media", Key="x", Body=b"x")
        bad_code = "accepted"
    except ClientError as e:
        bad_code = e.response["Error"]["Code"]
    print(json.dumps({
        "sha": hashlib.sha256(data).hexdigest(), "get_sha": hashlib.sha256(got).hexdigest(),
        "link_status": status, "link_sha": hashlib.sha256(linked).hexdigest(),
        "expired_status": expired_status, "expired_body": expired_body.decode(errors="replace"), "bad_secret": bad_code,
    }))


if __name__ == "__main__":
    main()
