import Catalog
import Inference

#if canImport(Glibc)
    import Glibc
#endif

/// Finds and loads the model: an explicit path, `$TRAPLINE_MODEL`, the installed package's copy, or (for a
/// developer's build, found from the executable's path `.build/<config>/trapline`) the source tree's `Models/`.
public enum ModelLocator {
    public static let fileName = "efficientnet-lite0.safetensors"

    /// The places looked in, in order.
    public static func candidates(environment: [String: String], executable: String) -> [String] {
        var paths: [String] = []
        if let path = environment["TRAPLINE_MODEL"], !path.isEmpty { paths.append(path) }
        paths.append("/usr/share/trapline/models/\(fileName)")
        if let slash = executable.lastIndex(of: "/") {
            let directory = String(executable[..<slash])
            paths.append("\(directory)/../../Models/\(fileName)")
            paths.append("\(directory)/../../../Models/\(fileName)")
        }
        paths.append("Models/\(fileName)")
        return paths
    }

    /// Loads the model at `explicit`, or the first readable candidate.
    /// - Returns: The model, the path it came from, and the file's SHA-256 (the model's ID in the catalog).
    /// - Throws: `ConfigError` for `model.path` when nothing is found or the file is invalid.
    public static func load(
        _ explicit: String?, environment: [String: String], executable: String
    ) throws -> (model: Model, path: String, sha256: String) {
        let candidates = explicit.map { [$0] } ?? candidates(environment: environment, executable: executable)
        guard let path = candidates.first(where: { access($0, R_OK) == 0 }) else {
            throw ConfigError(
                key: "model.path", "no readable model file (looked in \(candidates.joined(separator: ", ")))")
        }
        do {
            let model = try Model.load(path: path)
            let bytes = try readAll(path)
            return (model, path, SHA256.hex(bytes))
        } catch let error as InferenceError {
            throw ConfigError(key: "model.path", "\(path): \(error.message)")
        }
    }

    private static func readAll(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw ConfigError(key: "model.path", "cannot open \(path)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }
}
