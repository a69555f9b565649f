/// RFC 4180 CSV: fields with commas, quotes or line breaks are quoted, quotes doubled; empty for nil.
struct CSVWriter {
    private(set) var text = ""

    mutating func row(_ fields: [String?]) {
        text +=
            fields.map { field in
                guard let field else { return "" }
                let needsQuotes = field.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
                return needsQuotes ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
            }.joined(separator: ",") + "\r\n"
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
