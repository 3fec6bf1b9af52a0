import Foundation
import OmniPostCore

extension Planner {
    /// `plan` for a target that takes no subtitle track and is asked to burn one in (`burn_subtitles`):
    /// the picture changes, so the rendition is a transcode whatever the clip was — the frame the
    /// profile's plan would make, or the clip's own where it needed none.
    package func plan(_ info: MediaInfo, for profile: Profile, burning subtitles: String, named: String) -> Decision {
        var d = plan(info, for: profile)
        guard d.kind != .reject, let v = info.video else { return d }
        var spec = d.spec?.kind == .transcode ? d.spec! : transcodeSpec(info, v, profile: profile, aspectOK: profile.aspect.contains(v.aspect), audioOK: d.kind != .audio)
        spec.burnSubtitles = subtitles
        d.kind = .transcode
        d.spec = spec
        d.reasons.append("subtitles \(named) burned into the picture (burn_subtitles: \(profile.name) takes no subtitle track), so the video is re-encoded")
        return d
    }
}
