import Control
import FoundationEssentials

/// The profile file: JSON, one entry per slice of the plan it was measured for.
public enum ProfileStore {
    /// The file's content.
    public struct Document: Codable, Sendable, Equatable {
        public var modelID: String
        public var plan: [Int]
        public var measuredAt: String
        public var slices: [SliceProfile]
        /// Every unit measured on its own (`units == [u, u + 1]`), for moving slice boundaries; absent in profiles
        /// measured before they were.
        public var units: [SliceProfile]?

        /// Creates a document.
        public init(
            modelID: String, plan: [Int], measuredAt: String, slices: [SliceProfile], units: [SliceProfile]? = nil
        ) {
            self.modelID = modelID
            self.plan = plan
            self.measuredAt = measuredAt
            self.slices = slices
            self.units = units
        }
    }

    /// Writes the profile (atomically: a temporary file, then a rename).
    /// - Throws: An error naming the file.
    public static func save(_ document: Document, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(document)
        let temporary = path + ".tmp"
        do {
            let parent = URL(filePath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
            try data.write(to: URL(filePath: temporary))
            try FileManager.default.removeItemIfPresent(atPath: path)
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch {
            throw ConfigError(key: "control.profile", "cannot write \(path): \(error)")
        }
    }

    /// Reads the profile; nil when there is none.
    /// - Throws: `ConfigError` when the file exists but cannot be read.
    public static func load(_ path: String) throws -> Document? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(Document.self, from: Data(contentsOf: URL(filePath: path)))
        } catch {
            throw ConfigError(key: "control.profile", "cannot read \(path): \(error)")
        }
    }
}

extension FileManager {
    fileprivate func removeItemIfPresent(atPath path: String) throws {
        if fileExists(atPath: path) { try removeItem(atPath: path) }
    }
}
