/// float32 to and from IEEE binary16 with integer arithmetic. Without hardware conversion (x86_64 without F16C,
/// as the toolchain targets by default) `Float16(x)` is a library call per value, which made float16 activations
/// slower to send than float32 ones. These round to nearest even exactly as `Float16(x)` does (the tests check
/// every case against it) and cost a few instructions per value on any CPU.
enum HalfConversion {
    /// The binary16 bit pattern nearest to `value`. All three cases are computed and selects pick one, with no
    /// branch: a ReLU's output mixes zeros (the subnormal case) with positive values, which made a branching
    /// version mispredict.
    @inline(__always)
    static func half(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = (bits >> 16) & 0x8000
        let magnitude = bits & 0x7FFF_FFFF
        // Normal: re-bias the exponent (127 - 15) and round the 13 dropped bits to nearest even.
        let normal = (magnitude &+ 0xC800_0FFF &+ ((magnitude >> 13) & 1)) >> 13
        // Below 2^-14 the half is subnormal: adding 0.5 makes the float's unit in the last place 2^-24, the half's
        // subnormal step, so the FPU's own rounding yields the half's mantissa.
        let subnormal = (Float(bitPattern: magnitude) + 0.5).bitPattern &- 0x3F00_0000
        // 65520 and up round past the largest half: infinity; NaN stays a (quiet) NaN.
        let infinite: UInt32 = magnitude > 0x7F80_0000 ? 0x7E00 : 0x7C00
        var result = magnitude < 0x3880_0000 ? subnormal : normal
        result = magnitude >= 0x477F_F000 ? infinite : result
        return UInt16(truncatingIfNeeded: result | sign)
    }

    /// The float equal to a binary16 bit pattern, again without a branch.
    @inline(__always)
    static func float(_ half: UInt16) -> Float {
        let h = UInt32(half)
        let sign = (h & 0x8000) << 16
        let exponent = h & 0x7C00
        // Normal: re-bias the exponent (127 - 15); infinity and NaN: once more, to the float's top exponent.
        var bits = ((h & 0x7FFF) << 13) &+ (112 << 23)
        bits = exponent == 0x7C00 ? bits &+ (112 << 23) : bits
        // Subnormal and zero: the mantissa counts steps of 2^-24.
        let steps = Float(Int32(bitPattern: h & 0x3FF)) * 5.960_464_5e-8
        bits = exponent == 0 ? steps.bitPattern : bits
        return Float(bitPattern: bits | sign)
    }
}
