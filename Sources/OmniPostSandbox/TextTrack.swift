import Foundation

/// A subtitle track a platform's sandbox holds for one of its videos (YouTube's caption, Vimeo's text
/// track, Facebook's caption): what tests read back — its language, name and the file received.
package struct SandboxTextTrack: Sendable, Codable, Equatable {
    package var id: String
    package var language: String
    package var name: String
    /// The file as received (SubRip or WebVTT text).
    package var text: String
    /// Vimeo's `active` (a track shows only once made active); true where a platform has no such step.
    package var active = true
    /// Vimeo's `type` (captions, subtitles, chapters…), as the track was made; nil where a platform has none.
    package var kind: String? = nil
}

extension SandboxState {
    /// The tracks of a video kept in the shared list (YouTube's); other platforms keep theirs in their own world.
    package func captions(of videoID: String) -> [SandboxTextTrack] { videos.first { $0.id == videoID }?.captions ?? [] }

    func addCaption(_ t: SandboxTextTrack, to videoID: String) {
        guard let i = videos.firstIndex(where: { $0.id == videoID }) else { return }
        let captions = (videos[i].captions ?? []) + [t]
        videos[i].captions = captions
    }
}

extension SandboxState {
    /// Whether the answer to a follow-up just made is lost (`Faults.loseFollowUpReplies`).
    func losesFollowUpReply() -> Bool {
        guard faults.loseFollowUpReplies > 0 else { return false }
        faults.loseFollowUpReplies -= 1
        return true
    }
}
