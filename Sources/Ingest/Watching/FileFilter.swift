/// Which files in the watch folder are images to label. Uploads in progress use temporary names that are
/// renamed when complete: rsync's `.name.XXXXXX`, `*.part` from browsers and FTP clients, dot-files generally.
public enum FileFilter {
    static let temporarySuffixes = [".part", ".partial", ".tmp", ".crdownload", "~"]

    /// Whether a file name is a JPEG to label (`.jpg` or `.jpeg`, any case) and not a temporary upload name.
    public static func isCandidate(_ name: String) -> Bool {
        guard !name.hasPrefix("."), !name.isEmpty else { return false }
        let lower = name.lowercased()
        if temporarySuffixes.contains(where: { lower.hasSuffix($0) }) { return false }
        return lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg")
    }

    /// Whether a folder should be descended into (hidden folders are not).
    public static func isWatchedFolder(_ name: String) -> Bool { !name.hasPrefix(".") }
}
