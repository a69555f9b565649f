import Configuration
import StatusPage

/// Reads and validates every key, turning swift-configuration's lookups into `ApplianceConfig` and any bad value
/// into a `ConfigError` that names its key.
struct ConfigValues {
    let reader: ConfigReader

    func config() throws -> ApplianceConfig {
        var c = ApplianceConfig()
        c.watchFolder = try string("watch.folder") ?? c.watchFolder
        if let mode = try string("watch.mode") {
            guard let parsed = ApplianceConfig.WatchMode(rawValue: mode) else {
                throw ConfigError(key: "watch.mode", "must be inotify or poll, not \"\(mode)\"")
            }
            c.watchMode = parsed
        }
        c.pollSeconds = try double("watch.pollSeconds", in: 0.1...3600) ?? c.pollSeconds
        c.deploymentDepth = try int("watch.deploymentDepth", in: 0...16) ?? c.deploymentDepth
        c.settleSeconds = try double("watch.settleSeconds", in: 0...86_400) ?? c.settleSeconds
        c.catalogPath = try string("catalog.path") ?? c.catalogPath
        c.modelPath = try string("model.path") ?? c.modelPath
        c.threads = try int("model.threads", in: 1...64) ?? c.threads
        c.level = try double("model.level", in: 0...0.99) ?? c.level
        c.crop = try string("model.crop") ?? c.crop
        if let crop = c.crop, !["center", "full"].contains(crop) {
            throw ConfigError(key: "model.crop", "must be center or full, not \"\(crop)\"")
        }
        c.topK = try int("labels.topK", in: 1...1000) ?? c.topK
        c.blankThreshold = try double("labels.blankThreshold", in: 0...1) ?? c.blankThreshold
        c.rollupThreshold = try double("labels.rollupThreshold", in: 0...1) ?? c.rollupThreshold
        c.taxa = try strings("labels.taxa") ?? c.taxa
        if let blank = c.taxa.firstIndex(where: { $0.allSatisfy(\.isWhitespace) }) {
            throw ConfigError(key: "labels.taxa", "entry \(blank + 1) is empty")
        }
        if let path = try string("labels.siteHead") { c.siteHeadPath = path.isEmpty ? nil : path }
        c.localise = try bool("labels.localise") ?? c.localise
        c.cropThreshold = try double("labels.cropThreshold", in: 0...1) ?? c.cropThreshold
        c.stillThreshold = try double("labels.stillThreshold", in: 0...1) ?? c.stillThreshold
        c.burstFrames = try int("labels.burstFrames", in: 3...1000) ?? c.burstFrames
        c.batchMaxSize = try int("batch.maxSize", in: 1...256) ?? c.batchMaxSize
        c.batchMaxWaitSeconds = try double("batch.maxWaitSeconds", in: 0...3600) ?? c.batchMaxWaitSeconds
        c.sloSeconds = try double("batch.sloSeconds", in: 0.01...86_400) ?? c.sloSeconds
        c.eventGapSeconds = try double("events.gapSeconds", in: 0...86_400) ?? c.eventGapSeconds
        c.maxPixels = try int("limits.maxPixels", in: 1...1_000_000_000) ?? c.maxPixels
        c.maxFileBytes = try int("limits.maxFileBytes", in: 1...(1 << 31)) ?? c.maxFileBytes
        c.logLevel = try string("log.level") ?? c.logLevel
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(c.logLevel) else {
            throw ConfigError(key: "log.level", "must be one of trace, debug, info, notice, warning, error, critical")
        }
        try ring(into: &c)
        try http(into: &c)
        for (key, value) in [("watch.folder", c.watchFolder), ("catalog.path", c.catalogPath)] where value.isEmpty {
            throw ConfigError(key: key, "must not be empty")
        }
        return c
    }

    func missing(_ error: any Error) -> Bool {
        String(describing: error).hasPrefix("Missing required")
    }

    func string(_ key: String) throws -> String? {
        do {
            return try reader.requiredString(forKey: ConfigKey(key))
        } catch  where missing(error) {
            return nil
        } catch {
            throw ConfigError(key: key, "must be text")
        }
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        let value: Int
        do {
            value = try reader.requiredInt(forKey: ConfigKey(key))
        } catch  where missing(error) {
            return nil
        } catch {
            throw ConfigError(key: key, "must be a whole number")
        }
        guard range.contains(value) else {
            throw ConfigError(key: key, "must be in \(range.lowerBound)...\(range.upperBound), not \(value)")
        }
        return value
    }

    func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        var value: Double
        do {
            value = try reader.requiredDouble(forKey: ConfigKey(key))
        } catch  where missing(error) {
            return nil
        } catch {
            // YAML writes `2` as an integer; accept it where a number of seconds is wanted.
            guard let whole = try? reader.requiredInt(forKey: ConfigKey(key)) else {
                throw ConfigError(key: key, "must be a number")
            }
            value = Double(whole)
        }
        guard range.contains(value) else {
            throw ConfigError(key: key, "must be in \(range.lowerBound)...\(range.upperBound), not \(value)")
        }
        return value
    }

    func http(into c: inout ApplianceConfig) throws {
        // YAML reads a bare `off` as false.
        if (try? reader.requiredBool(forKey: ConfigKey("http.listen"))) == false {
            c.httpListen = nil
        } else if let listen = try string("http.listen") {
            if ["off", "none", ""].contains(listen) {
                c.httpListen = nil
            } else {
                guard StatusServerSettings.parse(listen: listen) != nil else {
                    throw ConfigError(
                        key: "http.listen", "must be host:port (127.0.0.1:8470) or off, not \"\(listen)\"")
                }
                c.httpListen = listen
            }
        }
        c.httpThumbnailMegabytes = try int("http.thumbnailMegabytes", in: 1...65_536) ?? c.httpThumbnailMegabytes
        c.httpUser = try string("http.user") ?? c.httpUser
        c.httpPasswordHash = try string("http.passwordHash") ?? c.httpPasswordHash
        if let hash = c.httpPasswordHash, !PasswordHash.isValid(hash) {
            throw ConfigError(key: "http.passwordHash", "is not a hash made by `trapline password-hash`")
        }
        if (c.httpUser == nil) != (c.httpPasswordHash == nil) {
            throw ConfigError(key: "http.user", "http.user and http.passwordHash go together")
        }
        c.httpTLS = try bool("http.tls") ?? c.httpTLS
    }

    func bool(_ key: String) throws -> Bool? {
        do {
            return try reader.requiredBool(forKey: ConfigKey(key))
        } catch  where missing(error) {
            return nil
        } catch {
            throw ConfigError(key: key, "must be true or false")
        }
    }
}
