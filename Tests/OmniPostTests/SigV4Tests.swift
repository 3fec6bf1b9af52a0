import Foundation
import OmniPostCore
import OmniPostWire
import Testing

/// SigV4 against AWS's own worked examples (S3 API reference, "Signature Calculations for the
/// Authorization Header" and "Authenticating Requests: Using Query Parameters").
@Suite struct SigV4Tests {
    static let aws = SigV4(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
    static let date = ISO8601DateFormatter().date(from: "2013-05-24T00:00:00Z")!

    @Test func headerSignatureMatchesAWSsGetObjectExample() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        let h = Self.aws.sign(
            method: "GET", path: "/test.txt", headers: ["host": "examplebucket.s3.amazonaws.com", "range": "bytes=0-9"],
            payloadSHA256: empty, date: Self.date)
        #expect(
            h["Authorization"]
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test func presignedURLMatchesAWSsExample() {
        let url = Self.aws.presignedGET(scheme: "https", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", expires: 86400, date: Self.date)
        #expect(url.contains("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))
        #expect(url.contains("X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"))
    }
}
