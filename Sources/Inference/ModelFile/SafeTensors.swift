import FoundationEssentials

/// One tensor's entry in a safetensors header, with its byte range checked against the data.
struct TensorEntry: Sendable {
    enum DType: String, Sendable {
        case f16 = "F16"
        case f32 = "F32"
        case u8 = "U8"

        var size: Int {
            switch self {
            case .f16: 2
            case .f32: 4
            case .u8: 1
            }
        }
    }

    let name: String
    let dtype: DType
    let shape: [Int]
    let range: Range<Int>

    var elementCount: Int { shape.reduce(1, *) }
}

/// A parsed safetensors file: the tensor table and the free-form metadata strings. Every offset, size and
/// dtype is validated before anything is read; nothing here trusts the file.
struct SafeTensors: Sendable {
    static let maxHeaderBytes = 64 << 20

    let entries: [String: TensorEntry]
    let metadata: [String: String]
    let bytes: [UInt8]
    let dataStart: Int

    init(bytes: [UInt8]) throws {
        guard bytes.count >= 8 else { throw InferenceError.model("file too short for a safetensors header") }
        let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        guard headerLength > 1, headerLength <= Self.maxHeaderBytes, headerLength <= bytes.count - 8 else {
            throw InferenceError.model("header length \(headerLength) does not fit a \(bytes.count)-byte file")
        }
        let raw: [String: RawEntry]
        do {
            raw = try JSONDecoder().decode([String: RawEntry].self, from: Data(bytes[8..<(8 + headerLength)]))
        } catch {
            throw InferenceError.model("header is not valid safetensors JSON: \(error)")
        }
        self.bytes = bytes
        self.dataStart = 8 + headerLength
        var metadata: [String: String] = [:]
        var entries: [String: TensorEntry] = [:]
        for (name, value) in raw {
            switch value {
            case .metadata(let strings) where name == "__metadata__": metadata = strings
            case .metadata: throw InferenceError.model("entry \(name) is not a tensor")
            case .tensor(let info): entries[name] = try Self.validate(name, info, dataSize: bytes.count - dataStart)
            }
        }
        try Self.checkOverlaps(entries)
        self.entries = entries
        self.metadata = metadata
    }

    private static func validate(_ name: String, _ info: RawEntry.Info, dataSize: Int) throws -> TensorEntry {
        guard let dtype = TensorEntry.DType(rawValue: info.dtype) else {
            throw InferenceError.model("tensor \(name) has dtype \(info.dtype); trapline reads F16, F32 and U8")
        }
        guard info.shape.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }), info.shape.count <= 8 else {
            throw InferenceError.model("tensor \(name) has an invalid shape \(info.shape)")
        }
        // The byte count, not only the element count, must fit an Int: two dimensions of 2^31 - 1 make 2^62
        // elements, and multiplying that by the F32 size trapped (Fuzz/corpus/model keeps that header).
        let (size, overflow) = info.shape.reduce((dtype.size, false)) { partial, dim in
            let product = partial.0.multipliedReportingOverflow(by: dim)
            return (product.partialValue, partial.1 || product.overflow)
        }
        guard info.dataOffsets.count == 2, !overflow else {
            throw InferenceError.model("tensor \(name) has invalid data_offsets or an oversized shape")
        }
        let (begin, end) = (info.dataOffsets[0], info.dataOffsets[1])
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw InferenceError.model("tensor \(name) lies outside the file's data (\(begin)..<\(end) of \(dataSize))")
        }
        guard end - begin == size else {
            throw InferenceError.model(
                "tensor \(name): shape \(info.shape) of \(info.dtype) needs \(size) bytes, offsets give \(end - begin)"
            )
        }
        return TensorEntry(name: name, dtype: dtype, shape: info.shape, range: begin..<end)
    }

    private static func checkOverlaps(_ entries: [String: TensorEntry]) throws {
        let sorted = entries.values.filter { !$0.range.isEmpty }.sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.range.upperBound > next.range.lowerBound
        {
            throw InferenceError.model("tensors \(previous.name) and \(next.name) overlap in the file")
        }
    }

    /// The tensor's values as float32 (F16 widened).
    func floats(_ entry: TensorEntry) -> [Float] {
        let start = dataStart + entry.range.lowerBound
        var out = [Float](repeating: 0, count: entry.elementCount)
        bytes.withUnsafeBytes { raw in
            switch entry.dtype {
            case .f32:
                for i in 0..<out.count {
                    out[i] = Float(
                        bitPattern: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self).littleEndian)
                }
            case .f16:
                for i in 0..<out.count {
                    let bits = raw.loadUnaligned(fromByteOffset: start + 2 * i, as: UInt16.self).littleEndian
                    out[i] = Float(Float16(bitPattern: bits))
                }
            case .u8:
                for i in 0..<out.count { out[i] = Float(raw[start + i]) }
            }
        }
        return out
    }

    /// The tensor's raw bytes (for U8 tensors).
    func rawBytes(_ entry: TensorEntry) -> ArraySlice<UInt8> {
        bytes[(dataStart + entry.range.lowerBound)..<(dataStart + entry.range.upperBound)]
    }
}

/// A header value: a tensor description, or the `__metadata__` string map.
private enum RawEntry: Decodable {
    struct Info: Decodable {
        let dtype: String
        let shape: [Int]
        let dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    case tensor(Info)
    case metadata([String: String])

    init(from decoder: any Decoder) throws {
        if let info = try? Info(from: decoder) {
            self = .tensor(info)
        } else {
            self = .metadata(try [String: String](from: decoder))
        }
    }
}
