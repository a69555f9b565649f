import Configuration

/// trapline.yaml as a swift-configuration file snapshot: values are kept as written and converted when a key is
/// read, as YAML 1.1 would type them (`2` reads as an integer or a number, `off` as false).
final class YAMLConfigSnapshot: FileConfigSnapshot {
    struct ParsingOptions: FileParsingOptions {
        static var `default`: Self { Self() }
    }

    let providerName: String
    private let document: YAMLSubset

    init(data: RawSpan, providerName: String, parsingOptions: ParsingOptions) throws {
        let bytes = data.withUnsafeBytes { Array($0) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw YAMLSubsetError(line: 1, "the file is not UTF-8 text")
        }
        self.document = try YAMLSubset(parsing: text)
        self.providerName = providerName
    }

    var description: String { "\(providerName)[\(document.values.count) values]" }

    /// The keys the file sets, without their values: the file may hold `http.passwordHash`.
    var debugDescription: String { "\(providerName)[\(document.values.keys.sorted().joined(separator: ", "))]" }

    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        let name = key.components.joined(separator: ".")
        guard let value = document.values[name] else { return LookupResult(encodedKey: name, value: nil) }
        guard let content = Self.content(value, type) else {
            throw YAMLTypeMismatch(key: name, type: type)
        }
        return LookupResult(encodedKey: name, value: ConfigValue(content, isSecret: false))
    }

    private static func content(_ value: YAMLSubset.Value, _ type: ConfigType) -> ConfigContent? {
        switch (value, type) {
        case (.scalar(let text), .string): .string(text)
        case (.scalar(let text), .int): YAMLScalar.int(text).map { .int($0) }
        case (.scalar(let text), .double): YAMLScalar.double(text).map { .double($0) }
        case (.scalar(let text), .bool): YAMLScalar.bool(text).map { .bool($0) }
        case (.list(let items), .stringArray): .stringArray(items)
        case (.list(let items), .intArray): all(items, YAMLScalar.int).map { .intArray($0) }
        case (.list(let items), .doubleArray): all(items, YAMLScalar.double).map { .doubleArray($0) }
        case (.list(let items), .boolArray): all(items, YAMLScalar.bool).map { .boolArray($0) }
        default: nil
        }
    }

    /// Every item converted, or nil when one does not convert.
    private static func all<T>(_ items: [String], _ convert: (String) -> T?) -> [T]? {
        let converted = items.compactMap(convert)
        return converted.count == items.count ? converted : nil
    }
}

/// A value in the file that is not of the type its key needs; `ConfigValues` turns it into an error naming the key.
struct YAMLTypeMismatch: Error, CustomStringConvertible {
    var key: String
    var type: ConfigType

    var description: String { "\(key) cannot be read as \(type.rawValue)" }
}

/// YAML 1.1's typing of plain scalars (yaml.org/type/int.html, float.html, bool.html), for the types trapline reads.
enum YAMLScalar {
    /// `42`, `-7`, `1_000`, `0x1F`, `0o17`.
    static func int(_ text: String) -> Int? {
        var digits = Substring(text.filter { $0 != "_" })
        var sign = 1
        if let first = digits.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            digits = digits.dropFirst()
        }
        var radix = 10
        for (prefix, base) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
            radix = base
            digits = digits.dropFirst(2)
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isHexDigit }),
            let magnitude = Int(digits, radix: radix)
        else {
            return nil
        }
        return sign * magnitude
    }

    /// `0.5`, `2`, `1e3`, `-.5`, `.inf`, `.nan`.
    static func double(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default:
            let number = text.filter { $0 != "_" }
            // Swift's parser also takes `nan`, `inf` and hexadecimal floats, which YAML does not.
            guard number.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }) else { return nil }
            return Double(number)
        }
    }

    /// `true`/`false`, and YAML 1.1's `yes`/`no`, `on`/`off`, `y`/`n`, in lower, title or upper case.
    static func bool(_ text: String) -> Bool? {
        let words: [String: Bool] = [
            "true": true, "yes": true, "on": true, "y": true, "false": false, "no": false, "off": false, "n": false,
        ]
        let title = text.prefix(1).uppercased() + text.dropFirst().lowercased()
        guard text == text.lowercased() || text == text.uppercased() || text == title else { return nil }
        return words[text.lowercased()]
    }
}
