import Foundation
import Inference
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import TestSupport
import Testing

@testable import Ring

/// The framed activation stream (`ring.transport: framed`): a real node listening on loopback under mutual TLS,
/// and a real TLS client sending it what a member, a broken peer or a stranger might.
@Suite(.serialized, .timeLimit(.minutes(6))) struct FramedStreamTests {
    /// Node "b" of the ring (a, b) with its framed port; the CA also certified "x", which the ring does not list.
    struct Fixture {
        let model: Model
        let folder: String
        let directory: TemporaryDirectory
        let node: RingNode
        let dataPort: Int
        let width: Int
        let plan: [Int]

        init() throws {
            model = try Model.load(
                path: Fixtures.repositoryRoot.appendingPathComponent("Models/efficientnet-lite0.safetensors").path)
            directory = try TemporaryDirectory()
            folder = directory.file("ring")
            let ports = try freePorts(2)
            let members = zip(["a", "b"], ports).map { RingMember(name: $0, host: "127.0.0.1", port: $1) }
            _ = try RingAuthority.create(
                members: members + [RingMember(name: "x", host: "127.0.0.1", port: 9)], folder: folder)
            plan = try #require(model.metadata.slicePlan(nodes: 2))
            var config = RingConfig(members: members, node: "b", plan: plan, security: .mutualTLS(credentials: folder))
            config.transport = .framed
            node = try RingNode(
                config: config, model: model, modelID: "test", threads: 1, maxBatch: 8, logger: Logger(label: "test"))
            dataPort = ports[1] + config.dataPortOffset
            width = Engine(model: model).shape(atBoundary: plan[1]).count
        }

        /// One image's activations for b's slice, as a's would be.
        var valid: Trapline_Ring_V1_Activations { batchForSecondNode(plan: plan, width: width) }

        /// Connects to b's data port as `name` (with that name's certificate from the ring's CA), writes `bytes`,
        /// and returns what comes back before b closes the connection: nil for nothing, else the refusal's
        /// reason. `waitForClose: false` returns after a second of silence instead.
        func exchange(as name: String, _ bytes: [UInt8], waitForClose: Bool = true) async throws -> String? {
            let tls = try RingCredentials(folder: folder, node: name).tlsContext(server: false)
            return try await exchange(tls: tls, bytes, waitForClose: waitForClose)
        }

        /// The same with any TLS context, or none.
        func exchange(tls: NIOSSLContext?, _ bytes: [UInt8], waitForClose: Bool = true) async throws -> String? {
            let connection = try await connect(tls: tls)
            return try await connection.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(bytes: bytes))
                return try await withThrowingTaskGroup(of: String?.self) { group in
                    group.addTask {
                        for try await body in inbound {
                            if case .refusal(let reason) = try FramedStream.frame(body) { return reason }
                        }
                        return nil
                    }
                    if !waitForClose {
                        group.addTask {
                            try await Task.sleep(for: .seconds(1))
                            return nil
                        }
                    }
                    let first = try await group.next() ?? nil
                    group.cancelAll()
                    return first
                }
            }
        }

        func connect(tls: NIOSSLContext?) async throws -> FramedChannel {
            // The node may still be starting, and on a loaded 2-core machine its threads may be held for a minute
            // by blocking tests: retry the connection for up to 240 s.
            var lastError: (any Error)?
            let giveUp = ContinuousClock.now + .seconds(240)
            while ContinuousClock.now < giveUp {
                do {
                    return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .connect(host: "127.0.0.1", port: dataPort) { channel in
                            FramedStream.configure(channel, tls: tls, server: false, maxBodyBytes: 1 << 20)
                        }
                } catch {
                    lastError = error
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            throw lastError ?? CancellationError()
        }
    }

    @Test func malformedAndOversizedFramesAreRefusedAndTheNodeKeepsServing() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        let server = Task { try await fixture.node.run() }
        defer { server.cancel() }

        // A length beyond the ring's largest message: refused before its bytes are read.
        let oversized = withUnsafeBytes(of: UInt32(fixture.node.maxMessageBytes + 1).bigEndian) { Array($0) }
        #expect(try await fixture.exchange(as: "a", oversized)?.contains("larger than the ring's limit") == true)
        // A kind no version of trapline sends.
        #expect(
            try await fixture.exchange(as: "a", [0, 0, 0, 5, 9, 0, 0, 0, 0])?.contains("unknown frame kind") == true)
        // A header length that runs past the frame.
        #expect(try await fixture.exchange(as: "a", [0, 0, 0, 6, 1, 0, 0, 1, 0, 7])?.contains("overruns") == true)
        // A header that is not a protobuf message.
        let garbage: [UInt8] = [0, 0, 0, 9, 1, 0, 0, 0, 4, 0xFF, 0xFF, 0xFF, 0x0F]
        #expect(try await fixture.exchange(as: "a", garbage)?.contains("not a valid message") == true)
        // A well-formed batch that does not fit the model: its payload is one value short.
        var short = fixture.valid
        short.data = Data(count: fixture.width * 2 - 2)
        #expect(try await fixture.exchange(as: "a", RingFrame.activations(short).bytes())?.contains("bytes") == true)
        // Logits sent to a node that is not the head.
        var logits = Trapline_Ring_V1_Logits()
        logits.batch = 1
        #expect(try await fixture.exchange(as: "a", RingFrame.logits(logits).bytes())?.contains("not the head") == true)

        // Still serving: a valid batch is accepted and computed, and the connection stays open.
        #expect(
            try await fixture.exchange(as: "a", RingFrame.activations(fixture.valid).bytes(), waitForClose: false)
                == nil)
        var computed = false
        for _ in 0..<300 where !computed {
            computed = await fixture.node.stats().batches == 1
            if !computed { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(computed)
    }

    @Test func onlyMembersMaySend() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        let server = Task { try await fixture.node.run() }
        defer { server.cancel() }
        let frame = try RingFrame.activations(fixture.valid).bytes()

        // A certificate from the ring's CA, for a node the ring does not list: refused by name.
        #expect(try await fixture.exchange(as: "x", frame)?.contains("not a member of this ring") == true)
        // No TLS at all, and TLS without a client certificate: the handshake fails, nothing is read.
        var anonymous = TLSConfiguration.makeClientConfiguration()
        anonymous.certificateVerification = .none
        for tls in [nil, try NIOSSLContext(configuration: anonymous)] as [NIOSSLContext?] {
            let answer = try? await fixture.exchange(tls: tls, frame)
            #expect(answer == nil)
        }
        let batches = await fixture.node.stats().batches
        #expect(batches == 0)
    }

    /// A connection that never starts its TLS handshake is closed after `FramedStream.handshakeSeconds`.
    @Test func aSilentConnectionIsClosed() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        let server = Task { try await fixture.node.run() }
        defer { server.cancel() }
        let connection = try await fixture.connect(tls: nil)
        let start = ContinuousClock.now
        let closed = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await connection.executeThenClose { inbound, _ in for try await _ in inbound {} }
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(FramedStream.handshakeSeconds * 3))
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(closed)
        #expect(ContinuousClock.now - start >= .seconds(FramedStream.handshakeSeconds - 1))
    }
}
