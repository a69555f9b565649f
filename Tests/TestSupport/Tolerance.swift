/// How far apart two float32 evaluations of the network may be, derived from the arithmetic (docs/testing.md,
/// and Training/trapline_training/tolerance.py, which the Python suite uses).
///
/// Two correct implementations (PyTorch on any ISA, OpenBLAS with any kernel, the engine with its own buffers
/// or threads) differ only in rounding. An n-term float32 sum errs by at most lambda * sqrt(n) * u * sum|terms|
/// with probability 1 - 2 exp(-lambda^2 / 2) (Higham and Mary, SIAM J. Sci. Comput. 41(5), 2019), u = 2^-24.
/// Summing the fan-ins along the path (`ModelMetadata.accumulatedFanIn`) and taking the tensor's largest
/// magnitude as the scale of the terms, each implementation errs by about lambda * u * sqrt(N) * max|T|; two may
/// err in opposite directions: twice that. lambda = 4; the largest ratio measured against float64 was 1.24.
public enum Tolerance {
    public static let unitRoundoff: Double = 0x1p-24
    public static let lambda: Double = 4

    /// The largest absolute difference allowed between two float32 evaluations of a tensor.
    /// - Parameters:
    ///   - fanIn: Products summed along the path to the tensor (`ModelMetadata.accumulatedFanIn(units:)`).
    ///   - scale: The largest magnitude in the reference tensor.
    public static func float32(fanIn: Int, scale: Float) -> Float {
        Float(2 * lambda * unitRoundoff * Double(fanIn).squareRoot() * Double(scale))
    }

    /// `float32` with the scale taken from the reference values.
    public static func float32(fanIn: Int, reference: [Float]) -> Float {
        float32(fanIn: fanIn, scale: reference.map(abs).max() ?? 0)
    }

    /// Products summed along the bundled model (EfficientNet-Lite0 at 224 x 224) from input to logits: what
    /// `ModelMetadata.accumulatedFanIn(units: 0..<18)` gives (checked in InferenceTests), for the tests that see the
    /// model only through the `trapline` binary.
    public static let bundledModelFanIn = 12_412

    /// The bundled model's logits on photos stay below 16 in magnitude (the goldens' largest is 9.6): the scale for
    /// comparing what two runs of the binary wrote, where the logits themselves are not printed.
    public static let bundledModelLogitScale: Float = 16

    /// How far apart two float32 runs of the whole bundled model (another batch, slicing, process or thread count)
    /// may write a probability: 1.7e-3.
    public static var bundledModelProbability: Float {
        probability(logits: float32(fanIn: bundledModelFanIn, scale: bundledModelLogitScale))
    }

    /// The largest absolute difference allowed between softmax probabilities whose logits may differ by
    /// `logits`: |dp_i| = p_i |dz_i - sum_j p_j dz_j| <= 2 max|dz|, with p_i <= 1.
    public static func probability(logits: Float) -> Float { 2 * logits }
}
