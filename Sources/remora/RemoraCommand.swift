import ArgumentParser
import Foundation
import Logging
import RemoraAPI
import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraServer
import RemoraTLS

/// `remora`: argument parsing and start-up only. Flags follow Envoy's, so
/// scripts written for Envoy start Remora unchanged.
@main
struct RemoraCommand: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "remora",
        abstract: "A sidecar L4/L7 proxy that speaks Envoy's v3 configuration.",
        version: "remora version \(version) (libuv, \(TLSLibrary.version), nghttp2 \(HTTP2Library.version))"
    )

    @Option(name: [.short, .customLong("config-path")], help: "Path to an Envoy v3 bootstrap (YAML or JSON).")
    var configPath: String?

    @Option(name: .customLong("config-yaml"), help: "Bootstrap YAML given inline (used when -c is absent).")
    var configYAML: String?

    @Option(name: .customLong("mode"), help: "serve (default), validate, or init_only.")
    var mode: String = "serve"

    @Option(name: .customLong("concurrency"), help: "Number of worker threads (default: number of cores).")
    var concurrency: Int?

    @Option(name: .customLong("drain-time-s"), help: "Seconds open connections get to finish after SIGTERM/SIGINT.")
    var drainTimeSeconds: UInt64 = 5

    @Option(name: .customLong("drain-strategy"),
            help: "gradual (default): draining connections close with a probability rising over the drain time; immediate: at once.")
    var drainStrategy: String = DrainStrategy.gradual.rawValue

    @Option(name: [.short, .customLong("log-level")], help: "trace, debug, info, warning, error, critical, off.")
    var logLevel: String = "info"

    @Option(name: .customLong("component-log-level"), help: "Per-logger levels: name:level,name:level.")
    var componentLogLevel: String?

    @Option(name: .customLong("log-format"), help: "Log line format (spdlog flags, Envoy's default without the source location).")
    var logFormat: String?

    @Option(name: .customLong("log-path"), help: "Write the proxy's log to this file instead of stderr.")
    var logPath: String?

    @Option(name: .customLong("file-flush-interval-msec"), help: "How often access-log files are written out (ms).")
    var fileFlushIntervalMilliseconds: UInt64 = 10_000

    @Option(name: .customLong("service-cluster"), help: "Overrides node.cluster.")
    var serviceCluster: String?

    @Option(name: .customLong("service-node"), help: "Overrides node.id.")
    var serviceNode: String?

    // Envoy flags accepted for compatibility; Remora has no hot restart.
    @Option(name: .customLong("base-id"), help: .hidden) var baseID: Int?
    @Flag(name: .customLong("use-dynamic-base-id"), help: .hidden) var useDynamicBaseID = false
    @Flag(name: .customLong("disable-hot-restart"), help: .hidden) var disableHotRestart = false
    @Option(name: .customLong("parent-shutdown-time-s"), help: .hidden) var parentShutdownTime: Int?

    mutating func validate() throws {
        guard ["serve", "validate", "init_only"].contains(mode) else {
            throw ValidationError("unknown --mode '\(mode)' (serve, validate, init_only)")
        }
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if DrainStrategy(rawValue: drainStrategy) == nil { throw ValidationError("unknown drain-strategy '\(drainStrategy)' (gradual, immediate)") }
    }

    func run() throws {
        let control = LogControl.shared
        guard let level = RemoraLogHandler.level(named: logLevel) else {
            // Envoy's message and exit status.
            FileHandle.standardError.write(Data("error: invalid log level specified '\(logLevel)'\n".utf8))
            throw ExitCode(1)
        }
        control.setAll(level)
        if let componentLogLevel, let error = control.applyComponentLevels(componentLogLevel) {
            FileHandle.standardError.write(Data((error + "\n").utf8))
            throw ExitCode(1)
        }
        if let logFormat { control.setFormat(logFormat) }
        if let logPath, !control.setPath(logPath) {
            FileHandle.standardError.write(Data("error: cannot open log path '\(logPath)'\n".utf8))
            throw ExitCode(1)
        }
        LoggingSystem.bootstrap { label in RemoraLogHandler(label: label) }
        let logger = Logger(label: "main")

        let described = configPath ?? (configYAML != nil ? "--config-yaml" : "<embedded default>")
        var config: ServerConfig
        var bootstrapBytes: [UInt8] = []
        // Loading the libraries (relocations) and parsing the arguments left
        // ~20 MiB of pages touched that the config load would add to: let
        // them go first, and the config load's before the server starts, so
        // the start-up peak is the largest step, not their sum.
        if mode == "serve" { ProcessMemory.releaseStartupPages() }
        do {
            var bootstrap: Envoy_Config_Bootstrap_V3_Bootstrap
            if let configPath {
                bootstrap = try BootstrapLoader.load(path: configPath)
            } else {
                bootstrap = try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: configYAML ?? DefaultConfig.yaml)
            }
            if let serviceCluster { bootstrap.node.cluster = serviceCluster }
            if let serviceNode { bootstrap.node.id = serviceNode }
            config = try ConfigCompiler.compile(bootstrap)
            if mode == "serve" { bootstrapBytes = try bootstrap.serializedBytes() }
        } catch {
            // One line, as Envoy prints it: a critical log line on stderr, in
            // every mode.
            logger.critical("error initializing configuration '\(described)': \(error)")
            throw ExitCode(1)
        }
        for warning in config.startupWarnings {
            logger.warning("\(warning)")
        }

        if mode == "validate" {
            print("configuration '\(described)' OK")
            return
        }
        if mode == "init_only" { return }
        config.bootstrapBytes = bootstrapBytes
        ProcessMemory.releaseStartupPages()

        let workers = concurrency ?? ProcessInfo.processInfo.activeProcessorCount
        var options = ServerOptions(
            concurrency: workers, drainTimeSeconds: drainTimeSeconds, configPath: configPath ?? "",
            logLevel: logLevel, serviceCluster: serviceCluster, serviceNode: serviceNode,
            version: "remora/\(Self.version)/RELEASE", fileFlushIntervalMilliseconds: fileFlushIntervalMilliseconds,
            drainStrategy: DrainStrategy(rawValue: drainStrategy) ?? .gradual)
        options.configYAML = configYAML ?? ""
        options.componentLogLevel = componentLogLevel ?? ""
        options.logFormat = logFormat ?? LogPattern.envoyDefault
        options.logPath = logPath ?? ""
        options.baseID = baseID ?? 0
        options.useDynamicBaseID = useDynamicBaseID
        options.parentShutdownTimeSeconds = parentShutdownTime ?? 900
        logger.info("starting remora \(Self.version) with \(workers) worker(s), config \(described)")
        let runtimeKeys = config.runtimeLayers.reduce(0) { $0 + $1.values.count }
        if runtimeKeys > 0 {
            logger.info("layered_runtime: \(runtimeKeys) key(s) kept for /runtime; Remora reads none of them (it behaves as Envoy does with every runtime key at its default)")
        }
        let server: Server
        do {
            server = try Server(config: config, options: options, logger: logger)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        let code = server.run()
        if code != 0 { throw ExitCode(code) }
    }
}
