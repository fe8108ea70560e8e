import NIOCore
import Synchronization

/// Set once the peer of a connection has gone away (closed its side, reset, or the channel died).
final class ClientGoneFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    func set() { value.store(true, ordering: .releasing) }
}

/// Watches a server connection for the client leaving, which Hummingbird does not report to a
/// response body that is not writing: it sees the read side's EOF (`inputClosed`, since the
/// server allows half-closure), `channelInactive`, or a socket error.
final class ClientGoneHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    let flag: ClientGoneFlag

    init(flag: ClientGoneFlag) {
        self.flag = flag
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            flag.set()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        flag.set()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        flag.set()
        context.fireErrorCaught(error)
    }

    /// Adds the handler at the head of `channel`'s pipeline unless it is there already, and
    /// returns its flag.
    static func install(on channel: any Channel) async throws -> ClientGoneFlag {
        try await channel.eventLoop.submit {
            let pipeline = channel.pipeline.syncOperations
            if let existing = try? pipeline.handler(type: ClientGoneHandler.self) {
                return existing.flag
            }
            let flag = ClientGoneFlag()
            if !channel.isActive { flag.set() }
            try pipeline.addHandler(ClientGoneHandler(flag: flag), position: .first)
            return flag
        }.get()
    }
}
