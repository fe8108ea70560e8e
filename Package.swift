// swift-tools-version: 6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "cma",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cma", targets: ["cma"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .target(
            name: "CMAJSON",
            swiftSettings: swiftSettings
        ),
        // ZIP archives (skills), read with our own inflater.
        .target(name: "Archive", swiftSettings: swiftSettings),
        .target(
            name: "AgentsAPI",
            dependencies: ["CMAJSON", "Archive"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Sandbox",
            dependencies: [
                "CMAJSON",
                "LoopDevice",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Tools",
            dependencies: ["AgentsAPI", "Sandbox"],
            swiftSettings: swiftSettings
        ),
        // Run (as root) to start a sandbox: joins its cgroups, sets rlimits, drops to the
        // sandbox's own uid, then executes bubblewrap. It and the agent below are static
        // executables (libc included): every sandbox start runs both, and without the dynamic
        // loader's work each starts in ~1 ms instead of ~3.
        // Attaching workspace images to loop devices (the launcher, and the server for spares).
        .target(name: "LoopDevice", swiftSettings: swiftSettings),
        .executableTarget(
            name: "cma-launch",
            dependencies: ["LoopDevice"],
            swiftSettings: swiftSettings,
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        // The agent inside each sandbox: fully static, so it needs nothing from the host.
        .executableTarget(
            name: "cma-sandbox",
            dependencies: ["CMAJSON"],
            swiftSettings: swiftSettings,
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        .target(
            name: "Storage",
            dependencies: [
                "AgentsAPI",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelProviders",
            dependencies: [
                "AgentsAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The MCP client: streamable HTTP (on async-http-client) and stdio (in a sandbox).
        .target(
            name: "MCP",
            dependencies: [
                "CMAJSON",
                "Sandbox",
                "ModelProviders",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Runtime",
            dependencies: [
                "AgentsAPI",
                "Storage",
                "ModelProviders",
                "Sandbox",
                "Tools",
                "MCP",
                "Archive",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Server",
            dependencies: [
                "AgentsAPI",
                "Storage",
                "Runtime",
                "ModelProviders",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The behaviour of the MCP servers the tests run (stdio and HTTP).
        .target(name: "MCPTestLogic", dependencies: ["CMAJSON"], swiftSettings: swiftSettings),
        // A tiny MCP server over stdio, for tests: static, so it runs inside sandboxes.
        .executableTarget(
            name: "mcp-test-server",
            dependencies: ["CMAJSON", "MCPTestLogic"],
            swiftSettings: swiftSettings,
            linkerSettings: [.unsafeFlags(["-static-stdlib"])]
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "MCPTestLogic",
                "Archive",
                "AgentsAPI",
                "ModelProviders",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "scripted-model-server",
            dependencies: [
                "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "cma",
            dependencies: [
                "Server",
                "Tools",
                "Storage",
                "Runtime",
                "ModelProviders",
                "Sandbox",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "cma-bench",
            dependencies: [
                "AgentsAPI", "Runtime", "Sandbox", "Storage", "ModelProviders", "TestSupport", "Server",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "AgentsAPITests", dependencies: ["AgentsAPI", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "CMAJSON", "LoopDevice", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ToolsTests", dependencies: ["Tools", "AgentsAPI", "Archive"], swiftSettings: swiftSettings),
        .testTarget(name: "SandboxAgentTests", dependencies: ["CMAJSON"], swiftSettings: swiftSettings),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "AgentsAPI"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ModelProvidersTests",
            dependencies: ["AgentsAPI", "ModelProviders", "TestSupport", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: swiftSettings),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "Storage", "AgentsAPI", "ModelProviders", "TestSupport", "Sandbox"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Runtime", "Storage", "AgentsAPI", "ModelProviders", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
