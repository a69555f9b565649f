import Dispatch
import FoundationEssentials
import GRPCCore
import GRPCNIOTransportHTTP2
import Inference
import Logging
import NIOSSL
import RingWire
import Synchronization

/// One member of the ring: it serves the ring's gRPC services, queues the batches that reach it (bounded),
/// computes its hop's slices and passes the result on, to the next hop or, after the last slice, to the head.
/// The head is a node like the others; it also owns a `RingHead`, which feeds it and collects the logits.
public final class RingNode: Sendable {
    public let config: RingConfig
    public let modelID: String
    let runner: SliceRunner
    let levelCount: Int
    let maxBatch: Int
    /// The largest message the ring accepts: the largest activation batch any boundary can carry, plus room.
    public let maxMessageBytes: Int
    let queue: BoundedQueue<Queued>
    let links: [String: PeerLink]
    let check: ActivationCheck
    let state: Mutex<NodeState>
    let sink = Mutex<(@Sendable (Trapline_Ring_V1_Logits) async -> Bool)?>(nil)
    /// Prepares a batch's images for the head (`Control.Prepare`): set by the appliance, which owns the
    /// preparation code; nil on a node that does not prepare. Throws `RingError` to refuse a request.
    public let preparer = Mutex<
        (@Sendable (Trapline_Ring_V1_PrepareRequest) async throws -> Trapline_Ring_V1_PrepareReply)?
    >(nil)
    public let logger: Logger
    private let serverSecurity: HTTP2ServerTransport.Posix.TransportSecurity
    /// TLS for the framed activation stream (nil with the gRPC transport or in plaintext).
    let framedTLS: (server: NIOSSLContext, client: NIOSSLContext)?

    /// A batch waiting for compute, with the time it arrived (for the queueing time in its trace).
    struct Queued: Sendable {
        var message: Trapline_Ring_V1_Activations
        var received: Double
    }

    struct NodeState {
        var levels: [Int]
        var batches: UInt64 = 0
        var lastServiceMs = 0.0
        var meanServiceMs = 0.0
        /// Batches prepared for the head (`Control.Prepare`).
        var prepared: UInt64 = 0
        var profile: [Trapline_Ring_V1_ProfileEntry] = []
        let started = DispatchTime.now().uptimeNanoseconds
    }

    /// Values per image entering each unit boundary `0...unitCount` (the last is the logits' width): what a hop
    /// placed at that boundary carries.
    public var boundaryWidths: [Int] { check.widths }

    /// Creates the node.
    /// - Parameters:
    ///   - config: The ring (validated against the model).
    ///   - model: The model; every node has the whole of it.
    ///   - modelID: The model file's SHA-256 (reported in stats so the head can check that all nodes agree).
    ///   - threads: Compute threads.
    ///   - maxBatch: The largest batch the head forms.
    ///   - logger: Where to log.
    /// - Throws: `RingError` for a bad configuration or bad credentials.
    public init(config: RingConfig, model: Model, modelID: String, threads: Int, maxBatch: Int, logger: Logger) throws {
        try config.validate(unitCount: model.unitCount)
        self.config = config
        self.modelID = modelID
        let engine = Engine(model: model, threads: threads)
        runner = SliceRunner(engine: engine, plan: config.plan)
        levelCount = model.metadata.optionCount
        self.maxBatch = maxBatch
        let widest = (1...model.unitCount).map { engine.shape(atBoundary: $0).count }.max() ?? 0
        maxMessageBytes = widest * maxBatch * 4 + (64 << 10)
        check = ActivationCheck(
            node: config.node, plan: config.plan,
            widths: (0...model.unitCount).map { engine.shape(atBoundary: $0).count }, maxBatch: maxBatch,
            members: config.memberNames)
        queue = BoundedQueue(capacity: config.queueCapacity)
        state = Mutex(NodeState(levels: Array(repeating: 0, count: config.plan.count - 1)))
        var logger = logger
        logger[metadataKey: "node.name"] = "\(config.node)"
        self.logger = logger
        let clientSecurity: HTTP2ClientTransport.Posix.TransportSecurity
        switch config.security {
        case .plaintext:
            serverSecurity = .plaintext
            clientSecurity = .plaintext
            framedTLS = nil
        case .mutualTLS(let folder):
            let credentials = try RingCredentials(folder: folder, node: config.node)
            serverSecurity = credentials.server
            clientSecurity = credentials.client
            framedTLS =
                config.transport == .framed
                ? (try credentials.tlsContext(server: true), try credentials.tlsContext(server: false)) : nil
        }
        var links: [String: PeerLink] = [:]
        for member in config.members where member.name != config.node {
            let data: PeerLink.DataStream =
                config.transport == .grpc
                ? .grpc
                : .framed(port: member.port + config.dataPortOffset, tls: framedTLS?.client)
            links[member.name] = try PeerLink(
                member: member, toHead: member.name == config.head.name, security: clientSecurity, data: data,
                maxMessageBytes: maxMessageBytes, logger: logger)
        }
        self.links = links
    }

    /// This node's member entry.
    public var member: RingMember { config.member(config.node)! }

    /// Runs the server, the links and the compute loop until the task is cancelled.
    /// - Throws: When the server cannot listen on its address.
    public func run() async throws {
        // Bound to the node's own address when the config gives one; a host name may resolve to several, so
        // then every interface (the systemd unit limits which networks can reach it).
        let listenHost = RingAuthority.ipAddressBytes(member.host) == nil ? "0.0.0.0" : member.host
        let listenAddress: GRPCNIOTransportCore.SocketAddress =
            switch RingAuthority.ipAddressBytes(member.host)?.count {
            case 16: .ipv6(host: listenHost, port: member.port)
            default: .ipv4(host: listenHost, port: member.port)
            }
        let server = GRPCServer(
            transport: .http2NIOPosix(
                address: listenAddress, transportSecurity: serverSecurity,
                config: .defaults { server in
                    server.http2.targetWindowSize = 4 << 20
                    server.http2.maxFrameSize = 1 << 20
                    server.rpc.maxRequestPayloadSize = maxMessageBytes
                    server.connection.keepalive.clientBehavior.allowWithoutCalls = true
                    server.connection.keepalive.clientBehavior.minPingIntervalWithoutCalls = .seconds(1)
                }
            ),
            services: [RingService(node: self), ControlService(node: self), HealthService()],
            interceptors: config.security == .plaintext
                ? [] : [RingMembershipInterceptor(members: config.memberNames)]
        )
        var failure: (any Error)?
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            if config.transport == .framed { group.addTask { try await self.serveFrames(host: listenHost) } }
            for link in links.values { group.addTask { await link.run() } }
            group.addTask { await self.work() }
            await withTaskCancellationHandler {
                // The first child to end (the server failing to bind, or cancellation) ends the node.
                do { try await group.next() } catch { failure = error }
            } onCancel: {
                server.beginGracefulShutdown()
            }
            server.beginGracefulShutdown()
            await queue.close()
            group.cancelAll()
            while let _ = try? await group.next() {}
        }
        if let failure { throw RingError(.unreachable, "the ring server on port \(member.port) stopped: \(failure)") }
    }

    /// The levels this node applies, per slice of the plan.
    public var levels: [Int] { state.withLock { $0.levels } }

    /// Sets the level of every slice of the plan.
    /// - Throws: `RingError` with `malformed` when the vector does not fit the plan or the model's levels.
    public func setLevels(_ levels: [Int]) throws {
        guard levels.count == config.plan.count - 1, levels.allSatisfy({ (0..<levelCount).contains($0) }) else {
            throw RingError(
                .malformed, "levels \(levels) must be \(config.plan.count - 1) values in 0..<\(levelCount)")
        }
        state.withLock { $0.levels = levels }
    }

    /// Stores the node's measured profile (reported in stats).
    public func setProfile(_ entries: [Trapline_Ring_V1_ProfileEntry]) {
        state.withLock { $0.profile = entries }
    }

    /// Queues a batch that passed validation, waiting while the queue is full.
    func accept(_ message: Trapline_Ring_V1_Activations) async -> Int {
        await queue.push(Queued(message: message, received: Self.unixMs()))
        return await queue.count
    }

    private func work() async {
        while let queued = await queue.pop() {
            do {
                try await process(queued.message, received: queued.received)
            } catch {
                logger.error(
                    "batch not computed", metadata: ["batch.id": "\(queued.message.batchID)", "error": "\(error)"])
            }
        }
    }
}
