import FoundationEssentials
import SwiftProtobuf

/// One message of the framed activation stream (`ring.transport: framed`), the alternative to gRPC's Forward and
/// Deliver streams. On the wire a frame is a 4-byte big-endian length, then a body of that many bytes:
///
///     kind (1 byte) | header length (4 bytes, big-endian) | header | payload
///
/// For activations and logits the header is the protobuf message with its `data` field left empty and the payload
/// is that field's bytes, so the large part is never copied through protobuf; a refusal's header is its reason in
/// UTF-8 and it has no payload. Parsing is kept free of the network code so that it can be fuzzed.
public enum RingFrame: Sendable {
    case activations(Trapline_Ring_V1_Activations)
    case logits(Trapline_Ring_V1_Logits)
    /// The receiver's reason for closing the stream (a malformed, oversized or unexpected frame, or a peer that is
    /// not a member of the ring).
    case refusal(String)

    /// Bytes before the body: its length.
    public static let lengthBytes = 4
    /// Bytes of the body before the header.
    public static let bodyPrefixBytes = 5

    enum Kind: UInt8 {
        case activations = 1, logits = 2, refusal = 3
    }

    /// Parses a frame's body (the bytes after the length).
    /// - Throws: `RingError` with `malformed` for an unknown kind, a header that overruns the body, a header that is
    ///   not a valid message, or a payload on a refusal.
    public init(body: UnsafeRawBufferPointer) throws {
        guard body.count >= Self.bodyPrefixBytes, let base = body.baseAddress else {
            throw RingError(.malformed, "a frame of \(body.count) bytes is too short")
        }
        guard let kind = Kind(rawValue: body[0]) else {
            throw RingError(.malformed, "unknown frame kind \(body[0])")
        }
        let headerLength = Int(UInt32(bigEndian: base.loadUnaligned(fromByteOffset: 1, as: UInt32.self)))
        guard headerLength <= body.count - Self.bodyPrefixBytes else {
            throw RingError(.malformed, "a frame header of \(headerLength) bytes overruns its frame")
        }
        let header = UnsafeRawBufferPointer(
            rebasing: body[Self.bodyPrefixBytes..<(Self.bodyPrefixBytes + headerLength)])
        let payload = UnsafeRawBufferPointer(rebasing: body[(Self.bodyPrefixBytes + headerLength)...])
        do {
            switch kind {
            case .activations:
                var message = try Trapline_Ring_V1_Activations(serializedBytes: Array(header))
                guard message.data.isEmpty else { throw RingError(.malformed, "activations carry data twice") }
                message.data = Data(payload)
                self = .activations(message)
            case .logits:
                var message = try Trapline_Ring_V1_Logits(serializedBytes: Array(header))
                guard message.data.isEmpty else { throw RingError(.malformed, "logits carry data twice") }
                message.data = Data(payload)
                self = .logits(message)
            case .refusal:
                guard payload.isEmpty else { throw RingError(.malformed, "a refusal carries a payload") }
                self = .refusal(String(decoding: header, as: UTF8.self))
            }
        } catch let error as RingError {
            throw error
        } catch {
            throw RingError(.malformed, "a frame header is not a valid message: \(error)")
        }
    }

    /// The frame split for writing: everything before the payload (length, kind, header length, header), then the
    /// payload, which the ring writes straight from its message without joining the two.
    /// - Throws: When protobuf cannot serialise the header (it can always, for these messages).
    public func split() throws -> (prefix: [UInt8], payload: Data) {
        let kind: Kind
        let header: [UInt8]
        let payload: Data
        switch self {
        case .activations(let message):
            var stripped = message
            stripped.data = Data()
            (kind, header, payload) = (.activations, try stripped.serializedBytes(), message.data)
        case .logits(let message):
            var stripped = message
            stripped.data = Data()
            (kind, header, payload) = (.logits, try stripped.serializedBytes(), message.data)
        case .refusal(let reason):
            (kind, header, payload) = (.refusal, Array(reason.utf8), Data())
        }
        var prefix: [UInt8] = []
        prefix.reserveCapacity(Self.lengthBytes + Self.bodyPrefixBytes + header.count)
        withUnsafeBytes(of: UInt32(Self.bodyPrefixBytes + header.count + payload.count).bigEndian) { prefix += $0 }
        prefix.append(kind.rawValue)
        withUnsafeBytes(of: UInt32(header.count).bigEndian) { prefix += $0 }
        prefix += header
        return (prefix, payload)
    }

    /// The whole frame as one byte array (for tests and tools).
    public func bytes() throws -> [UInt8] {
        let (prefix, payload) = try split()
        return prefix + payload
    }
}
