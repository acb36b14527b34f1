import Foundation
import RemoraAPI
import SwiftProtobuf
import Testing
@testable import RemoraXDS

/// The state-of-the-world mux against Envoy's GrpcMuxImpl rules, no sockets.
@Suite struct SotWMuxStateTests {
    typealias R = XDSTestResources

    func connected(firstOnly: Bool = false) -> SotWMuxState {
        var mux = SotWMuxState(node: R.node, setNodeOnFirstMessageOnly: firstOnly)
        _ = mux.streamEstablished()
        return mux
    }

    @Test func nothingIsSentWithoutAStream() {
        var mux = SotWMuxState(node: R.node, setNodeOnFirstMessageOnly: false)
        #expect(mux.subscribe(.cluster, names: []).isEmpty)
        let first = mux.streamEstablished()
        #expect(first.count == 1)
        #expect(first[0].typeURL == XDSResourceType.cluster.typeURL)
        #expect(first[0].resourceNames.isEmpty && first[0].versionInfo.isEmpty && first[0].responseNonce.isEmpty)
        #expect(first[0].node.id == "node-1")
    }

    @Test func wildcardAckCarriesVersionAndNonceAndRemovalsAreComputed() {
        var mux = connected()
        _ = mux.subscribe(.cluster, names: ["ignored"])
        let outcome = mux.receive(R.sotw(.cluster, version: "v1", nonce: "n1", [R.cluster("a"), R.cluster("b")]))
        let update = outcome.update!
        #expect(update.isStateOfTheWorld && update.versionInfo == "v1")
        #expect(update.updated.map(\.name) == ["a", "b"] && update.removed.isEmpty)
        #expect(update.updated[0].version == "v1")
        let ack = mux.complete(rejection: nil)
        #expect(ack.count == 1)
        #expect(ack[0].versionInfo == "v1" && ack[0].responseNonce == "n1" && !ack[0].hasErrorDetail)
        #expect(ack[0].resourceNames.isEmpty)
        // b is gone from the next response: removed.
        let second = mux.receive(R.sotw(.cluster, version: "v2", nonce: "n2", [R.cluster("a")])).update!
        #expect(second.removed == ["b"])
        _ = mux.complete(rejection: nil)
        // An empty response removes everything.
        let third = mux.receive(R.sotw(.cluster, version: "v3", nonce: "n3", [])).update!
        #expect(third.updated.isEmpty && third.removed == ["a"])
    }

    @Test func nackKeepsThePreviousVersionWithTheNonceAndErrorDetail() {
        var mux = connected()
        _ = mux.subscribe(.cluster, names: [])
        _ = mux.receive(R.sotw(.cluster, version: "v1", nonce: "n1", [R.cluster("a")]))
        _ = mux.complete(rejection: nil)
        _ = mux.receive(R.sotw(.cluster, version: "v2", nonce: "n2", [R.cluster("bad")]))
        let nack = mux.complete(rejection: XDSRejection("cluster 'bad': field x is bad"))
        #expect(nack.count == 1)
        #expect(nack[0].versionInfo == "v1" && nack[0].responseNonce == "n2")
        #expect(nack[0].errorDetail.code == 13 && nack[0].errorDetail.message == "cluster 'bad': field x is bad")
        // The error detail goes once: the next request is clean.
        _ = mux.receive(R.sotw(.cluster, version: "v3", nonce: "n3", [R.cluster("a")]))
        let ack = mux.complete(rejection: nil)
        #expect(!ack[0].hasErrorDetail && ack[0].versionInfo == "v3")
    }

    @Test func longErrorMessagesAreTruncatedAsEnvoyDoes() {
        var mux = connected()
        _ = mux.subscribe(.cluster, names: [])
        _ = mux.receive(R.sotw(.cluster, version: "v1", nonce: "n1", []))
        let nack = mux.complete(rejection: XDSRejection(String(repeating: "x", count: 5000)))
        #expect(nack[0].errorDetail.message == String(repeating: "x", count: 4096) + "...(truncated)")
    }

    @Test func namedTypesAskForTheirNamesAndGetOnlyThose() {
        var mux = connected()
        let first = mux.subscribe(.clusterLoadAssignment, names: ["b", "a"])
        #expect(first[0].resourceNames == ["a", "b"])
        let update = mux.receive(R.sotw(.clusterLoadAssignment, version: "1", nonce: "n1",
                                        [R.assignment("a"), R.assignment("zzz")])).update!
        #expect(update.updated.map(\.name) == ["a"] && update.removed.isEmpty)
        _ = mux.complete(rejection: nil)
        // New names: asked at once, with the current version and nonce.
        let changed = mux.setNames(.clusterLoadAssignment, ["a", "c"])
        #expect(changed.count == 1 && changed[0].resourceNames == ["a", "c"])
        #expect(changed[0].versionInfo == "1" && changed[0].responseNonce == "n1")
        #expect(mux.setNames(.clusterLoadAssignment, ["a", "c"]).isEmpty)
        // A missing name is no removal for a named type; a response with
        // none of ours is acknowledged without a handler call.
        #expect(mux.receive(R.sotw(.clusterLoadAssignment, version: "2", nonce: "n2", [R.assignment("x")])).isAcknowledge)
        let ack = mux.complete(rejection: nil)
        #expect(ack[0].versionInfo == "2" && ack[0].responseNonce == "n2")
    }

    @Test func nodeOnFirstMessageOnly() {
        var mux = SotWMuxState(node: R.node, setNodeOnFirstMessageOnly: true)
        _ = mux.subscribe(.cluster, names: [])
        _ = mux.subscribe(.listener, names: [])
        let first = mux.streamEstablished()
        #expect(first.map(\.hasNode) == [true, false])
        _ = mux.receive(R.sotw(.cluster, version: "1", nonce: "n1", []))
        #expect(mux.complete(rejection: nil)[0].hasNode == false)
        // Each new stream carries it again on its first request.
        mux.streamClosed()
        #expect(mux.streamEstablished().map(\.hasNode) == [true, false])
        var every = connected()
        _ = every.subscribe(.cluster, names: [])
        _ = every.receive(R.sotw(.cluster, version: "1", nonce: "n1", []))
        #expect(every.complete(rejection: nil)[0].hasNode)
    }

    @Test func reconnectResendsInSubscriptionOrderWithVersionsAndNoNonce() {
        var mux = connected()
        _ = mux.subscribe(.cluster, names: [])
        _ = mux.subscribe(.clusterLoadAssignment, names: ["a"])
        _ = mux.subscribe(.listener, names: [])
        _ = mux.subscribe(.routeConfiguration, names: ["r"])
        _ = mux.receive(R.sotw(.cluster, version: "c7", nonce: "n1", []))
        _ = mux.complete(rejection: nil)
        mux.streamClosed()
        #expect(mux.setNames(.clusterLoadAssignment, ["a", "b"]).isEmpty)
        let again = mux.streamEstablished()
        #expect(again.map(\.typeURL) == [XDSResourceType.cluster, .clusterLoadAssignment, .listener, .routeConfiguration].map(\.typeURL))
        #expect(again[0].versionInfo == "c7" && again.allSatisfy { $0.responseNonce.isEmpty })
        #expect(again[1].resourceNames == ["a", "b"])
    }

    @Test func dependentRequestsWaitForTheResponseThatCausedThemAndGoBeforeItsAck() {
        var mux = connected()
        _ = mux.subscribe(.cluster, names: [])
        _ = mux.subscribe(.clusterLoadAssignment, names: ["a"])
        #expect(mux.receive(R.sotw(.cluster, version: "1", nonce: "n1", [R.cluster("a"), R.cluster("b")])).update != nil)
        // The CDS handler asks for more EDS names twice: nothing goes yet.
        #expect(mux.setNames(.clusterLoadAssignment, ["a", "b"]).isEmpty)
        #expect(mux.setNames(.clusterLoadAssignment, ["a", "b", "c"]).isEmpty)
        let out = mux.complete(rejection: nil)
        #expect(out.map(\.typeURL) == [XDSResourceType.clusterLoadAssignment.typeURL, XDSResourceType.cluster.typeURL])
        #expect(out[0].resourceNames == ["a", "b", "c"])
        #expect(out[1].versionInfo == "1")
    }

    @Test func pauseHoldsRequestsUntilResume() {
        var mux = connected()
        _ = mux.subscribe(.routeConfiguration, names: ["r1"])
        mux.pause([.routeConfiguration])
        #expect(mux.setNames(.routeConfiguration, ["r1", "r2"]).isEmpty)
        let out = mux.resume([.routeConfiguration])
        #expect(out.count == 1 && out[0].resourceNames == ["r1", "r2"])
        #expect(mux.resume([.routeConfiguration]).isEmpty)
    }

    @Test func malformedResponsesAreNacked() {
        var mux = connected()
        _ = mux.subscribe(.cluster, names: [])
        var wrong = R.sotw(.cluster, version: "1", nonce: "n1", [R.route("r")])
        #expect(mux.receive(wrong).rejection?.contains("does not match the message-wide type URL") == true)
        let nack = mux.complete(rejection: XDSRejection("x"))
        #expect(nack[0].responseNonce == "n1" && nack[0].versionInfo.isEmpty && nack[0].hasErrorDetail)
        wrong.resources = [Google_Protobuf_Any()]
        wrong.resources[0].typeURL = XDSResourceType.cluster.typeURL
        wrong.resources[0].value = Data([0xFF])
        #expect(mux.receive(wrong).rejection == "Unable to unpack as envoy.config.cluster.v3.Cluster: the resource's fields do not parse")
        _ = mux.complete(rejection: XDSRejection("y"))
        // A good name followed by bytes that do not parse is refused too.
        var trailing = R.sotw(.cluster, version: "1", nonce: "n1b", [R.cluster("a")])
        trailing.resources[0].value.append(contentsOf: [0x12, 0x7F])
        #expect(mux.receive(trailing).rejection?.hasPrefix("Unable to unpack as envoy.config.cluster.v3.Cluster: ") == true)
        _ = mux.complete(rejection: XDSRejection("y"))
        // What the handler holds is unchanged by malformed responses: a
        // later update still removes what it lacks.
        _ = mux.receive(R.sotw(.cluster, version: "2", nonce: "n2", [R.cluster("a"), R.cluster("b")]))
        _ = mux.complete(rejection: nil)
        _ = mux.receive(wrong)
        _ = mux.complete(rejection: XDSRejection("z"))
        #expect(mux.receive(R.sotw(.cluster, version: "3", nonce: "n3", [R.cluster("a")])).update?.removed == ["b"])
        _ = mux.complete(rejection: nil)
    }

    @Test func wrappedResourcesAndHeartbeats() {
        var mux = connected()
        _ = mux.subscribe(.cluster, names: [])
        var wrapper = Envoy_Service_Discovery_V3_Resource()
        wrapper.name = "w"
        wrapper.resource = R.cluster("w")
        var heartbeat = Envoy_Service_Discovery_V3_Resource()
        heartbeat.name = "h"
        let update = mux.receive(R.sotw(.cluster, version: "1", nonce: "n", [
            try! Google_Protobuf_Any(message: wrapper), try! Google_Protobuf_Any(message: heartbeat),
        ])).update!
        #expect(update.updated.map(\.name) == ["w"])
        #expect(update.updated[0].resource.typeURL == XDSResourceType.cluster.typeURL)
        _ = mux.complete(rejection: nil)
    }

    @Test func unsubscribedAndUnknownTypes() {
        var mux = connected()
        #expect(mux.receive(R.sotw(.listener, version: "1", nonce: "n", [])).isIgnored)
        _ = mux.subscribe(.clusterLoadAssignment, names: ["a"])
        let gone = mux.unsubscribe(.clusterLoadAssignment)
        #expect(gone.count == 1 && gone[0].resourceNames.isEmpty)
        // No watch: an empty response is taken (its version kept) with no
        // request (Envoy's GrpcMuxImpl has nothing to ask) ...
        #expect(mux.receive(R.sotw(.clusterLoadAssignment, version: "5", nonce: "n5", [])).replies?.isEmpty == true)
        // ... one with resources is answered with the old version.
        let full = mux.receive(R.sotw(.clusterLoadAssignment, version: "6", nonce: "n6", [R.assignment("a")])).replies!
        #expect(full[0].versionInfo == "5" && full[0].responseNonce == "n6" && !full[0].hasErrorDetail)
        // The next subscription asks with the version and nonce it took.
        let again = mux.subscribe(.clusterLoadAssignment, names: ["b"])
        #expect(again[0].versionInfo == "5" && again[0].responseNonce == "n6" && again[0].resourceNames == ["b"])
    }
}
