import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RingWire

extension RingNode {
    /// Listens for framed activation streams on the node's data port (`ring.transport: framed`) until the task is
    /// cancelled. Each connection is read one frame at a time: a node whose queue is full stops reading, and TCP's
    /// window then holds the sender, as HTTP/2 flow control does on the gRPC side.
    /// - Throws: When the port cannot be bound.
    func serveFrames(host: String) async throws {
        let port = member.port + config.dataPortOffset
        let tls = framedTLS?.server
        let maxBody = maxMessageBytes
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            // A batch of activations is up to megabytes: read it in large pieces, not the default few kilobytes.
            .childChannelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64 << 10, initial: 256 << 10, maximum: 1 << 20)
            )
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .bind(host: host, port: port) { channel in
                FramedStream.configure(channel, tls: tls, server: true, maxBodyBytes: maxBody)
            }
        logger.info("framed activation stream listening", metadata: ["port": "\(port)"])
        try await withTaskCancellationHandler {
            try await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onCancel: {
            server.channel.close(promise: nil)
        }
    }

    /// Reads one peer's frames until it leaves or sends something the node refuses; a refusal is written back
    /// (the sender logs it) and the connection closed. The node keeps serving either way.
    private func serve(_ connection: FramedChannel) async {
        let peer = "\(connection.channel.remoteAddress.map { "\($0)" } ?? "?")"
        do {
            try await connection.executeThenClose { inbound, outbound in
                var checked = config.security == .plaintext
                do {
                    for try await body in inbound {
                        if !checked {
                            // The handshake is done once a frame has arrived: the peer must be a member by name.
                            let name = await FramedStream.peerName(connection.channel)
                            guard let name, check.members.contains(name) else {
                                throw RingError(
                                    .refused, "peer \(name ?? "without a name") is not a member of this ring")
                            }
                            checked = true
                        }
                        try await handle(try FramedStream.frame(body))
                    }
                } catch let error as RingError {
                    logger.warning("refused a framed stream", metadata: ["peer": "\(peer)", "error": "\(error)"])
                    try? await outbound.write(
                        try FramedStream.buffer(.refusal(error.message), allocator: connection.channel.allocator))
                }
            }
        } catch {
            // A peer that left, or whose TLS handshake failed (no certificate, or not from the ring's CA).
            logger.debug("framed stream ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    private func handle(_ frame: RingFrame) async throws {
        switch frame {
        case .activations(let message):
            try check.validate(message)
            _ = await accept(message)
        case .logits(let message):
            guard let sink = sink.withLock({ $0 }) else {
                throw RingError(.refused, "\(config.node) is not the head of the ring")
            }
            _ = await sink(message)
        case .refusal(let reason):
            throw RingError(.refused, "a peer sent a refusal to a receiver: \(reason)")
        }
    }
}
