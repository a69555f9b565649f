import Foundation
import Ring
import TestSupport
import Testing

@Suite struct WireAndConfigTests {
    @Test func float32RoundTripsExactly() throws {
        let values: [Float] = [0, -0, 1, -2.5, .pi, 1e-30, 3.4e38, -7.25e-5]
        let data = values.withUnsafeBufferPointer { ActivationCodec.encode($0, as: .float32) }
        #expect(data.count == values.count * 4)
        var back = [Float](repeating: 1, count: values.count)
        try back.withUnsafeMutableBufferPointer { try ActivationCodec.decode(data, as: .float32, into: $0) }
        #expect(back == values)
    }

    /// float16 keeps 11 significant bits: every value in its normal range comes back within half a unit in the
    /// last place (relative 2^-11), and values that float16 represents exactly come back exactly.
    @Test func float16RoundsToNearest() throws {
        var generator = SystemRandomNumberGenerator()
        let values =
            (0..<1001).map { _ in Float.random(in: -60_000...60_000, using: &generator) }
            + [0, 1, -1, 0.5, 2048, 0.099975586]
        let data = values.withUnsafeBufferPointer { ActivationCodec.encode($0, as: .float16) }
        #expect(data.count == values.count * 2)
        var back = [Float](repeating: 0, count: values.count)
        try back.withUnsafeMutableBufferPointer { try ActivationCodec.decode(data, as: .float16, into: $0) }
        for (value, decoded) in zip(values, back) where abs(value) >= 6.1e-5 {
            #expect(abs(decoded - value) <= abs(value) * 0.000_489 + 1e-7, "\(value) -> \(decoded)")
        }
        #expect(Array(back.suffix(6)) == [0, 1, -1, 0.5, 2048, 0.099975586])
    }

    /// The codec's own vector conversion against Swift's `Float16` (compiler-rt's conversion): bit for bit, over
    /// normal, subnormal, tiny, huge, infinite and halfway values, in both directions.
    @Test func float16MatchesTheStandardConversionBitForBit() throws {
        var generator = SystemRandomNumberGenerator()
        var values: [Float] = [
            0, -0, 65504, 65519.99, 65520, -65520, 1e-8, 2.98e-8, 5.96e-8, 6.1e-5, 6.097e-5, .infinity,
        ]
        values += (0..<20_000).map { _ in Float(bitPattern: UInt32.random(in: 0...0x7F80_0000, using: &generator)) }
        values += (0..<5_000).map { _ in
            -Float(bitPattern: UInt32.random(in: 0x3300_0000...0x3900_0000, using: &generator))
        }
        values += (0..<2_048).map { Float(Float16(bitPattern: UInt16($0 * 32))) + Float(Float16(bitPattern: 1)) / 2 }
        values.append(.nan)
        let data = values.withUnsafeBufferPointer { ActivationCodec.encode($0, as: .float16) }
        let halves = data.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
        for (value, half) in zip(values, halves) {
            if value.isNaN {
                #expect(Float16(bitPattern: half).isNaN)
            } else {
                #expect(half == Float16(value).bitPattern, "\(value)")
            }
        }
        var back = [Float](repeating: 0, count: values.count)
        try back.withUnsafeMutableBufferPointer { try ActivationCodec.decode(data, as: .float16, into: $0) }
        for (half, decoded) in zip(halves, back) where !Float16(bitPattern: half).isNaN {
            #expect(decoded.bitPattern == Float(Float16(bitPattern: half)).bitPattern)
        }
    }

    /// Every one of the 65,536 half bit patterns decodes to the float Swift's `Float16` gives (NaNs to a NaN), through
    /// the eight-at-a-time path and, for the last five, the one-at-a-time tail.
    @Test func everyHalfDecodesExactly() throws {
        let patterns = (0...0xFFFF).map { UInt16($0) } + [0x3C00, 0x8001, 0x7BFF, 0x0400, 0xFC00]
        let data = patterns.withUnsafeBufferPointer { Data(buffer: $0) }
        var decoded = [Float](repeating: 0, count: patterns.count)
        try decoded.withUnsafeMutableBufferPointer { try ActivationCodec.decode(data, as: .float16, into: $0) }
        for (pattern, value) in zip(patterns, decoded) {
            let expected = Float(Float16(bitPattern: pattern))
            if expected.isNaN {
                #expect(value.isNaN, "\(pattern)")
            } else {
                #expect(value.bitPattern == expected.bitPattern, "\(pattern)")
            }
        }
    }

    /// A frame carries the protobuf header and the payload separately; parsing puts them back together.
    @Test func framesRoundTrip() throws {
        var message = Trapline_Ring_V1_Activations()
        message.batchID = 77
        message.batch = 2
        message.head = "pi1"
        message.data = Data((0..<64).map { UInt8($0) })
        let bytes = try RingFrame.activations(message).bytes()
        #expect(Int(UInt32(bigEndian: bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })) == bytes.count - 4)
        guard case .activations(let back) = try bytes.dropFirst(4).withUnsafeBytes({ try RingFrame(body: $0) }) else {
            Issue.record("not activations")
            return
        }
        #expect(back == message)
        let refusal = try RingFrame.refusal("no thanks").bytes()
        guard case .refusal(let reason) = try refusal.dropFirst(4).withUnsafeBytes({ try RingFrame(body: $0) }) else {
            Issue.record("not a refusal")
            return
        }
        #expect(reason == "no thanks")
        // Bodies that are too short, of an unknown kind, or whose header overruns them.
        for body: [UInt8] in [[], [1, 0, 0], [7, 0, 0, 0, 0], [1, 0, 0, 0, 9, 1], [3, 0, 0, 0, 0, 42]] {
            #expect(throws: RingError.self) { try body.withUnsafeBytes { try RingFrame(body: $0) } }
        }
    }

    /// 4 channels (the scalar loop), 12 (8 at a time, then 4), 24 (the model's first boundary: 8 at a time only).
    @Test(arguments: [4, 12, 24])
    func int8KeepsEachValueWithinHalfItsChannelsStep(channels: Int) throws {
        // Channels of very different ranges, signed (a block's linear output), every fourth one all zero.
        let values: [Float] = (0..<(channels * 50)).map { index in
            let c = index % channels
            let x = Float(index / channels) / 49 * 2 - 1
            return [x * 6, x * 0.01, 0, x * 300 + 1][c % 4] * Float(c / 4 + 1)
        }
        let data = values.withUnsafeBufferPointer { ActivationCodec.encode($0, as: .int8, channels: channels) }
        #expect(data.count == 4 + 4 * channels + values.count)
        var back = [Float](repeating: .nan, count: values.count)
        try back.withUnsafeMutableBufferPointer { try ActivationCodec.decode(data, as: .int8, into: $0) }
        for c in 0..<channels {
            let own = stride(from: c, to: values.count, by: channels)
            let step = (own.map { abs(values[$0]) }.max() ?? 0) / 127
            for index in own {
                // Half a step from rounding to the nearest, plus float32 rounding of the scale and the product.
                let bound: Float = step / 2 + abs(values[index]) * 4 * .ulpOfOne
                #expect(abs(back[index] - values[index]) <= bound)
            }
        }
        #expect(stride(from: 2, to: values.count, by: 4).allSatisfy { back[$0] == 0 })  // the zero channels
    }

    @Test func int8SendsANonFiniteValueAsZeroWithoutStopping() throws {
        var values = [Float](repeating: 1, count: 48)
        (values[3], values[30], values[40]) = (.nan, .infinity, -.infinity)
        let data = values.withUnsafeBufferPointer { ActivationCodec.encode($0, as: .int8, channels: 24) }
        var back = [Float](repeating: 0, count: 48)
        try back.withUnsafeMutableBufferPointer { try ActivationCodec.decode(data, as: .int8, into: $0) }
        #expect(back[3] == 0 && back[30] == 0 && back[40] == 0 && back.allSatisfy(\.isFinite))
        // Channels 6 and 16 keep their range: the infinities did not set their scales.
        #expect(back[0] == 1 && back[6] == 1 && back[16] == 1)
        // A payload that declares other channels than the tensor has is refused.
        #expect(throws: RingError.self) {
            try back.withUnsafeMutableBufferPointer {
                try ActivationCodec.decode(data, as: .int8, channels: 12, into: $0)
            }
        }
    }

    /// An int8 payload's header (the channel count, little-endian) followed by `count` zero bytes. A helper rather
    /// than literals joined with `+`: Swift 6.2.3 (the arm64 build's compiler) gives up type-checking those.
    static func int8Payload(channels: UInt8, zeros count: Int) -> [UInt8] {
        [channels, 0, 0, 0] + [UInt8](repeating: 0, count: count)
    }

    @Test(arguments: [
        [UInt8](),  // no header
        int8Payload(channels: 0, zeros: 12),  // zero channels
        int8Payload(channels: 5, zeros: 20 + 12),  // 5 channels do not divide 12 values
        int8Payload(channels: 2, zeros: 8 + 11),  // one value short
        int8Payload(channels: 2, zeros: 8 + 13),  // one byte too many
    ])
    func aMalformedInt8PayloadIsRefused(bytes: [UInt8]) {
        var output = [Float](repeating: 0, count: 12)
        #expect(throws: RingError.self) {
            try output.withUnsafeMutableBufferPointer { try ActivationCodec.decode(Data(bytes), as: .int8, into: $0) }
        }
    }

    @Test func aPayloadOfTheWrongSizeIsRefused() {
        var output = [Float](repeating: 0, count: 10)
        #expect(throws: RingError.self) {
            try output.withUnsafeMutableBufferPointer {
                try ActivationCodec.decode(Data(count: 19), as: .float16, into: $0)
            }
        }
    }

    @Test(arguments: [
        ("pi1=10.0.0.11:7401", "pi1", "10.0.0.11", 7401),
        ("head = localhost:1", "head", "localhost", 1),
        ("v6=[fd00::1]:7401", "v6", "fd00::1", 7401),
    ])
    func membersParse(text: String, name: String, host: String, port: Int) throws {
        #expect(try RingMember(parsing: text) == RingMember(name: name, host: host, port: port))
    }

    @Test(arguments: ["pi1", "pi1=host", "pi1=host:0", "pi1=host:70000", "=host:1", "pi 1=host:1", "pi1=:1"])
    func badMembersAreRefused(text: String) {
        #expect(throws: RingError.self) { try RingMember(parsing: text) }
    }

    @Test func configValidationNamesTheProblem() throws {
        let members = [RingMember(name: "a", host: "h", port: 1), RingMember(name: "b", host: "h", port: 2)]
        var config = RingConfig(members: members, node: "a", plan: [0, 8, 18], security: .plaintext)
        try config.validate(unitCount: 18)
        config.plan = [0, 18]
        #expect(throws: RingError.self) { try config.validate(unitCount: 18) }
        config.plan = [0, 8, 8]
        #expect(throws: RingError.self) { try config.validate(unitCount: 18) }
        config.plan = [0, 8, 18]
        config.node = "c"
        #expect(throws: RingError.self) { try config.validate(unitCount: 18) }
        config.node = "a"
        config.members.append(RingMember(name: "a", host: "h", port: 3))
        config.plan = [0, 3, 8, 18]
        #expect(throws: RingError.self) { try config.validate(unitCount: 18) }
    }

    /// The framed transport's data ports (gRPC port + offset) may not land on another node's port on the same host,
    /// nor past 65535; on different hosts the same ports are fine.
    @Test func dataPortsMayNotCollide() throws {
        let members = [RingMember(name: "a", host: "h", port: 7401), RingMember(name: "b", host: "h", port: 7402)]
        var config = RingConfig(members: members, node: "a", plan: [0, 8, 18], security: .plaintext)
        config.transport = .framed
        try config.validate(unitCount: 18)
        config.dataPortOffset = 1
        #expect { try config.validate(unitCount: 18) } throws: { "\($0)".contains("b's gRPC port h:7402") }
        config.members[1].host = "g"
        try config.validate(unitCount: 18)
        config.transport = .grpc
        config.members[1].host = "h"
        try config.validate(unitCount: 18)
        config.transport = .framed
        config.members[1].port = 65_500
        config.dataPortOffset = 100
        #expect { try config.validate(unitCount: 18) } throws: { "\($0)".contains("above 65535") }
    }
}

@Suite struct RingAuthorityTests {
    @Test func certificatesVerifyAgainstTheRingCAWithOpenSSL() throws {
        try withTemporaryDirectory { directory in
            let folder = directory.file("ring")
            let members = [
                RingMember(name: "pi1", host: "10.0.0.11", port: 7401),
                RingMember(name: "pi2", host: "pi2.local", port: 7401),
            ]
            let outcome = try RingAuthority.create(members: members, folder: folder)
            #expect(outcome.created.count == 6)
            for member in members {
                let cert = RingAuthority.certificate(folder, node: member.name)
                // An independent check: OpenSSL verifies the chain and reads the names.
                let verify = try runCommand(
                    "openssl", ["verify", "-CAfile", RingAuthority.caCertificate(folder), cert])
                #expect(verify.output.contains("OK"))
                let text = try runCommand("openssl", ["x509", "-in", cert, "-noout", "-text"]).output
                #expect(text.contains("CN = \(member.name)") || text.contains("CN=\(member.name)"))
                #expect(
                    text.contains("TLS Web Server Authentication") && text.contains("TLS Web Client Authentication"))
                let san = member.host.first!.isNumber ? "IP Address:\(member.host)" : "DNS:\(member.host)"
                #expect(text.contains(san))
                let attributes = try FileManager.default.attributesOfItem(
                    atPath: RingAuthority.key(folder, node: member.name))
                #expect((attributes[.posixPermissions] as? Int) == 0o600)
            }
            // Running it again keeps everything; a new member gets only its own files.
            let again = try RingAuthority.create(
                members: members + [RingMember(name: "pi3", host: "10.0.0.13", port: 7401)], folder: folder)
            #expect(again.created.sorted() == [folder + "/pi3.key", folder + "/pi3.pem"])
            _ = try RingCredentials(folder: folder, node: "pi3")
        }
    }

    @Test func aKeyOthersCanReadIsRefused() throws {
        try withTemporaryDirectory { directory in
            let folder = directory.file("ring")
            _ = try RingAuthority.create(members: [RingMember(name: "pi1", host: "h", port: 1)], folder: folder)
            _ = try RingCredentials(folder: folder, node: "pi1")
            chmod(RingAuthority.key(folder, node: "pi1"), 0o644)
            #expect(throws: RingError.self) { try RingCredentials(folder: folder, node: "pi1") }
        }
    }

    @Test func credentialsForTheWrongNodeAreRefused() throws {
        try withTemporaryDirectory { directory in
            let folder = directory.file("ring")
            _ = try RingAuthority.create(members: [RingMember(name: "pi1", host: "h", port: 1)], folder: folder)
            #expect(throws: RingError.self) { try RingCredentials(folder: folder, node: "pi2") }
            try FileManager.default.copyItem(atPath: folder + "/pi1.pem", toPath: folder + "/pi2.pem")
            try FileManager.default.copyItem(atPath: folder + "/pi1.key", toPath: folder + "/pi2.key")
            #expect(throws: RingError.self) { try RingCredentials(folder: folder, node: "pi2") }
        }
    }
}
