import Catalog
import FoundationEssentials
import Inference
import Ingest
import Logging
import StatusPage

#if canImport(Glibc)
    import Glibc
#endif

/// Builds the single-node appliance from a configuration: the catalog, the model, the file source, the
/// labelling stage and the pipeline service. Fails before anything starts, with a message naming the key.
public struct ApplianceRuntime: Sendable {
    public let config: ApplianceConfig
    public let catalog: Catalog
    public let labeling: LabelingStage
    public let modelPath: String
    public let model: Model
    public let modelID: String
    /// The status page's thumbnails, when the page is on.
    public let thumbnails: ThumbnailStore?

    /// Opens the catalog (creating its folder), loads and registers the model.
    /// - Parameters:
    ///   - config: The validated configuration.
    ///   - environment: The process environment (model search, systemd).
    ///   - executable: `argv[0]`, to find a developer build's model.
    ///   - logger: Where to log.
    ///   - loaded: The model, its path and SHA-256, when the caller has already loaded it.
    ///   - serving: Whether a status page will run (then thumbnails are made, unless `http.listen` is off).
    /// - Throws: `ConfigError` or `CatalogError`.
    public init(
        config: ApplianceConfig, environment: [String: String], executable: String, logger: Logger,
        loaded: (model: Model, path: String, sha256: String)? = nil, serving: Bool = false
    ) throws {
        var config = config
        try Self.makeFolder(config.watchFolder, key: "watch.folder")
        // Absolute paths in the catalog: they stay meaningful to whoever reads it, from wherever.
        config.watchFolder = Self.absolute(config.watchFolder)
        config.catalogPath = Self.absolute(config.catalogPath)
        self.config = config
        try Self.makeFolder(Self.parent(of: config.catalogPath), key: "catalog.path")
        catalog = try Catalog(path: config.catalogPath, logger: logger)
        let (model, path, sha) =
            try loaded ?? ModelLocator.load(config.modelPath, environment: environment, executable: executable)
        modelPath = path
        self.model = model
        modelID = sha
        if serving && config.httpListen != nil {
            let folder = Self.parent(of: config.catalogPath) + "/thumbnails"
            do {
                thumbnails = try ThumbnailStore(folder: folder, limitBytes: config.httpThumbnailMegabytes << 20)
            } catch {
                throw ConfigError(key: "catalog.path", "cannot create the thumbnail folder \(folder): \(error)")
            }
        } else {
            thumbnails = nil
        }
        labeling = try LabelingStage(model: model, modelID: sha, config: config, thumbnails: thumbnails)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var summary = model.metadata
        summary.classes.names = []  // the class list is in the model file; keep the row small
        let metadata = (try? encoder.encode(summary)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        try catalog.registerModel(id: sha, name: model.metadata.name, path: path, metadataJSON: metadata)
        logger.info("model loaded", metadata: ["model.path": "\(path)", "model.level": "\(config.level)"])
    }

    /// The pipeline service watching the configured folder (created if missing).
    /// - Parameters:
    ///   - environment: The process environment (systemd's notify socket).
    ///   - logger: Where to log.
    ///   - labeling: What labels batches; this node's engine when nil.
    ///   - load: The load meter the controller reads.
    public func pipeline(
        environment: [String: String], logger: Logger, labeling: (any BatchLabeling)? = nil,
        load: LoadMeter = LoadMeter()
    ) throws -> Pipeline {
        let source: any FileSource =
            switch config.watchMode {
            case .inotify: FolderWatcher(root: config.watchFolder, logger: logger)
            case .poll: FolderPoller(root: config.watchFolder, interval: config.pollSeconds, logger: logger)
            }
        return Pipeline(
            config: config, catalog: catalog, labeling: labeling ?? self.labeling, source: source,
            notifier: SystemdNotifier(environment: environment), logger: logger, load: load
        )
    }

    static func absolute(_ path: String) -> String {
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        guard !path.hasPrefix("/"), let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + path
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func makeFolder(_ path: String, key: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o775) != 0 && errno != EEXIST {
                throw ConfigError(key: key, "cannot create the folder \(current): \(String(cString: strerror(errno)))")
            }
        }
        guard access(path, W_OK | X_OK) == 0 || key == "watch.folder" else {
            throw ConfigError(key: key, "the folder \(path) is not writable by this user")
        }
    }
}
