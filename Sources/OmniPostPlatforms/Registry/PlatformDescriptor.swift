import OmniPostCore

/// Everything OmniPost knows of a platform besides its media and text limits (those are profiles.yaml): where
/// its API and token endpoint are, how its accounts authorize, what `accounts:` needs, which profile
/// and quota list its targets use by default. One value per platform, in the platform's own folder.
package struct PlatformDescriptor: Sendable {
    package struct OAuth: Sendable {
        /// Where a user grants access (used to connect an account).
        package var authorizeURL: String
        package var tokenURL: String
        package var scopes: [String]
        /// The form field naming the client in token requests: `client_id`, or TikTok's `client_key`.
        package var clientIDField: String = "client_id"
        /// The platform hands out a new refresh token with each refresh (stored before it is used).
        package var rotatesRefreshTokens: Bool = false
        /// How a confidential client proves itself at the token endpoint: its id and secret in the form
        /// (Google, TikTok, LinkedIn), or HTTP Basic (X: `Authorization: Basic base64(id:secret)`).
        package enum ClientAuthentication: Sendable { case form, basic }
        package var clientAuthentication: ClientAuthentication = .form
        /// How a fresh access token is had: OAuth 2's `grant_type=refresh_token`, or Meta's exchange of a
        /// long-lived token for a new one (`grant_type=fb_exchange_token`, a GET): there the account's
        /// `refresh_token` holds the long-lived token, and each exchange's result replaces it.
        /// Threads: `GET refresh_access_token?grant_type=th_refresh_token&access_token=<long-lived>`.
        /// `.lasting`: the access token does not expire and there is nothing to refresh (Vimeo); a refused
        /// one means a person connects the account again.
        package enum RefreshStyle: Sendable { case refreshToken, metaExchange, threadsRefresh, lasting }
        package var refreshStyle: RefreshStyle = .refreshToken
        /// What the consent URL adds for a grant that lasts (Google: `access_type=offline`,
        /// `prompt=consent`; Reddit: `duration=permanent`).
        package var authorizeParameters: [String: String] = [:]
        /// How scopes are joined in the consent URL (TikTok: commas; most: spaces).
        package var scopeSeparator = " "
        /// The device authorization endpoint (RFC 8628), where the provider offers one (Google): a NAS
        /// without a browser shows a code to type in on another device.
        package var deviceAuthorizationURL: String?
        /// Where the bundled sandbox serves it.
        package var sandboxDevicePath: String?
        /// Scopes asked for at connect beside `scopes` but not needed to publish (YouTube Analytics'
        /// `yt-analytics.readonly`): a grant without them is stored, and the insights it would read are
        /// recorded once as not granted.
        package var insightsScopes: [String] = []
        /// Everything the consent asks for.
        package var requestedScopes: [String] { scopes + insightsScopes.filter { !scopes.contains($0) } }
        /// How a code becomes a token: OAuth's form POST to the token endpoint; Meta's Graph GET
        /// (`oauth/access_token?code=…`); Threads' POST to its own `/oauth/access_token`. Meta's and
        /// Threads' code gives a short-lived token, exchanged at once for a long-lived one (the
        /// `refreshStyle` says how).
        /// `json`: the same fields as `form`, as a JSON body (Douyin's `/oauth/access_token/`).
        /// `query`: the fields in the query string of a GET, the refresh's too (Kuaishou's
        /// `oauth2/access_token` and `oauth2/refresh_token`: app_id, app_secret, grant_type).
        package enum CodeGrant: Sendable { case form, graphGET, threadsPOST, json, query }
        package var codeGrant: CodeGrant = .form
        /// Where a refresh is sent when it is not the token endpoint itself, resolved against the token
        /// endpoint's URL (Douyin: `../refresh_token/`, while codes go to `/oauth/access_token/`).
        package var refreshPath: String?
        /// Whether a refresh names the client's secret as well as its id (Douyin's names only `client_key`).
        package var refreshSendsSecret = true
        /// The field naming the client's secret at the token endpoint (Kuaishou: `app_secret`).
        package var secretField = "client_secret"
        /// Where a refresh token that lapses on its own is renewed, resolved as `refreshPath` is, and
        /// how close to its end that is done (Douyin: `../renew_refresh_token/`, 30 more days, at
        /// most five times): renewed at a refresh that finds less than `renewWithin` left.
        package var renewPath: String?
        package var renewWithin: Double = 0
        /// The platform's own error codes (in an enveloped answer, `data.error_code`) that mean the grant
        /// is gone and a person must authorize again (Douyin: 10010, the refresh token expired).
        package var deadGrantErrors: Set<String> = []
        package init(
            authorizeURL: String, tokenURL: String, scopes: [String], clientIDField: String = "client_id", rotatesRefreshTokens: Bool = false,
            clientAuthentication: ClientAuthentication = .form, refreshStyle: RefreshStyle = .refreshToken,
            authorizeParameters: [String: String] = [:]
        ) {
            self.authorizeParameters = authorizeParameters
            self.refreshStyle = refreshStyle
            self.authorizeURL = authorizeURL
            self.tokenURL = tokenURL
            self.scopes = scopes
            self.clientIDField = clientIDField
            self.rotatesRefreshTokens = rotatesRefreshTokens
            self.clientAuthentication = clientAuthentication
        }
    }

    /// What a target on this platform can do, as the README's platform table shows it.
    package struct Capabilities: Sendable {
        /// How bytes go up, and how an interrupted upload continues.
        package var upload: String
        /// The platform publishes at a given time by itself (otherwise OmniPost holds the delivery).
        package var nativeScheduling: Bool
        package var covers: String
        /// How an upload interrupted in the uncertain window is settled without a second post.
        package var reconcile: String
        package var quotas: String
        package init(upload: String, nativeScheduling: Bool, covers: String, reconcile: String, quotas: String) {
            self.upload = upload
            self.nativeScheduling = nativeScheduling
            self.covers = covers
            self.reconcile = reconcile
            self.quotas = quotas
        }
    }

    /// The name targets and accounts use: `youtube` in `youtube:main`.
    package var name: String
    package var displayName: String
    /// API root the adapter talks to (an account's `endpoint:` replaces it).
    package var apiRoot: String
    /// How its accounts authorize; nil for a destination that takes keys or nothing (S3, a folder, a webhook).
    package var oauth: OAuth?
    /// Where the bundled sandbox serves this platform's token endpoint, under its one base URL.
    package var sandboxTokenPath: String
    /// The profile (profiles.yaml) a target uses unless it names another; quotas are kept per platform name.
    package var defaultProfile: String
    /// What an entry under `accounts:` needs, for `check` and the README's table.
    package var accountFields: [String] = ["client_id", "client_secret", "refresh_token"]
    package var capabilities: Capabilities
    /// The platform fetches media from a URL (Threads): its targets need the pipeline's `media_host:`.
    package var needsMediaHost = false
    /// A video post needs a poster image (Reddit): without a cover, OmniPost takes a frame of the clip.
    package var needsPoster = false
    /// Its sandbox needs the HTTPS listener (Reddit's media host is `https:` by protocol).
    package var sandboxTLS = false
    /// The settings an account of this platform may have besides the common ones (`bucket`, `path`,
    /// `url`…); any other key is refused at its line, with a did-you-mean.
    package var settings: [String] = []
    /// Published by driving its web page in a browser (a recipe), not by an API: its posts need Chromium
    /// and go one at a time, so a test that posts hundreds (the crash test) leaves it to its own tests.
    package var drivenBrowser = false
    /// What a sidecar may say to it: the privacy words it has (and its own word for each), the
    /// `overrides:` keys with their allowed values, and the options a post needs. Text limits are the profile's.
    package var facts: PlatformFacts
    /// The part sizes its chunked upload takes; nil where any size goes (or the platform names them per upload).
    package var parts: PartSizes?
    /// Where requests carry the access token: `Authorization: Bearer` (most), a header of the
    /// platform's own (Douyin: `access-token`), or a query parameter (Bilibili's open platform: `access_token`).
    package enum TokenHeader: Sendable { case bearer, named(String), query(String) }
    package var tokenHeader: TokenHeader = .bearer
    /// A reply that refuses the token without a 401 (Douyin: HTTP 200, `data.error_code` 2190008):
    /// the token is refreshed once and the request repeated.
    package var tokenRefused: (@Sendable (AuthorizedHTTP.Reply) -> Bool)? = nil
    /// How often a status may be read while the platform processes an upload (TikTok's status/fetch: 30 a
    /// minute per token); nil where the platform names its own waits or there is nothing to wait for.
    package var statusPolling: PollPolicy?
    /// Its accounts keep credentials in the ledger (tokens, a session): false for a destination whose
    /// account entry holds all it needs (a folder, a bucket's keys, a webhook's secret, a program), so
    /// the dashboard never calls one "not connected".
    package var storesCredentials = true
    /// How its posts are read back after publishing (verified live, their numbers): ids per read and
    /// quota units per read, or why there is nothing to read.
    package var readBack: ReadBack = .reads(batch: 1, cost: 0)
    /// Its second API for a post's numbers (`PlatformAdapter.readInsights`); nil where the read-back has all it offers.
    package var insights: Insights?
    /// The follow-ups its adapter makes after a post (`FollowingUp`): a subtitle track where the platform
    /// takes one. A drop's extras go only to targets that list them; `burn_subtitles` burns a track into
    /// the picture for one that does not take subtitles.
    package var followUps: Set<FollowUp.Kind> = []

    package init(
        name: String, displayName: String, apiRoot: String, oauth: OAuth?, sandboxTokenPath: String, defaultProfile: String? = nil,
        accountFields: [String] = ["client_id", "client_secret", "refresh_token"], capabilities: Capabilities, facts: PlatformFacts? = nil,
        parts: PartSizes? = nil, statusPolling: PollPolicy? = nil, readBack: ReadBack = .reads(batch: 1, cost: 0)
    ) {
        self.readBack = readBack
        self.facts = facts ?? PlatformFacts(platform: name, displayName: displayName)
        self.parts = parts
        self.statusPolling = statusPolling
        self.capabilities = capabilities
        self.name = name
        self.displayName = displayName
        self.apiRoot = apiRoot
        self.oauth = oauth
        self.sandboxTokenPath = sandboxTokenPath
        self.defaultProfile = defaultProfile ?? name
        self.accountFields = accountFields
    }
}

extension PlatformDescriptor {
    /// The descriptor with the follow-ups its adapter makes after a post. A platform that takes a first
    /// comment takes a target's own too (`overrides: {<target>: {first_comment: …}}`): one fact, one key.
    package func following(_ kinds: Set<FollowUp.Kind>) -> PlatformDescriptor {
        var d = self
        d.followUps = kinds
        if kinds.contains(.firstComment), !d.facts.options.contains(where: { $0.key == "first_comment" }) {
            d.facts.options.append(OptionRule("first_comment"))
        }
        return d
    }
}
