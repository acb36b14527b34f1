import Testing
@testable import RemoraConfig
import RemoraAPI

@Suite struct ServerConfigWarningsTests {
    /// AUTO (Envoy's default) would also serve HTTP/2; until Remora does,
    /// start-up says so, naming the listener.
    @Test func autoCodecWarnsPerListener() throws {
        let auto = try HttpConnectionManagerConfigTests().compile(HttpConnectionManagerConfigTests.minimal)
        #expect(auto.startupWarnings == ["listener 'http': codec_type AUTO serves HTTP/1.1 only until HTTP/2 is implemented"])
        let http1 = try HttpConnectionManagerConfigTests().compile(HttpConnectionManagerConfigTests.minimal + "\ncodec_type: HTTP1")
        #expect(http1.startupWarnings.isEmpty)
    }

    @Test func tcpProxyListenersDoNotWarn() throws {
        let bootstrap = try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: BootstrapLoaderTests.good)
        #expect(try ConfigCompiler.compile(bootstrap).startupWarnings.isEmpty)
    }
}
