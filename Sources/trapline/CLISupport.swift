import Appliance
import ArgumentParser
import Catalog
import FoundationEssentials
import Inference

/// A runtime failure: printed as one line, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum CLISupport {
    /// Opens a catalog that must already exist (for commands that only read it): a missing file is an error
    /// saying what makes one, rather than a new empty catalog left behind.
    static func existingCatalog(_ path: String) throws -> Catalog {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError(
                "no catalog at \(path): `trapline run` or `trapline ingest` creates it (catalog.path, --catalog)")
        }
        do {
            return try Catalog(path: path)
        } catch let error as CatalogError {
            throw CLIError(error.description)
        }
    }

    static var environment: [String: String] {
        var values: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                values[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return values
    }

    /// Loads the model named by `--model`, or the default one, as a one-line CLI error when it fails.
    static func loadModel(_ explicit: String?) throws -> Model {
        try locateModel(explicit).model
    }

    /// Loads the model as `loadModel` does, with its path and its file's SHA-256.
    static func locateModel(_ explicit: String?) throws -> (model: Model, path: String, sha256: String) {
        do {
            return try ModelLocator.load(explicit, environment: environment, executable: CommandLine.arguments[0])
        } catch let error as ConfigError {
            throw CLIError(error.message)
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
