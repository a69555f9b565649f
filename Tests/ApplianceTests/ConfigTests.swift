import Foundation
import TestSupport
import Testing

@testable import Appliance

@Suite struct ConfigTests {
    static func load(yaml: String? = nil, flags: [String: String] = [:], env: [String: String] = [:]) async throws
        -> ApplianceConfig
    {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var file: String?
        if let yaml {
            file = dir.file("t.yaml")
            try yaml.write(toFile: file!, atomically: true, encoding: .utf8)
        }
        return try await ConfigLoader.load(file: file, overrides: flags, environment: env)
    }

    @Test func defaultsWithoutAnything() async throws {
        #expect(try await Self.load() == ApplianceConfig())
    }

    @Test func fileThenEnvironmentThenFlags() async throws {
        let yaml =
            "watch:\n  folder: /from/file\n  mode: poll\nbatch:\n  maxSize: 4\n  sloSeconds: 5\nmodel:\n  level: 0.5\n"
        let fromFile = try await Self.load(yaml: yaml)
        #expect(fromFile.watchFolder == "/from/file" && fromFile.watchMode == .poll)
        #expect(fromFile.batchMaxSize == 4 && fromFile.sloSeconds == 5 && fromFile.level == 0.5)
        let env = try await Self.load(
            yaml: yaml, env: ["TRAPLINE_BATCH_MAX_SIZE": "12", "TRAPLINE_WATCH_FOLDER": "/from/env"])
        #expect(env.batchMaxSize == 12 && env.watchFolder == "/from/env" && env.sloSeconds == 5)
        let flags = try await Self.load(
            yaml: yaml, flags: ["watch.folder": "/from/flag"], env: ["TRAPLINE_WATCH_FOLDER": "/from/env"])
        #expect(flags.watchFolder == "/from/flag")
    }

    @Test(arguments: [
        ("batch:\n  maxSize: 0\n", "batch.maxSize"),
        ("batch:\n  maxSize: lots\n", "batch.maxSize"),
        ("watch:\n  mode: fanotify\n", "watch.mode"),
        ("labels:\n  blankThreshold: 1.5\n", "labels.blankThreshold"),
        ("labels:\n  rollupThreshold: -0.1\n", "labels.rollupThreshold"),
        ("http:\n  listen: nowhere\n", "http.listen"),
        ("http:\n  user: ranger\n  passwordHash: plain\n", "http.passwordHash"),
        ("http:\n  user: ranger\n", "http.user"),
        ("http:\n  tls: maybe\n", "http.tls"),
        ("labels:\n  taxa: [Equidae, \"  \"]\n", "labels.taxa"),
        ("model:\n  crop: left\n", "model.crop"),
        ("log:\n  level: chatty\n", "log.level"),
        ("batch:\n  sloSeconds: -1\n", "batch.sloSeconds"),
        ("ring:\n  encoding: bfloat16\n", "ring.encoding"),
        ("ring:\n  security: none\n", "ring.security"),
        ("ring:\n  transport: udp\n", "ring.transport"),
        ("ring:\n  dataPortOffset: 0\n", "ring.dataPortOffset"),
        ("ring:\n  maxInFlight: 0\n", "ring.maxInFlight"),
        ("ring:\n  plan: [0, x]\n", "ring.plan"),
        ("control:\n  policy: greedy\n", "control.policy"),
        ("control:\n  policy: static\n", "control.staticLevels"),
        ("control:\n  accuracyFloor: 1.5\n", "control.accuracyFloor"),
        ("control:\n  drainBatches: -1\n", "control.drainBatches"),
    ])
    func badValuesNameTheirKey(yaml: String, key: String) async throws {
        do {
            _ = try await Self.load(yaml: yaml)
            Issue.record("accepted \(yaml)")
        } catch let error as ConfigError {
            #expect(error.key == key)
            #expect(error.description.contains(key))
        }
    }

    @Test func ringAndControlKeysLoad() async throws {
        let yaml = """
            ring:
              nodes: ["pi1=10.0.0.11:7401", "pi2=10.0.0.12:7401"]
              node: pi2
              plan: [0, 9, 18]
              encoding: float32
              transport: grpc
              dataPortOffset: 1000
              security: plaintext
            control:
              policy: static
              staticLevels: [0, 0.5]
              accuracyFloor: 0.9
              drainBatches: 4
            """
        let config = try await Self.load(yaml: yaml)
        #expect(config.ringNodes == ["pi1=10.0.0.11:7401", "pi2=10.0.0.12:7401"])
        #expect(config.ringNode == "pi2" && config.ringPlan == [0, 9, 18])
        #expect(config.ringEncoding == "float32" && config.ringSecurity == "plaintext")
        #expect(config.ringTransport == "grpc" && config.ringDataPortOffset == 1000)
        #expect(config.controlPolicy == "static" && config.controlStaticLevels == [0, 0.5])
        #expect(config.controlAccuracyFloor == 0.9 && config.controlDrainBatches == 4)
        let fromEnv = try await Self.load(env: [
            "TRAPLINE_RING_NODES": "a=h:1,b=h:2", "TRAPLINE_CONTROL_POLICY": "none",
        ])
        #expect(fromEnv.ringNodes == ["a=h:1", "b=h:2"] && fromEnv.controlPolicy == "none")
    }

    @Test func badEnvironmentValueNamesTheKey() async throws {
        await #expect(throws: ConfigError.self) { try await Self.load(env: ["TRAPLINE_WATCH_POLL_SECONDS": "often"]) }
    }

    @Test func environmentNames() {
        #expect(ConfigLoader.environmentName("batch.maxSize") == "TRAPLINE_BATCH_MAX_SIZE")
        #expect(ConfigLoader.environmentName("watch.folder") == "TRAPLINE_WATCH_FOLDER")
        #expect(ConfigLoader.environmentName("labels.blankThreshold") == "TRAPLINE_LABELS_BLANK_THRESHOLD")
    }

    @Test func theDefaultConfigFileLoadsAndMatchesTheEmbeddedDefaults() async throws {
        let path = Fixtures.repositoryRoot.appendingPathComponent("Configs/trapline.yaml").path
        let fromFile = try await ConfigLoader.load(file: path, overrides: [:], environment: [:])
        #expect(fromFile == ApplianceConfig())
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for key in ConfigLoader.keys {
            #expect(
                text.contains(String(key.split(separator: ".").last!) + ":"), "Configs/trapline.yaml documents \(key)")
        }
    }

    @Test func systemdNotifySendsDatagrams() throws {
        try withTemporaryDirectory { dir in
            let listener = try NotifyListener(path: dir.file("notify"))
            let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "4000000"])
            #expect(notifier.watchdogInterval == 2)
            #expect(notifier.notify("READY=1"))
            #expect(listener.wait(for: "READY=1", timeout: 5))
            #expect(!SystemdNotifier(environment: [:]).notify("READY=1"))
        }
    }
}
