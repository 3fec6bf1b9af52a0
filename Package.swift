// swift-tools-version: 6.1
import PackageDescription

// Layered libraries with a thin executable on top (shared/design/STYLE.md):
// Core (errors, config, manifests, profiles) ← Ledger ← Media / Ingest / Platforms ← Pipeline ← omnipost.
// The sandbox depends only on Core so it can ship as a product feature of its own; the pipeline does not
// know it: OmniPostEmbedded wires it in (a `PlatformEmbedding`) for the executable, the bench and the tests.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6)
]

let package = Package(
    name: "omnipost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "omnipost", targets: ["omnipost"]),
        .library(name: "OmniPostPipeline", targets: ["OmniPostPipeline"]),
        .library(name: "OmniPostSandbox", targets: ["OmniPostSandbox"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        // Reddit names a WebSocket that says how a submitted video ended: a client in the adapter, a server in the sandbox.
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        // `/metrics` in Prometheus's text format, written by its maintained library.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // The dashboard's pages: HTML from Mustache templates shipped as resources (no build step, no JS framework).
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // Already pulled in by the HTTP client and server; named so their modules can be imported directly.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // TLS for the sandbox's HTTPS listener (Reddit's media host is https: by protocol) and extra trusted CAs.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // The ledger on PostgreSQL for several hosts sharing one (docs/several-hosts.md).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2")
    ],
    targets: [
        // XXH3-128 from Debian's libxxhash (libxxhash-dev): the changed-file check's hash, at wire speed
        // (PinnedReader); sha256 stays the identity (duplicates, the protocols that name it).
        .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .target(
            name: "OmniPostCore",
            dependencies: [
                "CXXHash",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess")
            ],
            resources: [.copy("Resources/profiles.yaml")],
            swiftSettings: swiftSettings
        ),
        // Wire formats an adapter and its sandbox both speak (SigV4, S3's XML, the AT Protocol's TIDs and
        // CIDs, the webhook signature): OmniPost's own concepts stay in Core.
        // CRC-32C with the CPU's own instruction (SSE4.2, ARMv8 CRC): S3's per-part checksum over HTTPS.
        .target(name: "CCRC32C"),
        .target(
            name: "OmniPostWire",
            dependencies: ["CCRC32C", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OmniPostLedger",
            dependencies: [
                "OmniPostCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log")
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OmniPostMedia",
            dependencies: [
                "OmniPostCore",
                .product(name: "Subprocess", package: "swift-subprocess")
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OmniPostIngest",
            dependencies: ["OmniPostCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OmniPostPlatforms",
            dependencies: [
                "OmniPostCore", "OmniPostWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket")
            ],
            // The driven-browser platforms' recipes (docs/recipes.md).
            resources: [.copy("Resources/recipes")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OmniPostSandbox",
            dependencies: [
                "OmniPostCore", "OmniPostWire",
                // Only for the registry's list: each sandbox folder names its platform there
                // (`SandboxedPlatform`), so a new platform adds one registry line, not two. The sandbox
                // speaks the platforms' documented protocols; it never calls an adapter.
                "OmniPostPlatforms",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                // Threads fetches media from a URL: so does its sandbox.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log")
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OmniPostPipeline",
            dependencies: [
                "OmniPostCore", "OmniPostLedger", "OmniPostMedia", "OmniPostIngest", "OmniPostPlatforms", "OmniPostWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                // Its connection cap (MaximumAvailableConnections) for the listener.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log")
            ],
            resources: [.copy("Resources/dashboard")],
            swiftSettings: swiftSettings
        ),
        // The composition: the embedded sandbox handed to the pipeline as its `PlatformEmbedding`.
        .target(
            name: "OmniPostEmbedded",
            dependencies: [
                "OmniPostCore", "OmniPostPlatforms", "OmniPostSandbox", "OmniPostPipeline",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "omnipost",
            dependencies: [
                "OmniPostPipeline", "OmniPostPlatforms", "OmniPostSandbox", "OmniPostEmbedded",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "omnipost-bench",
            dependencies: [
                "OmniPostPipeline", "OmniPostLedger", "OmniPostPlatforms", "OmniPostEmbedded", .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "Crypto", package: "swift-crypto")
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OmniPostTests",
            dependencies: [
                "OmniPostCore", "OmniPostLedger", "OmniPostMedia", "OmniPostIngest",
                "OmniPostPlatforms", "OmniPostSandbox", "OmniPostPipeline", "OmniPostEmbedded", "OmniPostWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's own counters (sqlite3_db_status) for IdleMemoryTests.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
            ],
            swiftSettings: swiftSettings
        )
    ]
)
