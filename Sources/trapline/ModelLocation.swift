import ArgumentParser
import FoundationEssentials
import Inference

#if canImport(Glibc)
    import Glibc
#endif

/// Where the bundled model is looked for when no `--model` is given.
enum ModelLocation {
    static let fileName = "efficientnet-lite0.safetensors"

    /// `$TRAPLINE_MODEL`, the installed package's copy, then the source tree's `Models/` (for a developer's build,
    /// found from the executable's path: `.build/<config>/trapline`).
    static func candidates() -> [String] {
        var paths: [String] = []
        if let env = getenv("TRAPLINE_MODEL") { paths.append(String(cString: env)) }
        paths.append("/usr/share/trapline/models/\(fileName)")
        let executable = CommandLine.arguments[0]
        if let slash = executable.lastIndex(of: "/") {
            let directory = String(executable[..<slash])
            paths.append("\(directory)/../../Models/\(fileName)")
            paths.append("\(directory)/../../../Models/\(fileName)")
        }
        paths.append("Models/\(fileName)")
        return paths
    }

    static func load(_ explicit: String?) throws -> Model {
        if let explicit { return try loadReporting(explicit) }
        guard let found = candidates().first(where: { access($0, R_OK) == 0 }) else {
            throw ValidationError(
                "No model file found (looked in \(candidates().joined(separator: ", "))); pass --model FILE.")
        }
        return try loadReporting(found)
    }

    private static func loadReporting(_ path: String) throws -> Model {
        do {
            return try Model.load(path: path)
        } catch let error as InferenceError {
            throw CLIError("\(path): \(error.message)")
        }
    }
}

/// A runtime failure: printed as one line, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
