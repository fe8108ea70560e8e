import Hummingbird
import NIOCore
import Synchronization

/// When each connection's latest request arrived whole (its end decoded off the wire), before
/// the server's routing and body handling: the "request sent" end of a benchmark's loop gap.
final class ArrivalTimes: Sendable {
    private let times = Mutex<[ObjectIdentifier: ContinuousClock.Instant]>([:])

    func set(_ channel: any Channel, _ instant: ContinuousClock.Instant?) {
        times.withLock { $0[ObjectIdentifier(channel)] = instant }
    }

    func get(_ channel: any Channel) -> ContinuousClock.Instant? {
        times.withLock { $0[ObjectIdentifier(channel)] }
    }
}

/// Stamps each part of a request (head, body, end) as the HTTP decoder delivers it: once the
/// body is collected, the latest stamp is the request's end.
final class ArrivalStamp: ChannelInboundHandler, RemovableChannelHandler {
    /// Parts pass through untouched (their type is HummingbirdCore's request part).
    typealias InboundIn = Any

    let times: ArrivalTimes

    init(times: ArrivalTimes) {
        self.times = times
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        times.set(context.channel, .now)
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        times.set(context.channel, nil)
        context.fireChannelInactive()
    }
}
