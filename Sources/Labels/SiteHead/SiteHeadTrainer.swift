/// Fits a site head from labelled feature rows: standardises the features, cross-validates at full width, then
/// fits one regression per width level of the model's head on all the examples.
public struct SiteHeadTrainer: Sendable {
    /// The L2 penalty on standardised features: 1/n of a unit-variance prior per weight, for a few hundred examples
    /// in about 1,300 dimensions, where an unpenalised fit would separate the classes with unbounded weights.
    public static let defaultL2: Float = 0.01
    /// The site head's probability a class needs to be written.
    public static let defaultThreshold: Float = 0.6

    public var l2 = SiteHeadTrainer.defaultL2
    public var threshold = SiteHeadTrainer.defaultThreshold
    /// Folds of the cross-validation (fewer when the smallest class has fewer examples).
    public var folds = 5

    public init() {}

    /// Fits a head.
    /// - Parameters:
    ///   - rows: One row of pooled features (full width) per example.
    ///   - labels: Each example's class index.
    ///   - classes: The classes, their names resolved.
    ///   - keptPerLevel: The head's kept channels at each width level of the model.
    ///   - modelID: The model file's SHA-256.
    ///   - modelName: The model's name.
    ///   - progress: Called with (done, total) fits.
    /// - Returns: The head, with its cross-validation.
    public func fit(
        rows: [[Float]], labels: [Int], classes: [SiteHead.SiteClass], keptPerLevel: [Int], modelID: String,
        modelName: String, progress: (Int, Int) -> Void = { _, _ in }
    ) -> SiteHead {
        precondition(!rows.isEmpty && rows.count == labels.count, "one label per row")
        let d = rows[0].count
        let (mean, inverseScale) = Self.standardisation(rows)
        let smallest = (0..<classes.count).map { c in labels.filter { $0 == c }.count }.min() ?? 0
        let folds = min(self.folds, smallest)
        let total = (folds >= 2 ? folds : 0) + keptPerLevel.count
        var done = 0
        var validation: SiteHead.Validation?
        var distances = [[Double]](repeating: [], count: classes.count)
        if folds >= 2 {
            // Stratified: within each class, examples in the order given go to folds 0, 1, 2, ... in turn.
            var seen = [Int](repeating: 0, count: classes.count)
            let fold = labels.map { label -> Int in
                defer { seen[label] += 1 }
                return seen[label] % folds
            }
            var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes.count), count: classes.count)
            for k in 0..<folds {
                let train = rows.indices.filter { fold[$0] != k }
                let test = rows.indices.filter { fold[$0] == k }
                let stats = Self.standardisation(train.map { rows[$0] })
                let problem = LogisticRegression(features: d, classes: classes.count, l2: l2)
                let fit = problem.fit(
                    Self.matrix(train.map { rows[$0] }, stats.mean, stats.inverseScale, kept: d),
                    labels: train.map { labels[$0] })
                let p = problem.probabilities(
                    Self.matrix(test.map { rows[$0] }, stats.mean, stats.inverseScale, kept: d), rows: test.count,
                    fit: fit)
                let centroids = Self.centroids(train.map { rows[$0] }, train.map { labels[$0] }, classes.count)
                for index in test {
                    distances[labels[index]].append(Self.cosineDistance(rows[index], centroids[labels[index]]))
                }
                for (row, index) in test.enumerated() {
                    let scores = p[(row * classes.count)..<((row + 1) * classes.count)]
                    let predicted = scores.indices.max { scores[$0] < scores[$1] }! - row * classes.count
                    confusion[labels[index]][predicted] += 1
                }
                done += 1
                progress(done, total)
            }
            let right = (0..<classes.count).map { confusion[$0][$0] }.reduce(0, +)
            validation = SiteHead.Validation(
                folds: folds, accuracy: Double(right) / Double(rows.count),
                recall: (0..<classes.count).map {
                    let count = confusion[$0].reduce(0, +)
                    return count == 0 ? 0 : Double(confusion[$0][$0]) / Double(count)
                },
                confusion: confusion)
        }
        var levels: [SiteHead.Level] = []
        for kept in keptPerLevel {
            let width = min(max(1, kept), d)
            let problem = LogisticRegression(features: width, classes: classes.count, l2: l2)
            let fit = problem.fit(Self.matrix(rows, mean, inverseScale, kept: width), labels: labels)
            levels.append(SiteHead.Level(kept: width, weights: fit.weights, bias: fit.bias))
            done += 1
            progress(done, total)
        }
        let centroids = Self.centroids(rows, labels, classes.count)
        // Without cross-validation (a class of one example per fold) nothing is left out: no radius limits.
        let radius = distances.map { $0.isEmpty ? Float(2) : Float(Self.quantile($0, SiteHead.radiusQuantile)) }
        return SiteHead(
            modelID: modelID, modelName: modelName, classes: classes, mean: mean, inverseScale: inverseScale,
            levels: levels, centroids: centroids.flatMap { $0 }, radius: radius, l2: l2, threshold: threshold,
            validation: validation)
    }

    /// Per class, the mean of its rows.
    static func centroids(_ rows: [[Float]], _ labels: [Int], _ classes: Int) -> [[Float]] {
        let d = rows.first?.count ?? 0
        var sums = [[Double]](repeating: [Double](repeating: 0, count: d), count: classes)
        var counts = [Int](repeating: 0, count: classes)
        for (row, label) in zip(rows, labels) {
            counts[label] += 1
            for j in 0..<d { sums[label][j] += Double(row[j]) }
        }
        return (0..<classes).map { c in sums[c].map { Float($0 / Double(max(1, counts[c]))) } }
    }

    /// 1 minus the cosine of the angle between two vectors (2 when either is zero).
    static func cosineDistance(_ a: [Float], _ b: [Float]) -> Double {
        var (dot, aa, bb) = (0.0, 0.0, 0.0)
        for j in a.indices {
            dot += Double(a[j]) * Double(b[j])
            aa += Double(a[j]) * Double(a[j])
            bb += Double(b[j]) * Double(b[j])
        }
        return aa > 0 && bb > 0 ? 1 - dot / (aa * bb).squareRoot() : 2
    }

    /// The q-quantile of values by the nearest rank (the smallest value with at least q of them at or below it).
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        let rank = max(1, Int((q * Double(sorted.count)).rounded(.up)))
        return sorted[min(rank, sorted.count) - 1]
    }

    /// Per feature, the mean and the reciprocal of the standard deviation (1 for a feature that never varies).
    static func standardisation(_ rows: [[Float]]) -> (mean: [Float], inverseScale: [Float]) {
        let d = rows[0].count
        var sum = [Double](repeating: 0, count: d)
        var squares = [Double](repeating: 0, count: d)
        for row in rows {
            for j in 0..<d {
                sum[j] += Double(row[j])
                squares[j] += Double(row[j]) * Double(row[j])
            }
        }
        let n = Double(rows.count)
        let mean = sum.map { $0 / n }
        let inverse = (0..<d).map { j -> Float in
            let variance = max(0, squares[j] / n - mean[j] * mean[j])
            return variance > 1e-12 ? Float(1 / variance.squareRoot()) : 1
        }
        return (mean.map(Float.init), inverse)
    }

    /// Rows standardised and cut to their first `kept` features, row-major.
    static func matrix(_ rows: [[Float]], _ mean: [Float], _ inverseScale: [Float], kept: Int) -> [Float] {
        var x = [Float]()
        x.reserveCapacity(rows.count * kept)
        for row in rows { for j in 0..<kept { x.append((row[j] - mean[j]) * inverseScale[j]) } }
        return x
    }
}
