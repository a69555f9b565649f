extension Catalog {
    /// Records a decision of the controller or a change in the ring (a node bypassed, re-admitted, levels
    /// changed), with its reason, in `controller_events`.
    /// - Parameters:
    ///   - kind: What happened (`bypass`, `readmit`, `join`, `refuse`, `levels`, ...).
    ///   - node: The node concerned, if one.
    ///   - levels: The level vector in force after it, if it changed.
    ///   - reason: Why, in words.
    ///   - at: When (seconds since 1970).
    /// - Throws: `CatalogError`.
    public func recordControllerEvent(kind: String, node: String?, levels: [SliceLevel]?, reason: String, at: Double)
        throws
    {
        let levelsText = levels.map { "[" + $0.map { "\($0)" }.joined(separator: ",") + "]" }
        try write("record controller event") { db in
            try db.execute(
                sql: "INSERT INTO controller_events (at, kind, node, levels, reason) VALUES (?, ?, ?, ?, ?)",
                arguments: [Catalog.iso(at), kind, node, levelsText, reason]
            )
        }
    }
}
