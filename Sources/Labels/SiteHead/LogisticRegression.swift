import COpenBLAS

#if canImport(Glibc)
    import Glibc
#endif

/// L2-regularised multinomial logistic regression, fitted by L-BFGS over BLAS: the loss is the mean cross-entropy
/// plus `l2 / 2` times the squared weights (the biases are not penalised). The loss is strictly convex, so the
/// fit has one optimum; starting from zeros with a fixed iteration schedule, the same data give the same bits
/// (for one BLAS kernel and thread count).
public struct LogisticRegression: Sendable {
    /// Features per example.
    public let features: Int
    public let classes: Int
    public let l2: Float
    /// Iterations at most, and the gradient's largest component at which the fit stops early.
    public var maxIterations = 400
    public var tolerance: Float = 1e-5

    /// A fitted regression: `classes` rows of `features` weights, and a bias per class.
    public struct Fit: Sendable {
        public var weights: [Float]
        public var bias: [Float]
        public var iterations: Int
        public var loss: Double
    }

    /// Creates a problem's settings.
    public init(features: Int, classes: Int, l2: Float) {
        self.features = features
        self.classes = classes
        self.l2 = l2
    }

    /// Fits the regression.
    /// - Parameters:
    ///   - x: `labels.count` rows of `features` values, row-major.
    ///   - labels: Each row's class, in 0..<classes.
    /// - Returns: The fit.
    public func fit(_ x: [Float], labels: [Int]) -> Fit {
        let n = labels.count
        precondition(n > 0 && x.count == n * features, "one row of features per label")
        let size = classes * features + classes
        var theta = [Float](repeating: 0, count: size)
        var gradient = [Float](repeating: 0, count: size)
        var loss = evaluate(theta, x, labels, gradient: &gradient)
        let memory = 10
        var steps: [[Float]] = []
        var changes: [[Float]] = []
        var iterations = 0
        while iterations < maxIterations, (gradient.map { abs($0) }.max() ?? 0) > tolerance {
            iterations += 1
            let direction = Self.direction(gradient, steps, changes)
            let slope = Self.dot(direction, gradient)
            guard slope < 0 else { break }
            // Backtracking until the Armijo condition holds; the first iteration starts from a unit-length step.
            var step: Float = iterations == 1 ? 1 / max(1, Float(Self.norm(gradient))) : 1
            var candidate = theta
            var candidateGradient = gradient
            var candidateLoss = loss
            var accepted = false
            for _ in 0..<40 {
                for i in 0..<size { candidate[i] = theta[i] + step * direction[i] }
                candidateLoss = evaluate(candidate, x, labels, gradient: &candidateGradient)
                if candidateLoss <= loss + 1e-4 * Double(step) * slope {
                    accepted = true
                    break
                }
                step /= 2
            }
            guard accepted else { break }
            var s = [Float](repeating: 0, count: size)
            var y = [Float](repeating: 0, count: size)
            for i in 0..<size {
                s[i] = candidate[i] - theta[i]
                y[i] = candidateGradient[i] - gradient[i]
            }
            if Self.dot(s, y) > 1e-10 {
                steps.append(s)
                changes.append(y)
                if steps.count > memory {
                    steps.removeFirst()
                    changes.removeFirst()
                }
            }
            let previous = loss
            (theta, gradient, loss) = (candidate, candidateGradient, candidateLoss)
            if abs(previous - loss) <= 1e-10 * max(1, abs(loss)) { break }
        }
        let weightCount = classes * features
        return Fit(
            weights: Array(theta[0..<weightCount]), bias: Array(theta[weightCount...]), iterations: iterations,
            loss: loss)
    }

    /// Each row's class probabilities under a fit.
    /// - Returns: `rows` x `classes` probabilities.
    public func probabilities(_ x: [Float], rows: Int, fit: Fit) -> [Float] {
        var z = [Float](repeating: 0, count: rows * classes)
        logits(fit.weights, fit.bias, x, rows: rows, into: &z)
        for r in 0..<rows { Self.softmaxRow(&z, r * classes, classes) }
        return z
    }

    private func logits(_ weights: [Float], _ bias: [Float], _ x: [Float], rows: Int, into z: inout [Float]) {
        for r in 0..<rows { for c in 0..<classes { z[r * classes + c] = bias[c] } }
        x.withUnsafeBufferPointer { xb in
            weights.withUnsafeBufferPointer { wb in
                z.withUnsafeMutableBufferPointer { zb in
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(classes), Int32(features), 1,
                        xb.baseAddress, Int32(features), wb.baseAddress, Int32(features), 1, zb.baseAddress,
                        Int32(classes))
                }
            }
        }
    }

    /// The loss at `theta`, and its gradient.
    private func evaluate(_ theta: [Float], _ x: [Float], _ labels: [Int], gradient: inout [Float]) -> Double {
        let n = labels.count
        let weightCount = classes * features
        var z = [Float](repeating: 0, count: n * classes)
        logits(Array(theta[0..<weightCount]), Array(theta[weightCount...]), x, rows: n, into: &z)
        var loss = 0.0
        for r in 0..<n {
            Self.softmaxRow(&z, r * classes, classes)
            loss -= log(Double(max(z[r * classes + labels[r]], Float.leastNormalMagnitude)))
            z[r * classes + labels[r]] -= 1
        }
        loss /= Double(n)
        // Gradient of the weights: (P - Y)^T X / n + l2 W; of the biases: the column means of P - Y.
        for i in 0..<weightCount { gradient[i] = l2 * theta[i] }
        z.withUnsafeBufferPointer { zb in
            x.withUnsafeBufferPointer { xb in
                gradient.withUnsafeMutableBufferPointer { gb in
                    cblas_sgemm(
                        CblasRowMajor, CblasTrans, CblasNoTrans, Int32(classes), Int32(features), Int32(n),
                        1 / Float(n), zb.baseAddress, Int32(classes), xb.baseAddress, Int32(features), 1,
                        gb.baseAddress, Int32(features))
                }
            }
        }
        for c in 0..<classes {
            var sum: Float = 0
            for r in 0..<n { sum += z[r * classes + c] }
            gradient[weightCount + c] = sum / Float(n)
        }
        var squares = 0.0
        for i in 0..<weightCount { squares += Double(theta[i]) * Double(theta[i]) }
        return loss + Double(l2) / 2 * squares
    }

    private static func softmaxRow(_ z: inout [Float], _ start: Int, _ count: Int) {
        var largest = -Float.infinity
        for i in start..<(start + count) { largest = max(largest, z[i]) }
        var total: Float = 0
        for i in start..<(start + count) {
            z[i] = expf(z[i] - largest)
            total += z[i]
        }
        for i in start..<(start + count) { z[i] /= total }
    }

    /// L-BFGS's two-loop recursion: the descent direction from the gradient and the last steps' curvature pairs.
    private static func direction(_ gradient: [Float], _ steps: [[Float]], _ changes: [[Float]]) -> [Float] {
        var q = gradient
        var alphas = [Double](repeating: 0, count: steps.count)
        for k in steps.indices.reversed() {
            let rho = 1 / dot(changes[k], steps[k])
            alphas[k] = rho * dot(steps[k], q)
            for i in q.indices { q[i] -= Float(alphas[k]) * changes[k][i] }
        }
        if let s = steps.last, let y = changes.last {
            let gamma = Float(dot(s, y) / dot(y, y))
            for i in q.indices { q[i] *= gamma }
        }
        for k in steps.indices {
            let rho = 1 / dot(changes[k], steps[k])
            let beta = rho * dot(changes[k], q)
            for i in q.indices { q[i] += steps[k][i] * Float(alphas[k] - beta) }
        }
        for i in q.indices { q[i] = -q[i] }
        return q
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Double {
        var sum = 0.0
        for i in a.indices { sum += Double(a[i]) * Double(b[i]) }
        return sum
    }

    static func norm(_ a: [Float]) -> Double { dot(a, a).squareRoot() }
}
