import Foundation
import OmniPostCore

extension Planner {
    /// `plan` for a target asked to burn a subtitle track in (`burn_subtitles`): the picture changes, so
    /// this target's rendition is a transcode whatever the clip was — the frame the profile's plan would
    /// make, or the clip's own where it needed none. `why` says why this target burns (it takes no track,
    /// or its own override asks), in the plan's words.
    package func plan(_ info: MediaInfo, for profile: Profile, burning subtitles: String, named: String, because why: String) -> Decision {
        var d = plan(info, for: profile)
        guard d.kind != .reject, let v = info.video else { return d }
        var spec = d.spec?.kind == .transcode ? d.spec! : transcodeSpec(info, v, profile: profile, aspectOK: profile.aspect.contains(v.aspect), audioOK: d.kind != .audio)
        spec.burnSubtitles = subtitles
        d.kind = .transcode
        d.spec = spec
        d.reasons.append("subtitles \(named) burned into the picture for this target only (\(why)), so its video is re-encoded")
        return d
    }
}
