import Testing
@testable import RemoraConfig
import RemoraAPI

@Suite struct CompiledRegexTests {
    @Test func fullAndPartialMatch() throws {
        let regex = try CompiledRegex("/api/v[0-9]+/.*")
        #expect(regex.fullMatch("/api/v2/users"))
        #expect(!regex.fullMatch("x/api/v2/users"))
        #expect(regex.partialMatch("x/api/v2/users"))
        #expect(!regex.partialMatch("/api/vx/"))
        let bytes: [UInt8] = Array("/api/v10/".utf8)
        #expect(bytes.withUnsafeBytes { regex.fullMatch($0) })
        #expect(try CompiledRegex("a*").fullMatch(""))
    }

    @Test func syntaxErrorCarriesRE2Message() {
        #expect(throws: RegexSyntaxError.self) { try CompiledRegex("(unclosed") }
        do {
            _ = try CompiledRegex("(unclosed")
        } catch {
            #expect(error.message.contains("missing )"))
        }
    }

    @Test func globalReplace() throws {
        let regex = try CompiledRegex("^/service/([^/]+)(/.*)$")
        #expect(regex.replaceAll(in: "/service/foo/v1/api", with: "\\2/instance/\\1") == "/v1/api/instance/foo")
        let dashes = try CompiledRegex("-")
        #expect(dashes.replaceAll(in: "a-b-c", with: "") == "abc")
        #expect(dashes.replaceAll(in: "", with: "x") == "")
        #expect(regex.isValidRewrite("\\1"))
        #expect(!regex.isValidRewrite("\\3"))
    }

    @Test func sharedAcrossThreads() async throws {
        let regex = try CompiledRegex("[a-z]+[0-9]{2}")
        await withTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask { (0..<200).allSatisfy { j in regex.fullMatch("abc\(10 + (i + j) % 90)") } }
            }
            for await ok in group { #expect(ok) }
        }
    }

    @Test func programSizeLimitIsEnvoys() throws {
        // A small regex passes; a big one is refused with Envoy's wording (error level 100).
        _ = try RegexCompiler.compile("/a/.*", at: "p")
        let big = String(repeating: "(abc|def)", count: 20)
        do {
            _ = try RegexCompiler.compile(big, at: "p.regex")
            Issue.record("expected an error")
        } catch {
            #expect(error.path == "p.regex")
            #expect(error.reason.contains("RE2 program size of"))
            #expect(error.reason.contains("> max program size of 100 set for the error level threshold"))
        }
    }

    @Test func deprecatedMaxProgramSizeReplacesTheLimit() throws {
        let big = String(repeating: "(abc|def)", count: 20)
        var matcher = Envoy_Type_Matcher_V3_RegexMatcher()
        matcher.regex = big
        var engine = Envoy_Type_Matcher_V3_RegexMatcher.GoogleRE2()
        engine.maxProgramSize.value = 10_000
        matcher.googleRe2 = engine
        let regex = try RegexCompiler.compile(matcher, at: "m")
        #expect(regex.programSize > 100)
        engine.maxProgramSize.value = 5
        matcher.googleRe2 = engine
        #expect(throws: ConfigError.self) { try RegexCompiler.compile(matcher, at: "m") }
    }

    @Test func badSubstitutionIsRefused() {
        let e = routeError(singleHost("""
          - match: {prefix: /}
            route: {cluster: c, regex_rewrite: {pattern: {regex: "^/(a)"}, substitution: "\\\\2"}}
        """))
        #expect(e?.path == "virtual_hosts[0].routes[0].route.regex_rewrite.substitution")
    }
}
