import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import RingWire
import X509

/// Splits the byte stream into frame bodies (see `RingFrame`), refusing any frame longer than the largest message
/// the ring carries before its bytes are buffered.
struct FrameSplitter: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxBodyBytes: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard Int(length) <= maxBodyBytes else {
            throw RingError(.malformed, "a frame of \(length) bytes is larger than the ring's limit of \(maxBodyBytes)")
        }
        guard buffer.readableBytes >= RingFrame.lengthBytes + Int(length) else {
            // Room for the whole frame at once, instead of growing the buffer step by step as a large batch arrives.
            buffer.reserveCapacity(minimumWritableBytes: RingFrame.lengthBytes + Int(length) - buffer.readableBytes)
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: RingFrame.lengthBytes)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }
}

/// Closes a server-side connection whose TLS handshake has not completed within `seconds`: without it, anyone who
/// can reach the data port could hold connections open by never saying a word.
final class HandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    let seconds: Int64
    private var timer: Scheduled<Void>?

    init(seconds: Int64) { self.seconds = seconds }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: .seconds(seconds)) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            timer?.cancel()
            timer = nil
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// The channel type of a framed stream: frame bodies in, whole frames out.
typealias FramedChannel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

enum FramedStream {
    /// How long a peer has to complete the TLS handshake on the data port.
    static let handshakeSeconds: Int64 = 10

    /// Sets up a new connection's pipeline: TLS (when the ring uses it), then frame splitting.
    static func configure(
        _ channel: any Channel, tls: NIOSSLContext?, server: Bool, maxBodyBytes: Int
    ) -> EventLoopFuture<FramedChannel> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            if let tls {
                if server {
                    try pipeline.addHandler(NIOSSLServerHandler(context: tls))
                    try pipeline.addHandler(HandshakeDeadline(seconds: handshakeSeconds))
                } else {
                    // Peers are checked against the ring's CA and then by name, not by host name.
                    try pipeline.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: nil))
                }
            }
            try pipeline.addHandler(ByteToMessageHandler(FrameSplitter(maxBodyBytes: maxBodyBytes)))
            return try FramedChannel(
                wrappingChannelSynchronously: channel,
                configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 2)))
        }
    }

    /// A whole frame, written into one buffer of the channel's allocator.
    static func buffer(_ frame: RingFrame, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let (prefix, payload) = try frame.split()
        var buffer = allocator.buffer(capacity: prefix.count + payload.count)
        buffer.writeBytes(prefix)
        buffer.writeBytes(payload)
        return buffer
    }

    /// Parses a frame body.
    static func frame(_ body: ByteBuffer) throws -> RingFrame {
        try body.withUnsafeReadableBytes { try RingFrame(body: $0) }
    }

    /// The common name on the peer's certificate, once the TLS handshake is done; nil without TLS or certificate.
    static func peerName(_ channel: any Channel) async -> String? {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get(),
            let der = try? certificate.toDERBytes(),
            let parsed = try? Certificate(derEncoded: der)
        else { return nil }
        return RingCredentials.commonName(parsed)
    }

    /// Socket options for a ring connection: no Nagle delay, and a connection whose peer has gone silent (a cut
    /// network, a frozen machine) fails within seconds, as gRPC's keepalive makes it fail, so that what was
    /// queued for it is dropped (the head resends it) instead of waiting on a dead socket.
    static func options<Bootstrap: NIOClientTCPBootstrapProtocol>(_ bootstrap: Bootstrap) -> Bootstrap {
        var bootstrap = bootstrap.channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
        #if os(Linux)
            // netinet/tcp.h: TCP_KEEPIDLE 4, TCP_KEEPINTVL 5, TCP_KEEPCNT 6, TCP_USER_TIMEOUT 18 (all Linux ABIs).
            bootstrap = bootstrap.channelOption(.tcpOption(.init(rawValue: 4)), value: 2)
                .channelOption(.tcpOption(.init(rawValue: 5)), value: 1)
                .channelOption(.tcpOption(.init(rawValue: 6)), value: 2)
                .channelOption(.tcpOption(.init(rawValue: 18)), value: 4000)
        #endif
        return bootstrap
    }
}
