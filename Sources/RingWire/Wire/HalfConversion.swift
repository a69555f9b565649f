/// float32 to and from IEEE binary16 with integer arithmetic. Without hardware conversion (x86_64 without F16C,
/// as the toolchain targets by default) `Float16(x)` is a library call per value, which made float16 activations
/// slower to send than float32 ones. These round to nearest even exactly as `Float16(x)` does (the tests check
/// every case against it) and cost a few instructions per value on any CPU.
enum HalfConversion {
    /// The binary16 bit pattern nearest to `value`.
    @inline(__always)
    static func half(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let magnitude = bits & 0x7FFF_FFFF
        if magnitude >= 0x477F_F000 {
            // 65520 and up round past the largest half: infinity; NaN stays a (quiet) NaN.
            return sign | (magnitude > 0x7F80_0000 ? 0x7E00 : 0x7C00)
        }
        if magnitude < 0x3880_0000 {
            // Below 2^-14 the half is subnormal: adding 0.5 makes the float's unit in the last place 2^-24, the
            // half's subnormal step, so the FPU's own rounding yields the half's mantissa.
            let shifted = Float(bitPattern: magnitude) + 0.5
            return sign | UInt16(truncatingIfNeeded: shifted.bitPattern &- 0x3F00_0000)
        }
        // Re-bias the exponent (127 - 15) and round the 13 dropped bits to nearest even.
        let odd = (magnitude >> 13) & 1
        return sign | UInt16(truncatingIfNeeded: (magnitude &+ 0xC800_0FFF &+ odd) >> 13)
    }

    /// Every half as a float, indexed by bit pattern (256 KiB, made once): decoding is one load per value.
    static let table: [Float] = (0...0xFFFF).map { float(UInt16($0)) }

    /// The float equal to a binary16 bit pattern.
    static func float(_ half: UInt16) -> Float {
        let h = UInt32(half)
        let sign = (h & 0x8000) << 16
        let exponent = (h >> 10) & 0x1F
        let mantissa = h & 0x3FF
        switch exponent {
        case 0: return Float(bitPattern: sign | (Float(mantissa) * 5.960_464_5e-8).bitPattern)  // 2^-24 steps
        case 31: return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default: return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }
}
