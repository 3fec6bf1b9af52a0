import OmniPostCore

extension PlatformFacts {
    /// Our privacy word for the platform's own (`anybody` on Vimeo is `public`): the one asked where it
    /// maps to this word (Vimeo's `contacts` serves both `followers` and `friends`), else the first that
    /// does, else the platform's word as it is (a privacy we have no word for is never ours).
    package func ourPrivacy(_ word: String, asked: Privacy) -> String {
        guard let map = privacy else { return word }
        if map[asked] == word { return asked.rawValue }
        return Privacy.allCases.first { map[$0] == word }?.rawValue ?? word
    }
}
