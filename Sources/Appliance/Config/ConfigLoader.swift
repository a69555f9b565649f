import Configuration
import SystemPackage

/// Reads `ApplianceConfig` from, highest priority first: command-line flags, environment variables
/// (`TRAPLINE_BATCH_MAX_SIZE` for `batch.maxSize`), the YAML file, the embedded defaults. Every key is checked
/// for type and range, and an error names the key.
public enum ConfigLoader {
    /// The keys trapline knows, with a one-line description (the default config documents them fully).
    public static let keys: [String] = [
        "watch.folder", "watch.mode", "watch.pollSeconds", "watch.deploymentDepth", "watch.settleSeconds",
        "catalog.path", "model.path", "model.threads", "model.level", "model.crop", "labels.topK",
        "labels.blankThreshold", "labels.rollupThreshold", "labels.taxa", "labels.siteHead", "labels.localise",
        "labels.cropThreshold",
        "labels.stillThreshold", "labels.burstFrames", "batch.maxSize", "batch.maxWaitSeconds",
        "batch.sloSeconds", "events.gapSeconds",
        "limits.maxPixels", "limits.maxFileBytes", "log.level", "ring.nodes", "ring.node", "ring.plan",
        "ring.encoding", "ring.transport", "ring.dataPortOffset", "ring.security", "ring.credentials",
        "ring.maxInFlight", "ring.offload", "ring.queueCapacity", "ring.probeSeconds", "ring.probeTimeoutSeconds",
        "ring.failAfter",
        "ring.resendSeconds", "ring.sysfsRoot", "control.policy", "control.staticLevels", "control.accuracyFloor",
        "control.relaxAfter", "control.utilisation", "control.throttleCelsius", "control.throttleSlowdown",
        "control.drainBatches", "control.profile", "http.listen", "http.thumbnailMegabytes",
        "http.user", "http.passwordHash", "http.tls",
    ]

    /// Loads the configuration.
    /// - Parameters:
    ///   - file: A YAML file; nil for none.
    ///   - overrides: Values from command-line flags, by key.
    ///   - environment: The process environment (`TRAPLINE_` variables are read).
    /// - Returns: The validated configuration.
    /// - Throws: `ConfigError` naming the key, or an error reading the file.
    public static func load(
        file: String?, overrides: [String: String], environment: [String: String]
    ) async throws -> ApplianceConfig {
        var providers: [any ConfigProvider] = []
        // Flags and environment variables arrive as text: both go through the environment provider, which parses
        // numbers from text, so `--watch` and TRAPLINE_WATCH_FOLDER behave alike.
        providers.append(
            EnvironmentVariablesProvider(environmentVariables: environmentNames(overrides)).prefixKeys(with: "trapline")
        )
        providers.append(EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "trapline"))
        if let file {
            do {
                providers.append(try await FileProvider<YAMLConfigSnapshot>(filePath: FilePath(file)))
            } catch {
                throw ConfigError(key: "--config", "cannot read \(file): \(error)")
            }
        }
        return try ConfigValues(reader: ConfigReader(providers: providers)).config()
    }

    /// `batch.maxSize` → `TRAPLINE_BATCH_MAX_SIZE`: the environment variable that overrides a key.
    public static func environmentName(_ key: String) -> String {
        var name = "TRAPLINE"
        for part in key.split(separator: ".") {
            name += "_"
            for character in part {
                if character.isUppercase { name += "_" }
                name += character.uppercased()
            }
        }
        return name
    }

    private static func environmentNames(_ overrides: [String: String]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: overrides.map { (environmentName($0.key), $0.value) })
    }
}
