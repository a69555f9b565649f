import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RingWire

/// This node's connection to one other member: a gRPC client (one HTTP/2 connection, re-established with
/// back-off) for the head's control and health calls, and, for activations and logits (to the head), either
/// long-lived gRPC Forward and Deliver streams or one framed TLS stream to the peer's data port. A message
/// written into a stream that breaks is lost: the head notices the missing result and sends the batch again.
final class PeerLink: Sendable {
    /// What carries this link's activations and logits.
    enum DataStream: Sendable {
        case grpc
        case framed(port: Int, tls: NIOSSLContext?)
    }

    let member: RingMember
    let data: DataStream
    private let maxMessageBytes: Int
    let client: GRPCClient<HTTP2ClientTransport.Posix>
    let options: CallOptions
    private let activations: BoundedQueue<Trapline_Ring_V1_Activations>
    private let logits: BoundedQueue<Trapline_Ring_V1_Logits>
    private let logger: Logger
    /// Whether this link carries logits (it leads to the head).
    private let toHead: Bool

    init(
        member: RingMember, toHead: Bool, security: HTTP2ClientTransport.Posix.TransportSecurity, data: DataStream,
        maxMessageBytes: Int, logger: Logger
    ) throws {
        self.member = member
        self.data = data
        self.maxMessageBytes = maxMessageBytes
        self.toHead = toHead
        var logger = logger
        logger[metadataKey: "peer.name"] = "\(member.name)"
        self.logger = logger
        let transport = try member.clientTransport(
            security: security,
            config: .defaults { config in
                // ../shared/PLATFORM.md: 4 MiB windows and 1 MiB frames gave 5x the default throughput;
                // larger windows broke connections under pipelined streaming.
                config.http2.targetWindowSize = 4 << 20
                config.http2.maxFrameSize = 1 << 20
                config.connection.keepalive = .init(time: .seconds(2), timeout: .seconds(2), allowWithoutCalls: true)
                config.backoff = .init(initial: .milliseconds(100), max: .seconds(2), multiplier: 1.6, jitter: 0.2)
            }
        )
        client = GRPCClient(transport: transport)
        var options = CallOptions.defaults
        options.maxRequestMessageBytes = maxMessageBytes
        options.maxResponseMessageBytes = maxMessageBytes
        self.options = options
        activations = BoundedQueue(capacity: 2)
        logits = BoundedQueue(capacity: 8)
    }

    var ring: Trapline_Ring_V1_Ring.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var control: Trapline_Ring_V1_Control.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var health: Grpc_Health_V1_Health.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }

    /// Queues activations for the peer (waits while two are already waiting).
    func send(_ message: Trapline_Ring_V1_Activations) async { await activations.push(message) }

    /// Queues logits for the peer, which is the head.
    func send(_ message: Trapline_Ring_V1_Logits) async { await logits.push(message) }

    /// Runs the connection and both streams until the task is cancelled.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await self.client.runConnections() }
            switch data {
            case .grpc:
                group.addTask { await self.forwardLoop() }
                if toHead { group.addTask { await self.deliverLoop() } }
            case .framed(let port, let tls):
                group.addTask { await self.framedLoop(port: port, tls: tls) }
            }
            await withTaskCancellationHandler {
                await group.next()
            } onCancel: {
                self.client.beginGracefulShutdown()
            }
            group.cancelAll()
            await activations.close()
            await logits.close()
            self.client.beginGracefulShutdown()
        }
    }

    private func forwardLoop() async {
        await keepStreaming("forward", from: activations) { request in
            try await self.ring.forward(request: request, options: self.options) { response in
                for try await _ in response.messages {}
            }
        }
    }

    private func deliverLoop() async {
        await keepStreaming("deliver", from: logits) { request in
            try await self.ring.deliver(request: request, options: self.options) { response in
                for try await _ in response.messages {}
            }
        }
    }

    /// Keeps one framed stream open to the peer's data port, writing whatever either queue holds. When it breaks
    /// (or the peer refuses something and closes it), what was queued is dropped and the stream is reopened.
    private func framedLoop(port: Int, tls: NIOSSLContext?) async {
        await reconnecting("framed", drop: { await self.activations.drain().count + self.logits.drain().count }) {
            try await self.framedSession(port: port, tls: tls)
        }
    }

    /// One connection to the peer's data port, until it breaks.
    private func framedSession(port: Int, tls: NIOSSLContext?) async throws {
        let maxBody = maxMessageBytes
        let connection = try await FramedStream.options(
            ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        )
        .connectTimeout(.seconds(2))
        .connect(host: member.host, port: port) { channel in
            FramedStream.configure(channel, tls: tls, server: false, maxBodyBytes: maxBody)
        }
        try await connection.executeThenClose { inbound, outbound in
            let allocator = connection.channel.allocator
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while let message = await self.activations.pop() {
                        try await outbound.write(
                            try FramedStream.buffer(.activations(message), allocator: allocator))
                    }
                }
                if self.toHead {
                    group.addTask {
                        while let message = await self.logits.pop() {
                            try await outbound.write(
                                try FramedStream.buffer(.logits(message), allocator: allocator))
                        }
                    }
                }
                group.addTask {
                    // The receiver sends nothing but a refusal, just before it closes the stream.
                    for try await body in inbound {
                        if case .refusal(let reason) = try FramedStream.frame(body) {
                            self.logger.error("peer refused a frame", metadata: ["reason": "\(reason)"])
                        }
                    }
                    throw RingError(.unreachable, "\(self.member.name) closed the framed stream")
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// Keeps one stream open to the peer, writing whatever the queue holds.
    private func keepStreaming<Message: Sendable>(
        _ stream: String, from queue: BoundedQueue<Message>,
        call: @escaping @Sendable (StreamingClientRequest<Message>) async throws -> Void
    ) async {
        await reconnecting(stream, drop: { await queue.drain().count }) {
            try await call(
                StreamingClientRequest { writer in
                    while let message = await queue.pop() { try await writer.write(message) }
                })
        }
    }

    /// Runs `session` again and again until the task is cancelled. When it fails, the break is logged once (until a
    /// session ends cleanly again), what the link had queued is dropped (the head resends it), and after a short
    /// pause it is tried again.
    private func reconnecting(
        _ stream: String, drop: () async -> Int, session: () async throws -> Void
    ) async {
        var healthy = true
        while !Task.isCancelled {
            do {
                try await session()
                healthy = true
            } catch {
                if healthy, !Task.isCancelled {
                    logger.warning(
                        "link to peer broke; retrying", metadata: ["link.stream": "\(stream)", "error": "\(error)"])
                }
                healthy = false
                let dropped = await drop()
                if dropped > 0 {
                    logger.debug("dropped messages for an unreachable peer", metadata: ["count": "\(dropped)"])
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
