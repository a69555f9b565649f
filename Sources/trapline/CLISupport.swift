import Appliance
import ArgumentParser
import FoundationEssentials
import Inference

/// A runtime failure: printed as one line, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum CLISupport {
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
        do {
            return try ModelLocator.load(explicit, environment: environment, executable: CommandLine.arguments[0]).model
        } catch let error as ConfigError {
            throw CLIError(error.message)
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
