import Dispatch
import FoundationEssentials
import Imaging
import Inference
import Labels
import Logging
import Ring
import RingWire
import StatusPage
import SystemPackage

/// Preparing a batch's images (decoding, localising, cropping) on a worker instead of the head: the head sends
/// the files' bytes, the worker runs the same ``BurstPlanner`` on them and sends back what it made.
enum RemotePreparation {
    /// A frame as the request carries it.
    struct FrameWire: Codable {
        var id: String
        var path: String
        var burst: [String]
    }

    /// The planner a node prepares with: the same construction on the head and on the workers.
    static func planner(model: Model, config: ApplianceConfig, thumbnails: Bool) -> BurstPlanner {
        let spec = ModelInputSpec(metadata: model.metadata, crop: config.crop.flatMap(CropPolicy.init(rawValue:)))
        var preparer = ImagePreparer(spec: spec, limits: DecodeLimits(maxPixels: config.maxPixels))
        preparer.thumbnailWidth = thumbnails ? ThumbnailStore.width : nil
        preparer.maxFileBytes = config.maxFileBytes
        return BurstPlanner(preparer: preparer, settings: config.burstSettings)
    }

    /// What must be equal on both sides for a worker's inputs to be the head's: the model's input, the decoding
    /// limits and the burst settings (not the thumbnail width, which the request sets).
    static func fingerprint(_ planner: BurstPlanner) -> String {
        let preparer = planner.preparer
        return "\(preparer.spec) \(preparer.decoder) \(preparer.maxFileBytes) \(planner.settings)"
    }

    /// The worker's side: prepares requests one at a time on a queue of its own (the planner keeps a cache of
    /// grey frames, as the head's does).
    final class Worker: @unchecked Sendable {
        private let planner: BurstPlanner
        private let fingerprint: String
        private let queue = DispatchQueue(label: "trapline.prepare")

        init(model: Model, config: ApplianceConfig) {
            planner = RemotePreparation.planner(model: model, config: config, thumbnails: false)
            fingerprint = RemotePreparation.fingerprint(planner)
        }

        func prepare(_ request: Trapline_Ring_V1_PrepareRequest) async throws -> Trapline_Ring_V1_PrepareReply {
            guard request.settings == fingerprint else {
                throw RingError(
                    .malformed,
                    "this node's preparation settings differ from the head's (model input, limits, burst settings): "
                        + "give every node the same configuration")
            }
            let frames: [BurstFrame]
            do {
                frames = try JSONDecoder().decode([FrameWire].self, from: request.frames).map {
                    BurstFrame(id: $0.id, path: $0.path, burst: $0.burst)
                }
            } catch {
                throw RingError(.malformed, "the frames to prepare cannot be read: \(error)")
            }
            var files: [String: Result<[UInt8], ImagingError>] = [:]
            for file in request.files {
                if file.errorCode.isEmpty {
                    files[file.path] = .success(Array(file.data))
                } else {
                    let code = ImagingError.Code(description: file.errorCode) ?? .readFailed
                    // The catalog keeps a failure's code and message, which are the head's.
                    files[file.path] = .failure(ImagingError(code, file.errorMessage))
                }
            }
            let thumbnails = request.thumbnails
            let read = files
            return try await withCheckedThrowingContinuation { continuation in
                queue.async { [self] in
                    planner.preparer.thumbnailWidth = thumbnails ? ThumbnailStore.width : nil
                    let planned = planner.plan(frames, files: read)
                    continuation.resume(
                        with: Result {
                            let (plan, pixels) = try PreparedBatchWire.encode(planned)
                            var reply = Trapline_Ring_V1_PrepareReply()
                            reply.plan = Data(plan)
                            reply.pixels = Data(pixels)
                            return reply
                        })
                }
            }
        }
    }

    /// The request for a batch's frames: every file its preparation reads, as the head reads it (a file that
    /// cannot be read travels as its error, so the worker fails it as the head would).
    static func request(
        _ frames: [BurstFrame], planner: BurstPlanner, fingerprint: String, thumbnails: Bool, batchID: UInt64
    ) throws -> Trapline_Ring_V1_PrepareRequest {
        var request = Trapline_Ring_V1_PrepareRequest()
        request.batchID = batchID
        request.frames = try JSONEncoder().encode(frames.map { FrameWire(id: $0.id, path: $0.path, burst: $0.burst) })
        request.settings = fingerprint
        request.thumbnails = thumbnails
        request.files = planner.paths(for: frames).map { path in
            var file = Trapline_Ring_V1_FileData()
            file.path = path
            do {
                file.data = Data(try ImageFile.read(FilePath(path), maxBytes: planner.preparer.maxFileBytes))
            } catch let error as ImagingError {
                file.errorCode = error.code.description
                file.errorMessage = error.message
            } catch {
                file.errorCode = ImagingError.Code.readFailed.description
                file.errorMessage = "\(error)"
            }
            return file
        }
        return request
    }
}
