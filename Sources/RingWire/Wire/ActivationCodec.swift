import FoundationEssentials

#if _endian(big)
    #error("the ring's wire format is little-endian; add byte swapping for a big-endian host")
#endif

/// Activations to and from the wire: float32 as is, or rounded to float16 (half the bytes). Both are
/// little-endian, which every host trapline runs on (x86_64, arm64) already is.
public enum ActivationCodec {
    /// Bytes per value on the wire.
    public static func width(_ encoding: WireEncoding) -> Int { encoding == .float16 ? 2 : 4 }

    /// Encodes values.
    /// - Parameters:
    ///   - values: The float32 activations.
    ///   - encoding: The wire encoding.
    /// - Returns: The bytes.
    public static func encode(_ values: UnsafeBufferPointer<Float>, as encoding: WireEncoding) -> Data {
        guard let base = values.baseAddress else { return Data() }
        switch encoding {
        case .float32:
            return Data(buffer: values)
        case .float16:
            var data = Data(count: values.count * 2)
            data.withUnsafeMutableBytes { raw in
                let out = raw.bindMemory(to: UInt16.self)
                for index in 0..<values.count { out[index] = HalfConversion.half(base[index]) }
            }
            return data
        }
    }

    /// Decodes exactly `output.count` values.
    /// - Parameters:
    ///   - data: The bytes from the wire.
    ///   - encoding: Their encoding.
    ///   - output: Where the float32 values go.
    /// - Throws: `RingError` with `malformed` when the byte count does not match.
    public static func decode(_ data: Data, as encoding: WireEncoding, into output: UnsafeMutableBufferPointer<Float>)
        throws
    {
        let expected = output.count * width(encoding)
        guard data.count == expected else {
            throw RingError(.malformed, "activation payload has \(data.count) bytes, expected \(expected)")
        }
        guard let base = output.baseAddress else { return }
        data.withUnsafeBytes { raw in
            switch encoding {
            case .float32:
                _ = raw.copyBytes(to: UnsafeMutableRawBufferPointer(output))
            case .float16:
                // The payload's alignment is not guaranteed: read values unaligned (the size was checked above).
                guard let input = raw.baseAddress else { return }
                for index in 0..<output.count {
                    base[index] = HalfConversion.float(input.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
                }
            }
        }
    }
}
