// The ring's two candidate transports for activations, side by side on loopback under the same mutual TLS:
// gRPC (a bidirectional stream, as the ring uses it: HTTP/2 with 4 MiB windows and 1 MiB frames) and a plain
// length-prefixed stream over SwiftNIO (a protobuf header, then the raw payload). Each message is one batch of
// activations at a slice boundary of the 4-node plan, float16 and float32, batch 1 and 8; the receiver turns the
// bytes back into a message with its payload, as a node does, and acknowledges; the sender waits for the
// acknowledgement before the next (one batch in flight per link). Next to them: the compute time of the slice
// that produces each boundary, measured in the same run.
//   swift run -c release ring-transport-bench [ROUNDS]
import Dispatch
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Inference
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL
import Ring
import Synchronization

let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 30 : 30
// Run from the repository root.
let model = try Model.load(path: "Models/efficientnet-lite0.safetensors")
let plan = model.metadata.slicePlan(nodes: 4) ?? [0, 3, 8, 13, 18]
let engine = Engine(model: model, threads: 1)
let folder = "/tmp/ring-transport-bench-\(getpid())"
let members = [RingMember(name: "a", host: "127.0.0.1", port: 0), RingMember(name: "b", host: "127.0.0.1", port: 0)]
_ = try RingAuthority.create(members: members, folder: folder)
defer { _ = try? FileManager.default.removeItem(atPath: folder) }

func milliseconds(_ start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// Median compute milliseconds of `slice` at level 0 for `batch` images.
@MainActor func computeMs(slice: Int, batch: Int) throws -> Double {
    let units = plan[slice]..<plan[slice + 1]
    let input = [Float](repeating: 0.1, count: batch * engine.shape(atBoundary: units.lowerBound).count)
    var output = [Float](repeating: 0, count: batch * engine.shape(atBoundary: units.upperBound).count)
    var times: [Double] = []
    for _ in 0..<max(5, rounds / 3) {
        let start = DispatchTime.now().uptimeNanoseconds
        try input.withUnsafeBufferPointer { source in
            try output.withUnsafeMutableBufferPointer { destination in
                try engine.run(
                    source, batch: batch, units: units, levels: Array(repeating: 0, count: units.count),
                    into: destination)
            }
        }
        times.append(milliseconds(start))
    }
    return median(times)
}

@MainActor func message(boundary: Int, batch: Int, encoding: WireEncoding) -> Trapline_Ring_V1_Activations {
    let values = [Float](repeating: 0.37, count: batch * engine.shape(atBoundary: boundary).count)
    var message = Trapline_Ring_V1_Activations()
    message.batchID = 42
    message.batch = UInt32(batch)
    message.unit = UInt32(boundary)
    message.encoding = encoding.wire
    let channels = engine.shape(atBoundary: boundary).channels
    message.data = values.withUnsafeBufferPointer { ActivationCodec.encode($0, as: encoding, channels: channels) }
    message.sliceBounds = plan.map(UInt32.init)
    message.head = "a"
    var hop = Trapline_Ring_V1_Hop()
    hop.node = "b"
    message.route = [hop]
    return message
}

// MARK: gRPC

struct Sink: Trapline_Ring_V1_Ring.SimpleServiceProtocol {
    func forward(
        request: RPCAsyncSequence<Trapline_Ring_V1_Activations, any Error>,
        response: RPCWriter<Trapline_Ring_V1_ForwardAck>, context: ServerContext
    ) async throws {
        for try await message in request {
            var ack = Trapline_Ring_V1_ForwardAck()
            ack.batchID = message.batchID
            try await response.write(ack)
        }
    }

    func deliver(
        request: RPCAsyncSequence<Trapline_Ring_V1_Logits, any Error>,
        response: RPCWriter<Trapline_Ring_V1_DeliverAck>, context: ServerContext
    ) async throws {}
}

@MainActor func grpcRun(_ messages: [Trapline_Ring_V1_Activations]) async throws -> [Double] {
    let folder = folder
    let serverSecurity = HTTP2ServerTransport.Posix.TransportSecurity.mTLS(
        certificateChain: [.file(path: "\(folder)/b.pem", format: .pem)],
        privateKey: .file(path: "\(folder)/b.key", format: .pem)
    ) {
        $0.trustRoots = .certificates([.file(path: "\(folder)/ca.pem", format: .pem)])
        $0.clientCertificateVerification = .noHostnameVerification
    }
    let server = GRPCServer(
        transport: .http2NIOPosix(
            address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: serverSecurity,
            config: .defaults {
                $0.http2.targetWindowSize = 4 << 20
                $0.http2.maxFrameSize = 1 << 20
                $0.rpc.maxRequestPayloadSize = 64 << 20
            }),
        services: [Sink()])
    return try await withThrowingTaskGroup(of: [Double]?.self) { group in
        group.addTask {
            try await server.serve()
            return nil
        }
        guard let address = try await server.listeningAddress?.ipv4 else { throw CancellationError() }
        let clientSecurity = HTTP2ClientTransport.Posix.TransportSecurity.mTLS(
            certificateChain: [.file(path: "\(folder)/a.pem", format: .pem)],
            privateKey: .file(path: "\(folder)/a.key", format: .pem)
        ) {
            $0.trustRoots = .certificates([.file(path: "\(folder)/ca.pem", format: .pem)])
            $0.serverCertificateVerification = .noHostnameVerification
        }
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: address.port), transportSecurity: clientSecurity,
            config: .defaults {
                $0.http2.targetWindowSize = 4 << 20
                $0.http2.maxFrameSize = 1 << 20
            })
        let times = try await withGRPCClient(transport: transport) { client in
            let (acks, ackFeed) = AsyncStream.makeStream(of: Void.self)
            var options = CallOptions.defaults
            options.maxRequestMessageBytes = 64 << 20
            return try await Trapline_Ring_V1_Ring.Client(wrapping: client).forward(
                request: StreamingClientRequest { writer in
                    var iterator = acks.makeAsyncIterator()
                    var times: [Double] = []
                    for message in messages {
                        let start = DispatchTime.now().uptimeNanoseconds
                        try await writer.write(message)
                        _ = await iterator.next()
                        times.append(milliseconds(start))
                    }
                    timesBox.withLock { $0 = times }
                }, options: options
            ) { response in
                for try await _ in response.messages { ackFeed.yield() }
                return timesBox.withLock { $0 }
            }
        }
        server.beginGracefulShutdown()
        return times
    }
}

let timesBox = Mutex<[Double]>([])

// MARK: framed stream over SwiftNIO

@MainActor func tls(_ node: String, server: Bool) throws -> NIOSSLContext {
    let chain = try NIOSSLCertificate.fromPEMFile("\(folder)/\(node).pem").map {
        NIOSSLCertificateSource.certificate($0)
    }
    let key = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(file: "\(folder)/\(node).key", format: .pem))
    let roots = NIOSSLTrustRoots.certificates(try NIOSSLCertificate.fromPEMFile("\(folder)/ca.pem"))
    var configuration =
        server
        ? TLSConfiguration.makeServerConfigurationWithMTLS(certificateChain: chain, privateKey: key, trustRoots: roots)
        : TLSConfiguration.makeClientConfiguration()
    if !server {
        configuration.certificateChain = chain
        configuration.privateKey = key
        configuration.trustRoots = roots
        configuration.certificateVerification = .noHostnameVerification
    }
    return try NIOSSLContext(configuration: configuration)
}

func frame(_ message: Trapline_Ring_V1_Activations, allocator: ByteBufferAllocator) throws -> ByteBuffer {
    var header = message
    header.data = Data()
    let headerBytes: [UInt8] = try header.serializedBytes()
    var buffer = allocator.buffer(capacity: 4 + headerBytes.count + message.data.count)
    buffer.writeInteger(UInt32(headerBytes.count))
    buffer.writeBytes(headerBytes)
    buffer.writeBytes(message.data)
    return buffer
}

func unframe(_ buffer: inout ByteBuffer) throws -> Trapline_Ring_V1_Activations {
    guard let length = buffer.readInteger(as: UInt32.self), let header = buffer.readBytes(length: Int(length)) else {
        throw RingError(.malformed, "short frame")
    }
    var message = try Trapline_Ring_V1_Activations(serializedBytes: header)
    message.data = Data(buffer.readableBytesView)
    return message
}

@MainActor func framedRun(_ messages: [Trapline_Ring_V1_Activations]) async throws -> [Double] {
    let serverContext = try tls("b", server: true)
    let clientContext = try tls("a", server: false)
    let server = try await ServerBootstrap(group: .singletonMultiThreadedEventLoopGroup)
        .bind(host: "127.0.0.1", port: 0) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: serverContext))
                try channel.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(LengthFieldBasedFrameDecoder(lengthFieldBitLength: .fourBytes)))
                try channel.pipeline.syncOperations.addHandler(
                    LengthFieldPrepender(lengthFieldBitLength: .fourBytes))
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    let port = server.channel.localAddress?.port ?? 0
    return try await withThrowingTaskGroup(of: [Double]?.self) { group in
        group.addTask {
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    try await connection.executeThenClose { inbound, outbound in
                        for try await var frame in inbound {
                            let message = try unframe(&frame)
                            var ack = ByteBuffer()
                            ack.writeInteger(message.batchID)
                            try await outbound.write(ack)
                        }
                    }
                    return nil
                }
                return nil
            }
        }
        let client = try await ClientBootstrap(group: .singletonMultiThreadedEventLoopGroup)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: clientContext, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LengthFieldBasedFrameDecoder(lengthFieldBitLength: .fourBytes)))
                    try channel.pipeline.syncOperations.addHandler(
                        LengthFieldPrepender(lengthFieldBitLength: .fourBytes))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let times = try await client.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            var times: [Double] = []
            for message in messages {
                let start = DispatchTime.now().uptimeNanoseconds
                try await outbound.write(try frame(message, allocator: client.channel.allocator))
                _ = try await iterator.next()
                times.append(milliseconds(start))
            }
            return times
        }
        group.cancelAll()
        try? await server.channel.close()
        return times
    }
}

/// Median milliseconds to encode the values of one batch at `boundary` for the wire, and to decode them again.
@MainActor func codecMs(boundary: Int, batch: Int, encoding: WireEncoding) throws -> (encode: Double, decode: Double) {
    // A ReLU's output: zeros mixed with positive values.
    let values = (0..<(batch * engine.shape(atBoundary: boundary).count)).map {
        Float(max(0, ($0 * 7919) % 13 - 6)) * 0.1
    }
    var back = [Float](repeating: 0, count: values.count)
    var encodes: [Double] = []
    var decodes: [Double] = []
    for _ in 0..<max(5, rounds) {
        var start = DispatchTime.now().uptimeNanoseconds
        let data = values.withUnsafeBufferPointer { ActivationCodec.encode($0, as: encoding) }
        encodes.append(milliseconds(start))
        start = DispatchTime.now().uptimeNanoseconds
        try back.withUnsafeMutableBufferPointer { try ActivationCodec.decode(data, as: encoding, into: $0) }
        decodes.append(milliseconds(start))
    }
    return (median(encodes), median(decodes))
}

// MARK: the run

print("boundary  batch  encoding  MB      compute ms  encode ms  decode ms  gRPC ms  (share)   framed ms  (share)")
var rows: [[String: Any]] = []
for (index, boundary) in plan.dropFirst().dropLast().enumerated() {
    for batch in [1, 8] {
        let compute = try computeMs(slice: index, batch: batch)
        for encoding in [WireEncoding.float16, .float32] {
            let sample = message(boundary: boundary, batch: batch, encoding: encoding)
            let messages = Array(repeating: sample, count: rounds + 3)
            // Alternate the two transports, so that the machine's background load falls on both alike.
            var grpc: [Double] = []
            var framed: [Double] = []
            for _ in 0..<2 {
                grpc += try await grpcRun(messages).dropFirst(3)
                framed += try await framedRun(messages).dropFirst(3)
            }
            let codec = try codecMs(boundary: boundary, batch: batch, encoding: encoding)
            let megabytes = Double(sample.data.count) / 1e6
            let (g, f) = (median(grpc), median(framed))
            print(
                "\(boundary)".padding(toLength: 10, withPad: " ", startingAt: 0)
                    + "\(batch)".padding(toLength: 7, withPad: " ", startingAt: 0)
                    + encoding.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + String(
                        format: "%-8.2f%-12.2f%-11.3f%-11.3f%-9.2f(%4.1f%%)   %-11.2f(%4.1f%%)", megabytes, compute,
                        codec.encode, codec.decode, g, 100 * g / compute, f, 100 * f / compute))
            rows.append([
                "boundary": boundary, "batch": batch, "encoding": encoding.rawValue, "bytes": sample.data.count,
                "computeMs": compute, "encodeMs": codec.encode, "decodeMs": codec.decode, "grpcMs": g, "framedMs": f,
            ])
        }
    }
}

if let json = try? JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys]) {
    print("JSON " + String(decoding: json, as: UTF8.self))
}
