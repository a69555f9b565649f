import FoundationEssentials
import Imaging

/// The JSON shape of `trapline inspect --json`.
struct InspectReport: Encodable {
    struct ErrorField: Encodable {
        var code: String
        var message: String
    }

    struct EXIFField: Encodable {
        var captureTime: String?
        var captureTimeHasOffset: Bool?
        var make: String?
        var model: String?
        var serialNumber: String?
        var orientation: Int?
    }

    struct Image: Encodable {
        var path: String
        var ok: Bool
        var error: ErrorField?
        var fileBytes: Int?
        var width: Int?
        var height: Int?
        var components: Int?
        var colorSpace: String?
        var subsampling: String?
        var progressive: Bool?
        var arithmetic: Bool?
        var restartInterval: Int?
        var exif: EXIFField?
    }

    var images: [Image]

    init(_ results: [ImageInspection]) {
        images = results.map(Self.image)
    }

    private static func image(_ result: ImageInspection) -> Image {
        let layout = result.layout
        return Image(
            path: result.path,
            ok: result.error == nil,
            error: result.error.map { ErrorField(code: $0.code.description, message: $0.message) },
            fileBytes: result.fileBytes,
            width: layout?.width,
            height: layout?.height,
            components: layout?.components,
            colorSpace: layout?.colorSpace.rawValue,
            subsampling: layout?.subsampling,
            progressive: layout?.progressive,
            arithmetic: layout?.arithmetic,
            restartInterval: layout?.restartInterval,
            exif: result.exif.map(exifField)
        )
    }

    private static func exifField(_ exif: EXIFData) -> EXIFField {
        EXIFField(
            captureTime: exif.captureTime?.iso8601,
            captureTimeHasOffset: exif.captureTime?.hasOffset,
            make: exif.make,
            model: exif.model,
            serialNumber: exif.serialNumber,
            orientation: exif.orientation?.rawValue
        )
    }

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// The human text of `trapline inspect`.
enum InspectText {
    static func describe(_ result: ImageInspection) -> String {
        var lines = [result.path]
        if let layout = result.layout {
            let bytes = result.fileBytes.map { ", \($0) bytes" } ?? ""
            lines.append("  size         \(layout.width)x\(layout.height)\(bytes)")
            lines.append("  layout       \(layoutText(layout))")
        }
        if let exif = result.exif { lines += exifLines(exif) }
        if let error = result.error {
            lines.append("  error        [\(error.code)] \(error.message)")
        } else {
            lines.append("  status       ok")
        }
        return lines.joined(separator: "\n")
    }

    private static func layoutText(_ layout: JPEGLayout) -> String {
        var parts = [
            "\(layout.colorSpace.rawValue) \(layout.subsampling)", layout.progressive ? "progressive" : "baseline",
        ]
        if layout.arithmetic { parts.append("arithmetic coding") }
        if layout.restartInterval > 0 { parts.append("restart interval \(layout.restartInterval)") }
        return parts.joined(separator: ", ")
    }

    private static func exifLines(_ exif: EXIFData) -> [String] {
        if exif.isEmpty { return ["  exif         none"] }
        var lines: [String] = []
        if let time = exif.captureTime {
            let zone = time.hasOffset ? "" : " (camera local time, no UTC offset recorded)"
            lines.append("  captured     \(time.iso8601)\(zone)")
        }
        let camera = [exif.make, exif.model].compactMap { $0 }.joined(separator: " ")
        if !camera.isEmpty { lines.append("  camera       \(camera)") }
        if let serial = exif.serialNumber { lines.append("  serial       \(serial)") }
        if let orientation = exif.orientation {
            lines.append("  orientation  \(orientation.rawValue) (\(orientation))")
        }
        return lines
    }
}
