import FoundationEssentials
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A validated model: its metadata and every unit's weights at every prune level, batch norm folded in.
/// Immutable and shareable between engines.
public struct Model: Sendable {
    public let metadata: ModelMetadata
    let units: [UnitWeights]

    /// The number of prune levels.
    public var levelCount: Int { metadata.pruneLevels.count }

    /// The number of units (stem, blocks, head).
    public var unitCount: Int { metadata.units.count }

    /// Bytes of folded weights the engine keeps in memory, every level included.
    public var weightBytes: Int {
        func bytes(_ p: PointwiseWeights) -> Int { (p.weights.count + p.bias.count) * MemoryLayout<Float>.size }
        return units.reduce(0) { total, unit in
            switch unit {
            case .stem(_, _, let levels): return total + levels.reduce(0) { $0 + bytes($1) }
            case .block(_, let levels):
                return total
                    + levels.reduce(0) {
                        $0 + ($1.expand.map(bytes) ?? 0) + bytes($1.project)
                            + ($1.depthwise.weights.count + $1.depthwise.bias.count) * MemoryLayout<Float>.size
                    }
            case .head(let levels): return total + levels.reduce(0) { $0 + bytes($1.conv) + bytes($1.classifier) }
            }
        }
    }

    /// Loads and validates a model file.
    /// - Parameter path: The safetensors model file.
    /// - Returns: The model.
    /// - Throws: `InferenceError` naming what is wrong with the file.
    public static func load(path: String) throws -> Model {
        try Model(fileBytes: readFile(path))
    }

    /// Validates and folds a model file already in memory.
    /// - Parameter fileBytes: The whole file.
    /// - Throws: `InferenceError` naming what is wrong.
    public init(fileBytes: [UInt8]) throws {
        let file = try SafeTensors(bytes: fileBytes)
        guard let text = file.metadata["trapline"] else {
            throw InferenceError.model("the safetensors metadata has no \"trapline\" entry: not a trapline model file")
        }
        let metadata: ModelMetadata
        do {
            metadata = try JSONDecoder().decode(ModelMetadata.self, from: Data(text.utf8))
        } catch {
            throw InferenceError.model("the trapline metadata is not valid: \(error)")
        }
        try metadata.validate()
        var reader = WeightReader(file: file, epsilon: metadata.batchNormEpsilon, refit: metadata.hasRefitLevels)
        var units: [UnitWeights] = []
        for index in metadata.units.indices {
            units.append(try Self.loadUnit(index, metadata, &reader))
        }
        let unused = Set(file.entries.keys).subtracting(reader.used)
        if let extra = unused.sorted().first {
            throw InferenceError.model(
                "unexpected tensor \(extra) (and \(unused.count - 1) more) for this architecture")
        }
        self.metadata = metadata
        self.units = units
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        do {
            let fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
            defer { try? fd.close() }
            let size = try fd.seek(offset: 0, from: .end)
            guard size > 0, size < 1 << 31 else { throw InferenceError(.unreadableFile, "\(path): empty or too large") }
            _ = try fd.seek(offset: 0, from: .start)
            var bytes = [UInt8](repeating: 0, count: Int(size))
            var filled = 0
            while filled < bytes.count {
                let count = try bytes.withUnsafeMutableBytes { buffer in
                    try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                }
                guard count > 0 else { throw InferenceError(.unreadableFile, "\(path): file shrank while read") }
                filled += count
            }
            return bytes
        } catch let error as InferenceError {
            throw error
        } catch {
            throw InferenceError(.unreadableFile, "cannot read model file \(path): \(error)")
        }
    }
}
