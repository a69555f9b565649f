import Inference
import Labels

/// Everything `trapline run` is configured by. Keys are dotted (`batch.maxSize`); see Configs/trapline.yaml.
public struct ApplianceConfig: Sendable, Equatable {
    public enum WatchMode: String, Sendable, CaseIterable {
        case inotify, poll
    }

    public var watchFolder = "/srv/camera-traps"
    public var watchMode = WatchMode.inotify
    public var pollSeconds = 10.0
    public var deploymentDepth = 1
    public var settleSeconds = 10.0
    public var catalogPath = "/var/lib/trapline/catalog.db"
    public var modelPath: String?
    public var threads = 1
    public var level = 0.0
    public var crop: String?
    public var topK = 5
    public var blankThreshold = 0.5
    /// The summed probability the written taxon must reach (docs/taxonomy.md).
    public var rollupThreshold = Double(Labeler.defaultRollupThreshold)
    /// A site's species list: scientific names at any rank; empty for every taxon the model knows.
    public var taxa: [String] = []
    /// A site head file (`trapline learn`): its classes are written where it is confident; nil for none.
    public var siteHeadPath: String?
    /// Whether frames are localised against their burst and their moving regions classified (docs/localisation.md).
    public var localise = true
    /// The animal mass a moving region's crop needs for its frame to be an animal.
    public var cropThreshold = 0.3
    /// The whole-frame animal mass a frame needs when its burst shows nothing moving in it.
    public var stillThreshold = 0.8
    /// At most this many frames of a burst make one background model.
    public var burstFrames = BurstSettings().maxFrames
    public var batchMaxSize = 8
    public var batchMaxWaitSeconds = 2.0
    public var sloSeconds = 10.0
    public var eventGapSeconds = 60.0
    public var maxPixels = 100_000_000
    public var maxFileBytes = 256 << 20
    public var logLevel = "info"
    /// The ring's members in pipeline order, `name=host:port`; empty: one node runs every slice.
    public var ringNodes: [String] = []
    /// This node's name in the ring (default: the host name).
    public var ringNode: String?
    /// Slice boundaries in units; nil: the model file's plan for the ring's size.
    public var ringPlan: [Int]?
    public var ringEncoding = "float16"
    public var ringTransport = "framed"
    public var ringDataPortOffset = 100
    /// `mtls` (the default) or `plaintext`, which must be asked for by name.
    public var ringSecurity = "mtls"
    public var ringCredentials = "/etc/trapline/ring"
    public var ringMaxInFlight = 3
    /// Whether the head hands a batch's preparation (decoding, localising, cropping) to a worker: `auto` when its
    /// own preparation is busy, `always` (every batch a worker can take: for tests and measurements) or `off`.
    public var ringOffload = "auto"
    public var ringQueueCapacity = 4
    public var ringProbeSeconds = 0.5
    public var ringProbeTimeoutSeconds = 1.0
    public var ringFailAfter = 2
    public var ringResendSeconds = 10.0
    /// Where a node reads its temperature and the Raspberry Pi firmware's throttling flags.
    public var ringSysfsRoot = "/sys"
    /// How the ring sheds load when a node slows down: `none`, `static` (`control.staticLevels`), `repartition`
    /// (moves slice boundaries, never prunes) or `adaptive` (moves boundaries first, then prunes what moving
    /// cannot absorb).
    public var controlPolicy = "adaptive"
    /// The fixed level (a fraction of expanded channels pruned) of every slice under `static`.
    public var controlStaticLevels: [Double] = []
    /// The controller never chooses levels whose expected top-1 agreement is below this.
    public var controlAccuracyFloor = 0.0
    /// Batches a relaxation must stay feasible before a slice is relaxed.
    public var controlRelaxAfter = 3
    /// The slowest stage may use at most this share of the time between batches.
    public var controlUtilisation = 0.9
    /// The temperature at which a node's firmware starts to cap its clock (80 °C on the Pi 4 and Pi 5); within
    /// 3 °C of it, or while the firmware's flags say it throttles, the controller plans the node at
    /// `controlThrottleSlowdown` before the slowdown shows in its measured times.
    public var controlThrottleCelsius = 80.0
    /// The slowdown the controller plans for a node about to throttle.
    public var controlThrottleSlowdown = 1.5
    /// Under a backlog, the controller plans to drain the queue within this many batch arrival intervals rather
    /// than to meet the next batch's deadline behind the whole queue (which prunes hard until it drains); 0
    /// restores the latter.
    public var controlDrainBatches = 8.0
    /// Where `trapline profile` stores this node's measured service times, and the node reads them.
    public var controlProfile = "/var/lib/trapline/profile.json"

    /// Where the status page and `/metrics` listen (`host:port`); nil (`off` in the file) for no page.
    public var httpListen: String? = "127.0.0.1:8470"
    /// The thumbnails' total size limit, in MiB.
    public var httpThumbnailMegabytes = 64
    /// Basic authentication for the page: the user and a password hash (`trapline password-hash`).
    public var httpUser: String?
    public var httpPasswordHash: String?
    /// Serve HTTPS with this node's ring certificate (`ring.credentials`), signed by the ring's CA.
    public var httpTLS = false

    /// The embedded defaults.
    public init() {}
}

/// A configuration value that is missing, of the wrong type or out of range, naming the key.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var key: String
    public var message: String

    /// Creates an error.
    public init(key: String, _ message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "configuration key \(key): \(message)" }
}

extension ApplianceConfig {
    /// The burst localisation settings these keys give.
    public var burstSettings: BurstSettings {
        var settings = BurstSettings()
        settings.enabled = localise
        settings.cropAnimalThreshold = Float(cropThreshold)
        settings.stillAnimalThreshold = Float(stillThreshold)
        settings.maxFrames = burstFrames
        return settings
    }
}
