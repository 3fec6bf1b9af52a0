"""AWS's own SDK for Python (boto3, from PyPI) against the OmniPost sandbox's S3.

Run by the Swift test suite (SandboxOfficialClientTests) with the virtualenv `make test` creates, with
the SDK's defaults (its checksums and body encoding included): create a bucket, put an object, read it
back signed and through a presigned link, a multipart upload by the transfer manager, one listed and
aborted by hand, let a short link expire, and sign with a wrong secret.
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
    # Multipart, as the SDK's transfer manager does it (5 MiB parts), with metadata and a storage class;
    # then a multipart upload listed and aborted by hand.
    from boto3.s3.transfer import TransferConfig
    big = path + ".big"
    with open(big, "wb") as f:
        f.write(data * 4)
    s3.upload_file(big, "media", "big/clip.mp4", ExtraArgs={"ContentType": "video/mp4", "Metadata": {"team": "video"}, "StorageClass": "STANDARD_IA"},
                   Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=1))
    head = s3.head_object(Bucket="media", Key="big/clip.mp4")
    got_big = s3.get_object(Bucket="media", Key="big/clip.mp4")["Body"].read()
    mp = s3.create_multipart_upload(Bucket="media", Key="aborted.mp4")
    s3.upload_part(Bucket="media", Key="aborted.mp4", PartNumber=1, UploadId=mp["UploadId"], Body=b"x" * 1000)
    listed = s3.list_parts(Bucket="media", Key="aborted.mp4", UploadId=mp["UploadId"])["Parts"]
    s3.abort_multipart_upload(Bucket="media", Key="aborted.mp4", UploadId=mp["UploadId"])
    try:
        s3.list_parts(Bucket="media", Key="aborted.mp4", UploadId=mp["UploadId"])
        after_abort = "listed"
    except ClientError as e:
        after_abort = e.response["Error"]["Code"]
    # A part whose checksum header does not match its bytes: refused as S3 refuses it (400 BadDigest),
    # nothing stored; the same part with its right CRC-32C (what OmniPost sends over HTTPS) is taken.
    mp2 = s3.create_multipart_upload(Bucket="media", Key="digest.mp4", ChecksumAlgorithm="CRC32C")
    try:
        s3.upload_part(Bucket="media", Key="digest.mp4", PartNumber=1, UploadId=mp2["UploadId"], Body=b"y" * 1000, ChecksumCRC32C="AAAAAA==")
        bad_digest = "accepted"
    except ClientError as e:
        bad_digest = e.response["Error"]["Code"]
    good = s3.upload_part(Bucket="media", Key="digest.mp4", PartNumber=1, UploadId=mp2["UploadId"], Body=b"y" * 1000, ChecksumCRC32C=sys.argv[5])
    s3.complete_multipart_upload(Bucket="media", Key="digest.mp4", UploadId=mp2["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": good["ETag"], "ChecksumCRC32C": good.get("ChecksumCRC32C", "")}]})
    digest_len = s3.head_object(Bucket="media", Key="digest.mp4")["ContentLength"]
    bad = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key_id, aws_secret_access_key=secret + "x", region_name="us-east-1")
    try:
        bad.put_object(Bucket="media", Key="x", Body=b"x")
        bad_code = "accepted"
    except ClientError as e:
        bad_code = e.response["Error"]["Code"]
    print(json.dumps({
        "sha": hashlib.sha256(data).hexdigest(), "get_sha": hashlib.sha256(got).hexdigest(),
        "link_status": status, "link_sha": hashlib.sha256(linked).hexdigest(),
        "big_sha": hashlib.sha256(data * 4).hexdigest(), "got_big_sha": hashlib.sha256(got_big).hexdigest(),
        "big_etag": head["ETag"], "big_meta": head.get("Metadata", {}), "big_class": head.get("StorageClass", ""),
        "listed": [[p["PartNumber"], p["Size"]] for p in listed], "after_abort": after_abort,
        "bad_digest": bad_digest, "digest_len": digest_len,
        "expired_status": expired_status, "expired_body": expired_body.decode(errors="replace"), "bad_secret": bad_code,
    }))


if __name__ == "__main__":
    main()
