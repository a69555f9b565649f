/// float32 to and from IEEE binary16, eight values at a time with integer arithmetic. Without hardware
/// conversion (x86_64 without F16C, as the toolchain targets by default) `Float16(x)` goes through a library call
/// per value, which made float16 activations slower to send than float32 ones; these run in a few vector
/// instructions on any CPU and round to nearest even, exactly as `Float16(x)` does (the tests check that).
enum HalfConversion {
    /// Converts eight floats to binary16 bit patterns.
    @inline(__always)
    static func halves(_ values: SIMD8<Float>) -> SIMD8<UInt16> {
        let bits = unsafeBitCast(values, to: SIMD8<UInt32>.self)
        let sign = (bits &>> 16) & 0x8000
        let magnitude = bits & 0x7FFF_FFFF
        // Normal halves: re-bias the exponent (127 - 15), then round the 13 dropped bits to nearest even.
        let odd = (magnitude &>> 13) & 1
        var result = (magnitude &+ 0xC800_0FFF &+ odd) &>> 13
        // Below 2^-14 the half is subnormal: adding 0.5 makes the float unit in the last place 2^-24, the
        // half's subnormal step, so the FPU's own rounding gives the half's mantissa.
        let small = unsafeBitCast(magnitude, to: SIMD8<Float>.self) + 0.5
        result.replace(
            with: unsafeBitCast(small, to: SIMD8<UInt32>.self) &- 0x3F00_0000, where: magnitude .< 0x3880_0000)
        // From 65520 up (which rounds past the largest half) infinity; NaN stays NaN (quiet).
        result.replace(with: 0x7C00, where: magnitude .>= 0x477F_F000)
        result.replace(with: 0x7E00, where: magnitude .> 0x7F80_0000)
        return SIMD8<UInt16>(truncatingIfNeeded: result | sign)
    }

    /// Converts eight binary16 bit patterns to floats (exactly: every half is a float).
    @inline(__always)
    static func floats(_ halves: SIMD8<UInt16>) -> SIMD8<Float> {
        let h = SIMD8<UInt32>(truncatingIfNeeded: halves)
        let sign = (h & 0x8000) &<< 16
        let exponent = (h &>> 10) & 0x1F
        let mantissa = h & 0x3FF
        var bits = ((exponent &+ 112) &<< 23) | (mantissa &<< 13)
        let subnormal = SIMD8<Float>(mantissa) * 5.960_464_5e-8  // 2^-24
        bits.replace(with: unsafeBitCast(subnormal, to: SIMD8<UInt32>.self), where: exponent .== 0)
        bits.replace(with: 0x7F80_0000 | (mantissa &<< 13), where: exponent .== 31)
        return unsafeBitCast(bits | sign, to: SIMD8<Float>.self)
    }
}
