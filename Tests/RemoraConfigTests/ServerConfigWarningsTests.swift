import Testing
@testable import RemoraConfig
import RemoraAPI

@Suite struct ServerConfigWarningsTests {
    /// AUTO (Envoy's default) serves HTTP/1 and HTTP/2: nothing to warn about.
    @Test func autoCodecDoesNotWarn() throws {
        let auto = try HttpConnectionManagerConfigTests().compile(HttpConnectionManagerConfigTests.minimal)
        #expect(auto.startupWarnings.isEmpty)
        let http1 = try HttpConnectionManagerConfigTests().compile(HttpConnectionManagerConfigTests.minimal + "\ncodec_type: HTTP1")
        #expect(http1.startupWarnings.isEmpty)
    }

    @Test func tcpProxyListenersDoNotWarn() throws {
        let bootstrap = try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: BootstrapLoaderTests.good)
        #expect(try ConfigCompiler.compile(bootstrap).startupWarnings.isEmpty)
    }
}
