/// The part of YAML that trapline.yaml is written in, read without a YAML library (a full one pulls Foundation
/// and its ICU data into the binary: docs/footprint.md): nested block mappings, plain, single- and double-quoted
/// scalars, flow lists on one line (`[a, "b c"]`), block lists (`- a`) and comments. Anything else (anchors,
/// tags, flow mappings, multi-line scalars, several documents) is refused with its line number rather than
/// misread.
struct YAMLSubset: Equatable {
    /// A value at a dotted key path.
    enum Value: Equatable {
        case scalar(String)
        case list([String])
    }

    /// The values by dotted key (`watch.folder`).
    private(set) var values: [String: Value] = [:]
    /// Every key path seen, mappings included, to catch a key given twice.
    private var paths: Set<String> = []

    /// Parses a document.
    /// - Throws: `YAMLSubsetError` naming the line.
    init(parsing text: String) throws(YAMLSubsetError) {
        var parser = Parser()
        let body = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        for (index, raw) in body.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            try parser.line(raw.hasSuffix("\r") ? raw.dropLast() : raw, number: index + 1, into: &self)
        }
        try parser.finish(into: &self)
    }

    fileprivate mutating func set(_ path: [String], _ value: Value, line: Int) throws(YAMLSubsetError) {
        try claim(path, line: line)
        values[path.joined(separator: ".")] = value
    }

    fileprivate mutating func claim(_ path: [String], line: Int) throws(YAMLSubsetError) {
        let key = path.joined(separator: ".")
        guard paths.insert(key).inserted else { throw YAMLSubsetError(line: line, "\(key) is given twice") }
    }
}

/// Why a configuration file could not be read, and where.
struct YAMLSubsetError: Error, CustomStringConvertible, Equatable {
    var line: Int
    var message: String

    init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }

    var description: String { "line \(line): \(message)" }
}

/// Reads a document line by line, keeping the mappings that enclose the current line.
private struct Parser {
    /// An open mapping: the indentation of its keys and its path.
    private var mappings: [(indent: Int, path: [String])] = []
    /// A key whose value is on the following lines (a mapping or a block list), with its line's indentation.
    private var open: (path: [String], indent: Int, line: Int)?
    /// A block list being read: its key, the indentation of its dashes, its items.
    private var list: (path: [String], indent: Int, items: [String], line: Int)?
    private var seenContent = false

    mutating func line(_ raw: Substring, number: Int, into document: inout YAMLSubset) throws(YAMLSubsetError) {
        let indent = raw.prefix { $0 == " " }.count
        let content = Scanner.stripComment(raw.dropFirst(indent))
        guard !content.isEmpty else { return }
        if raw.dropFirst(indent).first == "\t" {
            throw YAMLSubsetError(line: number, "indent with spaces, not tabs")
        }
        if content == "---" || content == "..." {
            guard !seenContent, content == "---" else {
                throw YAMLSubsetError(line: number, "only one document is read; remove `\(content)`")
            }
            return
        }
        seenContent = true
        if content == "-" || content.hasPrefix("- ") {
            try item(content.dropFirst().drop { $0 == " " }, indent: indent, line: number)
            return
        }
        try closeList(into: &document)
        try key(content, indent: indent, line: number, into: &document)
    }

    mutating func finish(into document: inout YAMLSubset) throws(YAMLSubsetError) {
        try closeList(into: &document)
        if let open { try document.set(open.path, .scalar(""), line: open.line) }
        open = nil
    }

    private mutating func item(_ text: Substring, indent: Int, line: Int) throws(YAMLSubsetError) {
        if var current = list {
            guard indent == current.indent else {
                throw YAMLSubsetError(line: line, "list items must line up under the first one")
            }
            current.items.append(try Scanner.listItem(text, line: line))
            list = current
            return
        }
        guard let key = open, indent >= key.indent else {
            throw YAMLSubsetError(line: line, "a list item must follow a key ending in `:`")
        }
        list = (key.path, indent, [try Scanner.listItem(text, line: line)], key.line)
        open = nil
    }

    private mutating func closeList(into document: inout YAMLSubset) throws(YAMLSubsetError) {
        guard let current = list else { return }
        try document.set(current.path, .list(current.items), line: current.line)
        list = nil
    }

    private mutating func key(_ content: Substring, indent: Int, line: Int, into document: inout YAMLSubset)
        throws(YAMLSubsetError)
    {
        let (name, rest) = try Scanner.splitKey(content, line: line)
        if let parent = open {
            open = nil
            if indent > parent.indent {
                try document.claim(parent.path, line: parent.line)
                mappings.append((indent, parent.path))
            } else {
                try document.set(parent.path, .scalar(""), line: parent.line)
            }
        }
        while let last = mappings.last, indent < last.indent { mappings.removeLast() }
        if mappings.isEmpty { mappings.append((indent, [])) }
        guard let enclosing = mappings.last, indent == enclosing.indent else {
            throw YAMLSubsetError(line: line, "this key's indentation matches no enclosing key")
        }
        let path = enclosing.path + [name]
        if rest.isEmpty {
            open = (path, indent, line)
        } else {
            try document.set(path, try Scanner.value(rest, line: line), line: line)
        }
    }
}

/// The character-level rules: comments, keys, quoted scalars, flow lists.
private enum Scanner {
    /// The line without its comment (a `#` at the start or after a space, outside quotes) and trailing spaces.
    static func stripComment(_ line: Substring) -> Substring {
        var quote: Character?
        var previous: Character = " "
        var index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            if let open = quote {
                if character == "\\" && open == "\"" {
                    index = line.index(after: index)
                    if index == line.endIndex { break }
                } else if character == open {
                    quote = nil
                }
            } else if character == "#" && (previous == " " || previous == "\t") {
                return trimmed(line[..<index])
            } else if (character == "\"" || character == "'") && isValueStart(line[..<index]) {
                quote = character
            }
            previous = line[index]
            index = line.index(after: index)
        }
        return trimmed(line)
    }

    /// Whether a quote at this point opens a quoted scalar: at the start of a key, a value or a list item.
    private static func isValueStart(_ before: Substring) -> Bool {
        let last = before.last { $0 != " " }
        return last == nil || last == ":" || last == "-" || last == "[" || last == ","
    }

    static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        return text
    }

    /// `key: rest` → (key, rest); rest is empty for `key:`.
    static func splitKey(_ content: Substring, line: Int) throws(YAMLSubsetError) -> (String, Substring) {
        let keyText: Substring
        let afterKey: Substring
        if let quote = content.first, quote == "\"" || quote == "'" {
            let (key, end) = try quoted(content, line: line)
            keyText = Substring(key)
            afterKey = content[end...]
            guard afterKey.first == ":" else { throw YAMLSubsetError(line: line, "expected `:` after the key") }
        } else {
            var search = content.startIndex
            var found: Substring.Index?
            while let colon = content[search...].firstIndex(of: ":") {
                let next = content.index(after: colon)
                if next == content.endIndex || content[next] == " " || content[next] == "\t" {
                    found = colon
                    break
                }
                search = next
            }
            guard let colon = found else {
                throw YAMLSubsetError(line: line, "expected `key: value`, found `\(content)`")
            }
            keyText = trimmed(content[..<colon])
            afterKey = content[colon...]
        }
        guard !keyText.isEmpty else { throw YAMLSubsetError(line: line, "a key is empty") }
        return (String(keyText), trimmed(afterKey.dropFirst()))
    }

    /// A value after `key:`: a flow list or a scalar.
    static func value(_ text: Substring, line: Int) throws(YAMLSubsetError) -> YAMLSubset.Value {
        if text.first == "[" {
            guard text.last == "]" else { throw YAMLSubsetError(line: line, "write a `[...]` list on one line") }
            return .list(try flowList(text.dropFirst().dropLast(), line: line))
        }
        return .scalar(try scalar(text, line: line))
    }

    static func listItem(_ text: Substring, line: Int) throws(YAMLSubsetError) -> String {
        if text.first == "[" || text.first == "-"
            || (text.firstRange(of: ": ") != nil || text.hasSuffix(":")) && !isQuoted(text)
        {
            throw YAMLSubsetError(line: line, "a list item must be a single value")
        }
        return try scalar(text, line: line)
    }

    private static func isQuoted(_ text: Substring) -> Bool { text.first == "\"" || text.first == "'" }

    /// A plain or quoted scalar that makes up all of `text`.
    static func scalar(_ text: Substring, line: Int) throws(YAMLSubsetError) -> String {
        guard let first = text.first else { return "" }
        if first == "\"" || first == "'" {
            let (value, end) = try quoted(text, line: line)
            guard trimmed(text[end...]).isEmpty else {
                throw YAMLSubsetError(line: line, "unexpected text after the closing quote")
            }
            return value
        }
        let refused: [Character: String] = [
            "{": "flow mappings (`{...}`) are not supported; write the keys on their own lines",
            "&": "anchors are not supported", "*": "aliases are not supported", "!": "tags are not supported",
            "|": "multi-line scalars are not supported; write the value on one line",
            ">": "multi-line scalars are not supported; write the value on one line",
            "@": "a plain value cannot start with `@`; quote it",
            "`": "a plain value cannot start with a backtick; quote it",
        ]
        if let reason = refused[first] { throw YAMLSubsetError(line: line, reason) }
        return String(text)
    }

    /// The items of a flow list's inside, split at commas outside quotes.
    private static func flowList(_ inside: Substring, line: Int) throws(YAMLSubsetError) -> [String] {
        var items: [String] = []
        var rest = trimmed(inside)
        while !rest.isEmpty {
            let item: String
            if rest.first == "\"" || rest.first == "'" {
                let (value, end) = try quoted(rest, line: line)
                item = value
                rest = trimmed(rest[end...])
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                let text = trimmed(rest[..<end])
                if text.isEmpty || text.contains(where: { $0 == "[" || $0 == "]" }) {
                    throw YAMLSubsetError(line: line, "a list holds single values separated by commas")
                }
                item = try scalar(text, line: line)
                rest = rest[end...]
            }
            items.append(item)
            guard let comma = rest.first else { break }
            guard comma == "," else { throw YAMLSubsetError(line: line, "expected `,` between list items") }
            rest = trimmed(rest.dropFirst())
        }
        return items
    }

    /// A quoted scalar at the start of `text`, and where it ends.
    private static func quoted(_ text: Substring, line: Int) throws(YAMLSubsetError) -> (String, Substring.Index) {
        let quote = text[text.startIndex]
        var value = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            index = text.index(after: index)
            if character == quote {
                // In single quotes, '' stands for one quote (YAML 1.2, section 7.3.2).
                guard quote == "'", index < text.endIndex, text[index] == "'" else { return (value, index) }
                value.append("'")
                index = text.index(after: index)
            } else if character == "\\" && quote == "\"" {
                guard index < text.endIndex else { break }
                value.append(try escape(text, &index, line: line))
            } else {
                value.append(character)
            }
        }
        throw YAMLSubsetError(line: line, "a quoted value is not closed on its line")
    }

    /// The character a double-quoted escape stands for (YAML 1.2, section 5.7); `index` is after the backslash.
    private static func escape(_ text: Substring, _ index: inout Substring.Index, line: Int) throws(YAMLSubsetError)
        -> Character
    {
        let code = text[index]
        index = text.index(after: index)
        let simple: [Character: Character] = [
            "\\": "\\", "\"": "\"", "/": "/", "n": "\n", "t": "\t", "r": "\r", "0": "\0", " ": " ",
        ]
        if let character = simple[code] { return character }
        let digits = ["x": 2, "u": 4, "U": 8][code]
        guard let digits, let end = text.index(index, offsetBy: digits, limitedBy: text.endIndex),
            let scalar = UInt32(text[index..<end], radix: 16).flatMap(Unicode.Scalar.init)
        else {
            throw YAMLSubsetError(line: line, "unknown escape `\\\(code)` in a double-quoted value")
        }
        index = end
        return Character(scalar)
    }
}
