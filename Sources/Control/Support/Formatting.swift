/// Plain fixed-point formatting for decision reasons, without Foundation.
enum Formatting {
    /// `value` with exactly `digits` decimals ("41.20"), or "inf" / "nan".
    static func fixed(_ value: Double, _ digits: Int = 1) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : value > 0 ? "inf" : "-inf" }
        var scale = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * Double(scale)).rounded()
        guard scaled < 1e15 else { return "\(value)" }
        let units = Int(scaled)
        let sign = value < 0 && units != 0 ? "-" : ""
        guard digits > 0 else { return "\(sign)\(units)" }
        let fraction = String(units % scale)
        return "\(sign)\(units / scale).\(String(repeating: "0", count: digits - fraction.count))\(fraction)"
    }

    /// A level vector as "[0,2,0,0]".
    static func levels(_ levels: [Int]) -> String {
        "[" + levels.map(String.init).joined(separator: ",") + "]"
    }

    /// Numbers as "[1.00, 2.01]".
    static func list(_ values: [Double], _ digits: Int = 2) -> String {
        "[" + values.map { fixed($0, digits) }.joined(separator: ", ") + "]"
    }
}
