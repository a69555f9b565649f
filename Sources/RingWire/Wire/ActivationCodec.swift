import FoundationEssentials

#if _endian(big)
    #error("the ring's wire format is little-endian; add byte swapping for a big-endian host")
#endif

/// Activations to and from the wire: float32 as is, rounded to float16 (half the bytes), or 8-bit with a scale per
/// channel (a quarter, plus the scales). All little-endian, which every host trapline runs on (x86_64, arm64)
/// already is.
public enum ActivationCodec {
    /// Bytes per value on the wire (int8 adds a header: `Int8Layout`).
    public static func width(_ encoding: WireEncoding) -> Int {
        switch encoding {
        case .float32: 4
        case .float16: 2
        case .int8: 1
        }
    }

    /// Encodes values.
    /// - Parameters:
    ///   - values: The float32 activations, NHWC.
    ///   - encoding: The wire encoding.
    ///   - channels: The tensor's channels (the innermost dimension), for int8's per-channel scales.
    /// - Returns: The bytes.
    public static func encode(_ values: UnsafeBufferPointer<Float>, as encoding: WireEncoding, channels: Int = 1)
        -> Data
    {
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
        case .int8:
            // A channel count that does not divide the values would misplace the scales: one scale then.
            return Int8Layout.encode(values, channels: channels >= 1 && values.count % channels == 0 ? channels : 1)
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
        let expected = try byteCount(of: data, values: output.count, encoding)
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
            case .int8:
                Int8Layout.decode(raw, into: output)
            }
        }
    }

    /// The bytes a payload of `values` values must have, reading int8's channel count from `data` itself.
    /// - Throws: `RingError` with `malformed` when an int8 header is short or its channel count cannot be right.
    public static func byteCount(of data: Data, values: Int, _ encoding: WireEncoding) throws -> Int {
        guard encoding == .int8 else { return values * width(encoding) }
        let channels = try Int8Layout.channels(data, values: values)
        return Int8Layout.headerBytes(channels: channels) + values
    }
}

/// int8 on the wire: a UInt32 channel count c, c float32 scales, then one signed byte per value; value =
/// byte * scale[index mod c]. Each scale is its channel's largest magnitude over the batch / 127 (symmetric, so
/// the signed outputs of a block's linear projection keep their sign), which bounds a value's error by scale / 2.
enum Int8Layout {
    static func headerBytes(channels: Int) -> Int { 4 + 4 * channels }

    static func channels(_ data: Data, values: Int) throws -> Int {
        guard data.count >= 4 else { throw RingError(.malformed, "int8 payload of \(data.count) bytes has no header") }
        let channels = Int(data.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
        guard channels >= 1, values % channels == 0 else {
            throw RingError(.malformed, "int8 payload declares \(channels) channels for \(values) values")
        }
        return channels
    }

    static func encode(_ values: UnsafeBufferPointer<Float>, channels: Int) -> Data {
        var largest = [Float](repeating: 0, count: channels)
        for index in 0..<values.count {
            let c = index % channels
            largest[c] = max(largest[c], abs(values[index]))
        }
        let scales = largest.map { $0 > 0 && $0.isFinite ? $0 / 127 : 1 }
        var data = Data(count: headerBytes(channels: channels) + values.count)
        data.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(channels), as: UInt32.self)
            for c in 0..<channels { raw.storeBytes(of: scales[c], toByteOffset: 4 + 4 * c, as: Float.self) }
            let out = raw.baseAddress!.advanced(by: headerBytes(channels: channels)).assumingMemoryBound(to: Int8.self)
            let inverse = scales.map { 1 / $0 }
            var index = 0
            while index < values.count {
                for c in 0..<channels {
                    let q = (values[index + c] * inverse[c]).rounded()
                    out[index + c] = q.isNaN ? 0 : Int8(max(-127, min(127, q)))
                }
                index += channels
            }
        }
        return data
    }

    /// Decodes a payload whose size `ActivationCodec.decode` has checked.
    static func decode(_ raw: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        guard let input = raw.baseAddress else { return }
        let channels = Int(input.loadUnaligned(as: UInt32.self))
        let scales = (0..<channels).map { input.loadUnaligned(fromByteOffset: 4 + 4 * $0, as: Float.self) }
        let bytes = input.advanced(by: headerBytes(channels: channels)).assumingMemoryBound(to: Int8.self)
        var index = 0
        while index < output.count {
            for c in 0..<channels { output[index + c] = Float(bytes[index + c]) * scales[c] }
            index += channels
        }
    }
}
