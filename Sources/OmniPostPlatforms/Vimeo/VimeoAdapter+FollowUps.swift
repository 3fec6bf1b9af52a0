import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// Vimeo's follow-ups: a subtitle track is a text track ("Working with text tracks",
/// developer.vimeo.com/api/upload/texttracks): `POST /videos/{id}/texttracks` with its type, language
/// and name answers the track and the link its file is PUT to (WebVTT, the format Vimeo's API takes —
/// a SubRip file is sent as the same cues in WebVTT), then `PATCH` the track `active: true`. One made
/// before a kill is found in `GET /videos/{id}/texttracks` by language and name; found but not yet
/// active, its file is PUT again and it is made active (both steps replace what they set).
extension VimeoAdapter: FollowingUp {
    func findFollowUp(_ f: FollowUp, of post: PublishOutcome) async throws -> String? {
        switch f.kind {
        case .playlist, .firstComment: throw f.notTaken(by: platform)
        case .subtitles:
            let uri = "/videos/\(post.remoteId)"
            let (resp, body) = try await call(.GET, uri + "/texttracks")
            guard resp.status == .ok else { throw failure(resp, body, "listing the text tracks of \(uri)") }
            let tracks = (try? JSONDecoder().decode(VimeoWire.TextTracks.self, from: body))?.data ?? []
            guard let t = tracks.first(where: { $0.language?.lowercased() == f.language?.lowercased() && $0.name == f.trackName }) else { return nil }
            if t.active != true { try await finishTrack(t, f) }
            return t.uri
        }
    }

    func makeFollowUp(_ f: FollowUp, on post: PublishOutcome) async throws -> String {
        switch f.kind {
        case .playlist, .firstComment: throw f.notTaken(by: platform)
        case .subtitles:
            _ = try f.subtitleFile()
            let uri = "/videos/\(post.remoteId)"
            let (resp, body) = try await call(
                .POST, uri + "/texttracks", json: VimeoWire.NewTextTrack(type: "subtitles", language: f.language ?? "", name: f.trackName))
            guard resp.status == .created || resp.status == .ok, let t = try? JSONDecoder().decode(VimeoWire.TextTrack.self, from: body) else {
                throw failure(resp, body, "adding the \(f.language ?? "") text track to \(uri)")
            }
            try await finishTrack(t, f)
            return t.uri
        }
    }

    /// The file PUT to the track's link, then the track made active.
    func finishTrack(_ t: VimeoWire.TextTrack, _ f: FollowUp) async throws {
        guard let link = t.link else { throw DeliveryError(.retryNow, .platformError, "Vimeo named no upload link for \(t.uri)") }
        var put = HTTPClientRequest(url: link)
        put.method = .PUT
        put.headers.add(name: "Content-Type", value: "text/vtt")
        put.body = .bytes(ByteBuffer(string: try f.subtitleFile().vtt))
        let resp: HTTPClientResponse
        let body: Data
        do {
            resp = try await settings.uploads.execute(put, timeout: .seconds(Int64(settings.requestTimeout.seconds)))
            body = Data(buffer: try await resp.body.collect(upTo: 1 << 20))
        } catch {
            throw DeliveryError(.retryNow, .networkError, "Vimeo could not be reached: \(error)")
        }
        try UploadRedirect.refuse(
            status: Int(resp.status.code), headers: resp.headers, url: link, what: "while sending the file of \(t.uri) (PUT \(UploadRedirect.bare(link)))", platform: "Vimeo")
        guard (200..<300).contains(Int(resp.status.code)) else { throw failure(resp, body, "sending the file of \(t.uri)") }
        let (r, b) = try await call(.PATCH, t.uri, json: VimeoWire.Activate(active: true))
        guard r.status == .ok else { throw failure(r, b, "making \(t.uri) active") }
    }
}

extension VimeoWire {
    struct NewTextTrack: Encodable {
        var type: String
        var language: String
        var name: String
    }
    struct TextTrack: Decodable {
        var uri: String
        var link: String?
        var language: String?
        var name: String?
        var active: Bool?
    }
    struct TextTracks: Decodable { var data: [TextTrack]? }
}
