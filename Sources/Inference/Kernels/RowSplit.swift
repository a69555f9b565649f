import Dispatch

/// Rows of an output split between threads: `parts` contiguous ranges of `0..<rows`, run in parallel when there
/// is more than one. Each part must write only its own rows.
enum RowSplit {
    static func run(rows: Int, parts: Int, _ body: @Sendable (Range<Int>) -> Void) {
        guard parts > 1 else { return body(0..<rows) }
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            body((rows * part / parts)..<(rows * (part + 1) / parts))
        }
    }
}
