import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads image files whole, refusing what is not a plain, stable, reasonably sized file.
public enum ImageFile {
    /// The default largest file accepted: no camera-trap JPEG comes near it.
    public static let defaultMaxBytes = 256 << 20

    /// Reads every byte of the file at `path`.
    /// - Parameters:
    ///   - path: The file to read.
    ///   - maxBytes: The largest file accepted.
    /// - Returns: The file's bytes.
    /// - Throws: `ImagingError` when the file is missing, unreadable, empty, too large, or changes size while
    ///   it is read.
    public static func read(_ path: FilePath, maxBytes: Int = defaultMaxBytes) throws -> [UInt8] {
        let fd = try open(path)
        defer { try? fd.close() }
        do {
            let size = try regularFileSize(fd)
            guard size > 0 else { throw ImagingError(.empty, "the file is empty (0 bytes)") }
            guard size <= maxBytes else {
                throw ImagingError(.fileTooLarge, "the file has \(size) bytes, over the limit of \(maxBytes)")
            }
            return try readAll(fd, expectedSize: size)
        } catch let error as ImagingError {
            throw error.at(path.string)
        }
    }

    static func open(_ path: FilePath) throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
        } catch let errno as Errno {
            throw openError(errno).at(path.string)
        } catch {
            throw ImagingError(.readFailed, "cannot open: \(error)", path: path.string)
        }
    }

    static func openError(_ errno: Errno) -> ImagingError {
        switch errno {
        case .noSuchFileOrDirectory:
            return ImagingError(.notFound, "no such file (it may have been moved or deleted)")
        case .permissionDenied, .notPermitted:
            return ImagingError(.permissionDenied, "permission denied: the file is not readable by this user")
        case .isDirectory:
            return ImagingError(.notRegularFile, "this is a folder, not an image file")
        default:
            return ImagingError(.readFailed, "cannot open: \(errno)")
        }
    }

    static func regularFileSize(_ fd: FileDescriptor) throws -> Int {
        var info = stat()
        guard fstat(fd.rawValue, &info) == 0 else {
            throw ImagingError(.readFailed, "cannot stat: \(Errno(rawValue: errno))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ImagingError(.notRegularFile, "not a regular file (a folder, device, socket or pipe)")
        }
        return Int(info.st_size)
    }

    /// Reads until end of file and insists on finding exactly `expectedSize` bytes: a file that shrinks or
    /// grows while it is read is still being written or replaced, and must be read again later.
    static func readAll(_ fd: FileDescriptor, expectedSize: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: expectedSize + 1)
        var filled = 0
        while filled < bytes.count {
            let count = try readChunk(fd, into: &bytes, from: filled)
            if count == 0 { break }
            filled += count
        }
        guard filled == expectedSize else {
            let change = filled < expectedSize ? "shrank" : "grew"
            throw ImagingError(
                .fileChanged,
                "the file \(change) while it was read (\(expectedSize) bytes expected): it is still being written"
            )
        }
        bytes.removeLast()
        return bytes
    }

    private static func readChunk(_ fd: FileDescriptor, into bytes: inout [UInt8], from offset: Int) throws -> Int {
        do {
            return try bytes.withUnsafeMutableBytes { buffer in
                try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]), retryOnInterrupt: true)
            }
        } catch let errno as Errno {
            throw ImagingError(.readFailed, "read failed: \(errno)")
        }
    }
}
