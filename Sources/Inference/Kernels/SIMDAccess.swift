// Unaligned 8-lane loads and stores: activations are packed channel rows whose starts need not be 32-byte
// aligned. Swift's SIMD types lower to NEON on arm64 and SSE/AVX on x86-64, so this stays portable.

@inline(__always)
func load8(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self)
}

/// min(max(value, 0), 6) lane by lane. Written with masks because the standard library's generic
/// `clamped(lowerBound:upperBound:)` was not specialised here and took over a third of the run time (perf).
@inline(__always)
func relu6(_ value: SIMD8<Float>) -> SIMD8<Float> {
    var result = value
    result.replace(with: 0, where: result .< 0)
    result.replace(with: 6, where: result .> 6)
    return result
}
