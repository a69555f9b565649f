import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Inference
import Logging
import Ring
import TestSupport
import Testing

/// A real node server on loopback, hit by a real gRPC client with what a broken or hostile peer might send.
@Suite(.serialized, .timeLimit(.minutes(6))) struct NodeRefusalTests {
    struct RawBytes: MessageSerializer {
        func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
    }

    /// Levels are the head's decision: under mutual TLS another member may read a node's stats but not set its
    /// levels.
    @Test func onlyTheHeadSetsLevels() async throws {
        let model = try Model.load(
            path: Fixtures.repositoryRoot.appendingPathComponent("Models/efficientnet-lite0.safetensors").path)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let folder = directory.file("ring")
        let ports = try freePorts(3)
        let members = zip(["a", "b", "c"], ports).map { RingMember(name: $0, host: "127.0.0.1", port: $1) }
        _ = try RingAuthority.create(members: members, folder: folder)
        let plan = try #require(model.metadata.slicePlan(nodes: 3))
        let node = try RingNode(
            config: RingConfig(members: members, node: "b", plan: plan, security: .mutualTLS(credentials: folder)),
            model: model, modelID: "test", threads: 1, maxBatch: 8, logger: Logger(label: "test"))
        let server = Task { try await node.run() }
        defer { server.cancel() }

        func setLevels(as name: String) async throws -> RPCError.Code? {
            let credentials = HTTP2ClientTransport.Posix.TransportSecurity.mTLS(
                certificateChain: [.file(path: RingAuthority.certificate(folder, node: name), format: .pem)],
                privateKey: .file(path: RingAuthority.key(folder, node: name), format: .pem)
            ) {
                $0.trustRoots = .certificates([.file(path: RingAuthority.caCertificate(folder), format: .pem)])
                $0.serverCertificateVerification = .noHostnameVerification
            }
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: ports[1]), transportSecurity: credentials)
            return try await withGRPCClient(transport: transport) { client in
                var options = CallOptions.defaults
                // Generous: the whole suite runs in parallel on two cores, and blocking end-to-end tests can
                // hold the cooperative threads this in-process server needs for a while.
                options.timeout = .seconds(60)
                var request = Trapline_Ring_V1_SetLevelsRequest()
                request.levels = [0, 2, 0]
                // Until an answer arrives: while the parallel suite's blocking tests hold the cooperative threads
                // (seen for 90 s on two cores), calls time out or find the server not yet answering.
                let giveUp = ContinuousClock.now + .seconds(240)
                while ContinuousClock.now < giveUp {
                    do {
                        _ = try await Trapline_Ring_V1_Control.Client(wrapping: client).setLevels(
                            request, options: options)
                        return nil
                    } catch let error as RPCError where [.unavailable, .deadlineExceeded].contains(error.code) {
                        try await Task.sleep(for: .milliseconds(100))
                    } catch let error as RPCError {
                        return error.code
                    }
                }
                return .unavailable
            }
        }

        #expect(try await setLevels(as: "c") == .permissionDenied)
        #expect(node.levels == [0, 0, 0])
        #expect(try await setLevels(as: "a") == nil)
        #expect(node.levels == [0, 2, 0])
    }

    @Test func oversizedAndMalformedBatchesAreRefusedAndTheNodeKeepsServing() async throws {
        let model = try Model.load(
            path: Fixtures.repositoryRoot.appendingPathComponent("Models/efficientnet-lite0.safetensors").path)
        let ports = try freePorts(2)
        let members = [
            RingMember(name: "a", host: "127.0.0.1", port: ports[0]),
            RingMember(name: "b", host: "127.0.0.1", port: ports[1]),
        ]
        let plan = try #require(model.metadata.slicePlan(nodes: 2))
        let node = try RingNode(
            config: RingConfig(members: members, node: "b", plan: plan, security: .plaintext), model: model,
            modelID: "test", threads: 1, maxBatch: 8, logger: Logger(label: "test"))
        let server = Task { try await node.run() }
        defer { server.cancel() }
        let width = Engine(model: model).shape(atBoundary: plan[1]).count

        let valid = batchForSecondNode(plan: plan, width: width)

        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: ports[1]), transportSecurity: .plaintext)
        try await withGRPCClient(transport: transport) { client in
            let control = Trapline_Ring_V1_Control.Client(wrapping: client)
            let ring = Trapline_Ring_V1_Ring.Client(wrapping: client)
            var options = CallOptions.defaults
            // Generous, like the other refusal tests: blocking end-to-end tests can hold the two cooperative
            // threads this in-process server needs for a minute or more on a 2-core machine.
            options.timeout = .seconds(60)
            options.maxRequestMessageBytes = node.maxMessageBytes * 2
            var up = false
            let upBy = ContinuousClock.now + .seconds(240)
            while !up && ContinuousClock.now < upBy {
                up = (try? await control.stats(Trapline_Ring_V1_StatsRequest(), options: options)) != nil
                if !up { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(up)

            func send(_ message: Trapline_Ring_V1_Activations) async -> RPCError.Code? {
                do {
                    try await ring.forward(
                        request: StreamingClientRequest { writer in try await writer.write(message) }, options: options
                    ) { response in for try await _ in response.messages {} }
                    return nil
                } catch let error as RPCError {
                    return error.code
                } catch {
                    return .unknown
                }
            }

            var wrongSize = valid
            wrongSize.data = Data(count: width * 2 - 2)
            #expect(await send(wrongSize) == .invalidArgument)
            var wrongNode = valid
            wrongNode.route[0].node = "a"
            #expect(await send(wrongNode) == .invalidArgument)
            var wrongPlan = valid
            wrongPlan.sliceBounds = [0, 5, 18]
            #expect(await send(wrongPlan) == .invalidArgument)
            var tooBig = valid
            tooBig.batch = 9
            tooBig.data = Data(count: width * 2 * 9)
            #expect(await send(tooBig) == .invalidArgument)
            var oversized = valid
            oversized.data = Data(count: node.maxMessageBytes + 1)
            let oversizedCode = await send(oversized)
            #expect(oversizedCode != nil)

            // Bytes that are not a protobuf message at all.
            let garbage: RPCError.Code?
            do {
                try await client.bidirectionalStreaming(
                    request: StreamingClientRequest { writer in
                        try await writer.write([0xFF, 0xFF, 0xFF, 0x0F, 0x12, 0x99])
                    },
                    descriptor: Trapline_Ring_V1_Ring.Method.Forward.descriptor, serializer: RawBytes(),
                    deserializer: ProtobufDeserializer<Trapline_Ring_V1_ForwardAck>(), options: options
                ) { response in for try await _ in response.messages {} }
                garbage = nil
            } catch let error as RPCError {
                garbage = error.code
            }
            #expect(garbage != nil)

            // Still serving: a valid batch is accepted and computed.
            #expect(await send(valid) == nil)
            var computed = false
            let computedBy = ContinuousClock.now + .seconds(240)
            while !computed && ContinuousClock.now < computedBy {
                computed = (try? await control.stats(Trapline_Ring_V1_StatsRequest(), options: options))?.batches == 1
                if !computed { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(computed)
            var health = Grpc_Health_V1_HealthCheckRequest()
            health.service = "trapline.ring.v1.Ring"
            let status = try await Grpc_Health_V1_Health.Client(wrapping: client).check(health, options: options)
            #expect(status.status == .serving)
        }
    }
}
