import Foundation

extension UploadJob {
    /// A cover set after the video exists, as every platform that takes an image then does it (YouTube's
    /// thumbnail, Vimeo's picture): `set` sends the image. A transient failure it cannot get past throws,
    /// leaving the delivery for the next attempt, which finds the video whole and sets the cover then. A
    /// refusal for good, or a cover file gone, is noted on the outcome without failing the video, which
    /// is up already.
    package func settingCover(
        on out: PublishOutcome, _ set: (_ path: String, _ image: Data) async throws -> Void
    ) async throws -> PublishOutcome {
        guard let cover = coverPath else { return out }
        var out = out
        guard let image = FileManager.default.contents(atPath: cover) else {
            out.coverSet = false
            out.coverError = "cover \(cover) missing"
            return out
        }
        do {
            try await set(cover, image)
            out.coverSet = true
        } catch let e as DeliveryError where e.kind == .permanent {
            out.coverSet = false
            out.coverError = e.message
        }
        return out
    }
}
