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
    ///   - channels: The tensor's channels, when known: an int8 payload must declare them (or 1).
    ///   - output: Where the float32 values go.
    /// - Throws: `RingError` with `malformed` when the byte count or int8's channel count does not match.
    public static func decode(
        _ data: Data, as encoding: WireEncoding, channels: Int? = nil, into output: UnsafeMutableBufferPointer<Float>
    ) throws {
        // int8's header is read once: its channel count sizes the payload and places the scales.
        let declared = encoding == .int8 ? try Int8Layout.channels(data, values: output.count) : 1
        if encoding == .int8, let channels, declared != channels, declared != 1 {
            throw RingError(.malformed, "int8 payload declares \(declared) channels; the tensor has \(channels)")
        }
        let expected = bytes(values: output.count, encoding, channels: declared)
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
                Int8Layout.decode(raw, channels: declared, into: output)
            }
        }
    }

    /// The bytes a payload of `values` values must have, reading int8's channel count from `data` itself.
    /// - Throws: `RingError` with `malformed` when an int8 header is short or its channel count cannot be right.
    public static func byteCount(of data: Data, values: Int, _ encoding: WireEncoding) throws -> Int {
        let channels = encoding == .int8 ? try Int8Layout.channels(data, values: values) : 1
        return bytes(values: values, encoding, channels: channels)
    }

    private static func bytes(values: Int, _ encoding: WireEncoding, channels: Int) -> Int {
        (encoding == .int8 ? Int8Layout.headerBytes(channels: channels) : 0) + values * width(encoding)
    }
}

/// int8 on the wire: a UInt32 channel count c, c float32 scales, then one signed byte per value; value =
/// byte * scale[index mod c]. Each scale is its channel's largest magnitude over the batch / 127 (symmetric, so
/// the signed outputs of a block's linear projection keep their sign), which bounds a value's error by scale / 2.
/// Encoding runs plain loops that the compiler vectorises; decoding goes 8 channels at a time (the model's
/// boundary tensors have 24 to 112 channels).
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
        guard let source = values.baseAddress else { return Data() }
        let scales = self.scales(source, count: values.count, channels: channels)
        let inverse = scales.map { 1 / $0 }
        var data = Data(count: headerBytes(channels: channels) + values.count)
        data.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(channels), as: UInt32.self)
            for c in 0..<channels { raw.storeBytes(of: scales[c], toByteOffset: 4 + 4 * c, as: Float.self) }
            let out = raw.baseAddress!.advanced(by: headerBytes(channels: channels)).assumingMemoryBound(to: Int8.self)
            inverse.withUnsafeBufferPointer { inverse in
                var index = 0
                while index < values.count {
                    quantisePixel(source + index, inverse.baseAddress!, channels, into: out + index)
                    index &+= channels
                }
            }
        }
        return data
    }

    /// Each channel's largest finite magnitude / 127 (1 for a channel with none but zeros).
    private static func scales(_ source: UnsafePointer<Float>, count: Int, channels: Int) -> [Float] {
        var largest = [Float](repeating: 0, count: channels)
        largest.withUnsafeMutableBufferPointer { buffer in
            let top = buffer.baseAddress!
            var index = 0
            while index < count {
                let pixel = source + index
                for c in 0..<channels { top[c] = Swift.max(top[c], pixel[c].magnitude) }
                index &+= channels
            }
        }
        // A value that is not finite is sent as 0 and must not set its channel's range: where one got in (rare),
        // that channel's range is taken again over its finite values. (Checking every value in the loop above
        // kept it from vectorising: hop 1's encoding took twice as long.)
        for c in 0..<channels where !largest[c].isFinite {
            largest[c] = stride(from: c, to: count, by: channels).reduce(Float(0)) { top, index in
                source[index].isFinite ? Swift.max(top, source[index].magnitude) : top
            }
        }
        return largest.map { $0 > 0 ? $0 / 127 : 1 }
    }

    /// One pixel's channels as signed bytes: round(value / scale) within -127...127; NaN and infinities become 0. Rounds by
    /// adding 1.5 x 2^23, after which a float's low mantissa bits hold the integer (round to nearest, ties to
    /// even): no conversion call per value, and the loop vectorises.
    @inline(__always)
    private static func quantisePixel(
        _ pixel: UnsafePointer<Float>, _ inverse: UnsafePointer<Float>, _ channels: Int,
        into out: UnsafeMutablePointer<Int8>
    ) {
        let magic: Float = 12_582_912
        for c in 0..<channels {
            // Finite values land within 127 (and a rounding) of 0, as the scales cover them; only NaN and the
            // infinities fail `<= 128`, and they are sent as 0.
            let q = pixel[c] * inverse[c]
            let clamped = q.magnitude <= 128 ? Swift.min(Swift.max(q, -127), 127) : 0
            let integer = Int32(bitPattern: (clamped + magic).bitPattern) &- 0x4B40_0000
            out[c] = Int8(truncatingIfNeeded: integer)
        }
    }

    /// Decodes a payload whose size `ActivationCodec.decode` has checked.
    static func decode(_ raw: UnsafeRawBufferPointer, channels: Int, into output: UnsafeMutableBufferPointer<Float>) {
        guard let input = raw.baseAddress, let base = output.baseAddress else { return }
        let scales = (0..<channels).map { input.loadUnaligned(fromByteOffset: 4 + 4 * $0, as: Float.self) }
        let bytes = input.advanced(by: headerBytes(channels: channels))
        scales.withUnsafeBufferPointer { scales in
            let scale = scales.baseAddress!
            var index = 0
            while index < output.count {
                var c = 0
                while c &+ 8 <= channels {
                    let q = bytes.loadUnaligned(fromByteOffset: index &+ c, as: SIMD8<Int8>.self)
                    store8(SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: q)) * load8(scale + c), base + index + c)
                    c &+= 8
                }
                while c < channels {
                    let q = bytes.load(fromByteOffset: index &+ c, as: Int8.self)
                    base[index &+ c] = Float(q) * scale[c]
                    c &+= 1
                }
                index &+= channels
            }
        }
    }

    @inline(__always)
    private static func load8(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    private static func store8(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self)
    }
}
