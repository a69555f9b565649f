import GRPCCore
import GRPCNIOTransportHTTP2
import RingWire

/// Forward and Deliver: activations in from the previous hop, logits in from the last hop (on the head).
struct RingService: Trapline_Ring_V1_Ring.SimpleServiceProtocol {
    let node: RingNode

    func forward(
        request: RPCAsyncSequence<Trapline_Ring_V1_Activations, any Error>,
        response: RPCWriter<Trapline_Ring_V1_ForwardAck>, context: ServerContext
    ) async throws {
        for try await message in request {
            do {
                try node.check.validate(message)
            } catch let error as RingError {
                node.logger.warning(
                    "refused a batch", metadata: ["peer": "\(context.remotePeer)", "error": "\(error)"])
                throw RPCError(code: .invalidArgument, message: error.message)
            }
            // Waits while the queue is full: this stream stops being read and HTTP/2 flow control holds the sender.
            let queued = await node.accept(message)
            var ack = Trapline_Ring_V1_ForwardAck()
            ack.batchID = message.batchID
            ack.attempt = message.attempt
            ack.queueLength = UInt32(queued)
            try await response.write(ack)
        }
    }

    func deliver(
        request: RPCAsyncSequence<Trapline_Ring_V1_Logits, any Error>,
        response: RPCWriter<Trapline_Ring_V1_DeliverAck>, context: ServerContext
    ) async throws {
        guard let sink = node.sink.withLock({ $0 }) else {
            throw RPCError(code: .failedPrecondition, message: "\(node.config.node) is not the head of the ring")
        }
        for try await logits in request {
            var ack = Trapline_Ring_V1_DeliverAck()
            ack.batchID = logits.batchID
            ack.duplicate = await sink(logits)
            try await response.write(ack)
        }
    }
}

/// SetLevels and Stats, for the head's controller and for operators.
struct ControlService: Trapline_Ring_V1_Control.SimpleServiceProtocol {
    let node: RingNode

    /// Under mutual TLS, only the head may change levels or hand out work; any member may read stats.
    private func requireHead(_ context: ServerContext, _ what: String) throws {
        guard node.config.security != .plaintext else { return }
        let peer = (context.transportSpecific as? HTTP2ServerTransport.Posix.Context)?.peerCertificate
        guard let peer, RingCredentials.commonName(peer) == node.config.head.name else {
            throw RPCError(code: .permissionDenied, message: "only the head, \(node.config.head.name), \(what)")
        }
    }

    func setLevels(request: Trapline_Ring_V1_SetLevelsRequest, context: ServerContext) async throws
        -> Trapline_Ring_V1_NodeStats
    {
        try requireHead(context, "sets levels")
        do {
            try node.setLevels(request.levels.map(Int.init))
        } catch let error as RingError {
            throw RPCError(code: .invalidArgument, message: error.message)
        }
        return await node.stats()
    }

    func stats(request: Trapline_Ring_V1_StatsRequest, context: ServerContext) async throws
        -> Trapline_Ring_V1_NodeStats
    {
        await node.stats()
    }

    func prepare(request: Trapline_Ring_V1_PrepareRequest, context: ServerContext) async throws
        -> Trapline_Ring_V1_PrepareReply
    {
        try requireHead(context, "hands out images to prepare")
        guard let preparer = node.preparer.withLock({ $0 }) else {
            throw RPCError(code: .unimplemented, message: "\(node.config.node) does not prepare images")
        }
        do {
            let reply = try await preparer(request)
            node.state.withLock { $0.prepared += 1 }
            return reply
        } catch let error as RingError {
            throw RPCError(code: .failedPrecondition, message: error.message)
        }
    }
}

/// The standard health service: a node that answers serves.
struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    static let known: Set<String> = ["", "trapline.ring.v1.Ring", "trapline.ring.v1.Control"]

    func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws
        -> Grpc_Health_V1_HealthCheckResponse
    {
        guard Self.known.contains(request.service) else {
            throw RPCError(code: .notFound, message: "unknown service \"\(request.service)\"")
        }
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = .serving
        return response
    }

    func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        var status = Grpc_Health_V1_HealthCheckResponse()
        status.status = Self.known.contains(request.service) ? .serving : .serviceUnknown
        try await response.write(status)
        // The status of a running node does not change; the stream stays open until the client leaves.
        while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
    }
}
