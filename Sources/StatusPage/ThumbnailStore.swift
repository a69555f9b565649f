import FoundationEssentials
import Imaging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The status page's thumbnails: one small JPEG per labelled image, `<mediaID>.jpg` in a folder of the state
/// directory, made from the decode the model's input came from. The folder's total size stays under a limit:
/// the oldest go first. A thumbnail whose media row is gone is removed by `sweep`.
public final class ThumbnailStore: Sendable {
    public let folder: String
    public let limitBytes: Int
    /// Width of a thumbnail in pixels (its height keeps the frame's aspect ratio).
    public static let width = 320
    /// Name -> size, and names oldest first.
    private struct Contents {
        var sizes: [String: Int] = [:]
        var order: [String] = []
        var total = 0
    }

    private let contents = Mutex(Contents())

    /// Opens (creating if missing) a thumbnail folder and takes stock of what it holds.
    /// - Throws: An error when the folder cannot be created.
    public init(folder: String, limitBytes: Int) throws {
        self.folder = folder
        self.limitBytes = limitBytes
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var found: [(name: String, size: Int, modified: Double)] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where Self.isName(name) {
            var info = stat()
            guard stat(folder + "/" + name, &info) == 0 else { continue }
            let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
            found.append((name, Int(info.st_size), modified))
        }
        contents.withLock { c in
            for entry in found.sorted(by: { $0.modified < $1.modified }) {
                c.sizes[entry.name] = entry.size
                c.order.append(entry.name)
                c.total += entry.size
            }
        }
    }

    /// A thumbnail file name: a lower-case hex SHA-256 (a media ID) and `.jpg`; nothing else is ever served.
    public static func isName(_ name: String) -> Bool {
        let utf8 = Array(name.utf8)
        guard utf8.count == 68, name.hasSuffix(".jpg") else { return false }
        return utf8[0..<64].allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Stores the thumbnail of a media (replacing any), then drops the oldest while over the limit.
    /// - Throws: `ImagingError` when encoding fails, or a file error.
    public func store(mediaID: String, image: RGBImage) throws {
        let name = mediaID + ".jpg"
        guard Self.isName(name) else { return }  // placeholder rows (`path:...`) have no image
        let bytes = try JPEGEncoder.encode(image, quality: 75)
        let path = folder + "/" + name
        // Written whole under a temporary name, then renamed: a reader never sees half a file.
        try Data(bytes).write(to: URL(fileURLWithPath: path + ".tmp"))
        guard rename(path + ".tmp", path) == 0 else {
            unlink(path + ".tmp")
            throw ThumbnailError("cannot rename \(path).tmp (errno \(errno))")
        }
        let folder = folder
        let limit = limitBytes
        contents.withLock { c in
            if let old = c.sizes[name] {
                c.total -= old
                c.order.removeAll { $0 == name }
            }
            c.sizes[name] = bytes.count
            c.order.append(name)
            c.total += bytes.count
            while c.total > limit, c.order.count > 1 {
                let oldest = c.order.removeFirst()
                c.total -= c.sizes.removeValue(forKey: oldest) ?? 0
                unlink(folder + "/" + oldest)
            }
        }
    }

    /// The file of a thumbnail, if `name` is a thumbnail name and the file exists.
    public func file(named name: String) -> String? {
        guard Self.isName(name) else { return nil }
        return contents.withLock { $0.sizes[name] != nil } ? folder + "/" + name : nil
    }

    /// Total bytes held.
    public var totalBytes: Int { contents.withLock { $0.total } }

    /// How many thumbnails are held.
    public var count: Int { contents.withLock { $0.order.count } }

    /// Removes the thumbnails whose media the catalog no longer holds.
    /// - Parameter existing: Given media IDs, those still in the catalog.
    /// - Returns: How many were removed.
    @discardableResult
    public func sweep(existing: ([String]) throws -> Set<String>) rethrows -> Int {
        let names = contents.withLock { $0.order }
        let kept = try existing(names.map { String($0.dropLast(4)) })
        let folder = folder
        return contents.withLock { c in
            var removed = 0
            for name in names where !kept.contains(String(name.dropLast(4))) {
                if let size = c.sizes.removeValue(forKey: name) {
                    c.total -= size
                    c.order.removeAll { $0 == name }
                    unlink(folder + "/" + name)
                    removed += 1
                }
            }
            return removed
        }
    }
}

/// A thumbnail that could not be written.
public struct ThumbnailError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
