import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A file found in the watch tree, with what `stat` says of it.
public struct FoundFile: Sendable, Equatable {
    public var path: String
    public var size: Int
    public var modified: Double
}

/// Walks a folder tree: every candidate file and every folder, not following symbolic links.
public enum FolderScan {
    /// Candidate files and subfolders under `root` (recursively); unreadable folders are reported, not fatal.
    public static func scan(_ root: String) -> (files: [FoundFile], folders: [String], unreadable: [String]) {
        var files: [FoundFile] = []
        var folders: [String] = [root]
        var unreadable: [String] = []
        var queue = [root]
        while let folder = queue.popLast() {
            guard let entries = list(folder) else {
                unreadable.append(folder)
                continue
            }
            for (name, isDirectory) in entries {
                let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
                if isDirectory {
                    if FileFilter.isWatchedFolder(name) {
                        folders.append(path)
                        queue.append(path)
                    }
                } else if FileFilter.isCandidate(name), let info = stat(path) {
                    files.append(FoundFile(path: path, size: info.size, modified: info.modified))
                }
            }
        }
        return (files.sorted { $0.path < $1.path }, folders, unreadable)
    }

    /// A folder's entries (name, is-directory), or nil when it cannot be read.
    static func list(_ folder: String) -> [(String, Bool)]? {
        guard let directory = opendir(folder) else { return nil }
        defer { closedir(directory) }
        var entries: [(String, Bool)] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                var info = Glibc.stat()
                isDirectory = lstat(folder + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
            }
            entries.append((name, isDirectory))
        }
        return entries
    }

    /// Size and modification time of a regular file (not following links); nil otherwise.
    public static func stat(_ path: String) -> (size: Int, modified: Double)? {
        var info = Glibc.stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        return (Int(info.st_size), modified)
    }
}
