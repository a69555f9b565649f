import COpenBLAS

/// The BLAS that the engine's 1x1 convolutions run on (OpenBLAS).
public enum BLAS {
    /// Sets how many threads OpenBLAS uses; OpenBLAS otherwise starts one per CPU, which oversubscribes a node
    /// that also decodes and serves gRPC.
    /// - Parameter count: Threads, at least 1.
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(clamping: max(1, count)))
    }

    /// The number of threads OpenBLAS uses now.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// C += A x B^T into a caller's buffer (beta = 1: C already holds the bias): the product of a 1x1 convolution,
    /// rows of A pixels and rows of B output channels. The engine's pointwise layers and the GEMM-floor benchmark
    /// both call it.
    /// - Parameters:
    ///   - a: m x k values.
    ///   - b: n x k values (used transposed).
    ///   - c: Room for m x n values.
    ///   - m: Rows of A and C.
    ///   - n: Rows of B, columns of C.
    ///   - k: Columns of A and B.
    public static func multiplyTransposed(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>, m: Int, n: Int,
        k: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(k), 1, c,
            Int32(n))
    }

    /// C = A x B for row-major single-precision matrices: A is m x k, B is k x n.
    /// - Parameters:
    ///   - a: m x k values.
    ///   - b: k x n values.
    ///   - m: Rows of A and C.
    ///   - n: Columns of B and C.
    ///   - k: Columns of A, rows of B.
    /// - Returns: m x n values, or nil when an argument's size disagrees with the dimensions.
    public static func multiply(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float]? {
        guard m > 0, n > 0, k > 0, a.count == m * k, b.count == k * n else { return nil }
        var c = [Float](repeating: 0, count: m * n)
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
            1, a, Int32(k), b, Int32(n), 0, &c, Int32(n)
        )
        return c
    }
}
