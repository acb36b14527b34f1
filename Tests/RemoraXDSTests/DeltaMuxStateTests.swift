import Foundation
import RemoraAPI
import Testing
@testable import RemoraXDS

/// The Delta mux against Envoy's NewGrpcMuxImpl/DeltaSubscriptionState rules, no sockets.
@Suite struct DeltaMuxStateTests {
    typealias R = XDSTestResources

    func connected(firstOnly: Bool = false) -> DeltaMuxState {
        var mux = DeltaMuxState(node: R.node, setNodeOnFirstMessageOnly: firstOnly)
        _ = mux.streamEstablished()
        return mux
    }

    @Test func wildcardStartsWithAnEmptyLegacyRequest() {
        var mux = connected()
        let first = mux.subscribe(.cluster, names: [])
        #expect(first.count == 1)
        #expect(first[0].typeURL == XDSResourceType.cluster.typeURL)
        #expect(first[0].resourceNamesSubscribe.isEmpty && first[0].resourceNamesUnsubscribe.isEmpty)
        #expect(first[0].initialResourceVersions.isEmpty && first[0].hasNode)
    }

    @Test func ackAndNackCarryTheNonce() {
        var mux = connected()
        _ = mux.subscribe(.cluster, names: [])
        let update = mux.receive(R.delta(.cluster, nonce: "n1", [("a", "1", R.cluster("a"))], system: "s1")).update!
        #expect(!update.isStateOfTheWorld && update.versionInfo == "s1")
        #expect(update.updated.map(\.name) == ["a"] && update.updated[0].version == "1")
        let ack = mux.complete(rejection: nil)
        #expect(ack.count == 1 && ack[0].responseNonce == "n1" && !ack[0].hasErrorDetail)
        #expect(ack[0].resourceNamesSubscribe.isEmpty && ack[0].hasNode)
        _ = mux.receive(R.delta(.cluster, nonce: "n2", [("b", "1", R.cluster("b"))]))
        let nack = mux.complete(rejection: XDSRejection("cluster 'b' is bad"))
        #expect(nack[0].responseNonce == "n2" && nack[0].errorDetail.code == 13 && nack[0].errorDetail.message == "cluster 'b' is bad")
    }

    @Test func removalsAreDelivered() {
        var mux = connected()
        _ = mux.subscribe(.cluster, names: [])
        _ = mux.receive(R.delta(.cluster, nonce: "n1", [("a", "1", R.cluster("a")), ("b", "1", R.cluster("b"))]))
        _ = mux.complete(rejection: nil)
        let update = mux.receive(R.delta(.cluster, nonce: "n2", [], removed: ["a"])).update!
        #expect(update.updated.isEmpty && update.removed == ["a"])
        _ = mux.complete(rejection: nil)
        // An empty response still reaches a wildcard type (it may end warming).
        #expect(mux.receive(R.delta(.cluster, nonce: "n3", [])).update != nil)
        _ = mux.complete(rejection: nil)
    }

    @Test func namedSubscribeAndUnsubscribe() {
        var mux = connected()
        let first = mux.subscribe(.routeConfiguration, names: ["r1", "r2"])
        #expect(first.count == 1 && first[0].resourceNamesSubscribe == ["r1", "r2"])
        let change = mux.setNames(.routeConfiguration, ["r2", "r3"])
        #expect(change.count == 1)
        #expect(change[0].resourceNamesSubscribe == ["r3"] && change[0].resourceNamesUnsubscribe == ["r1"])
        #expect(mux.setNames(.routeConfiguration, ["r2", "r3"]).isEmpty)
        // Only names asked for reach the handler.
        let update = mux.receive(R.delta(.routeConfiguration, nonce: "n1", [("r2", "1", R.route("r2")), ("x", "1", R.route("x"))])).update!
        #expect(update.updated.map(\.name) == ["r2"])
        _ = mux.complete(rejection: nil)
        // Nothing of ours: acknowledged without the handler.
        #expect(mux.receive(R.delta(.routeConfiguration, nonce: "n2", [("x", "2", R.route("x"))])).isAcknowledge)
        #expect(mux.complete(rejection: nil)[0].responseNonce == "n2")
    }

    @Test func reconnectSendsInitialResourceVersions() {
        var mux = connected()
        _ = mux.subscribe(.cluster, names: [])
        _ = mux.subscribe(.clusterLoadAssignment, names: ["a", "b"])
        _ = mux.receive(R.delta(.cluster, nonce: "n1", [("a", "3", R.cluster("a")), ("b", "4", R.cluster("b"))]))
        _ = mux.complete(rejection: nil)
        _ = mux.receive(R.delta(.clusterLoadAssignment, nonce: "n2", [("a", "7", R.assignment("a"))]))
        _ = mux.complete(rejection: nil)
        mux.streamClosed()
        let again = mux.streamEstablished()
        #expect(again.map(\.typeURL) == [XDSResourceType.cluster.typeURL, XDSResourceType.clusterLoadAssignment.typeURL])
        // Legacy wildcard again: no names, the versions held.
        #expect(again[0].resourceNamesSubscribe.isEmpty && again[0].initialResourceVersions == ["a": "3", "b": "4"])
        // Named: every name again; versions only for what is held (b is awaited).
        #expect(again[1].resourceNamesSubscribe == ["a", "b"] && again[1].initialResourceVersions == ["a": "7"])
        #expect(again.allSatisfy { $0.responseNonce.isEmpty })
    }

    @Test func aRemovedResourceStillWantedLosesItsVersion() {
        var mux = connected()
        _ = mux.subscribe(.routeConfiguration, names: ["r"])
        _ = mux.receive(R.delta(.routeConfiguration, nonce: "n1", [("r", "1", R.route("r"))]))
        _ = mux.complete(rejection: nil)
        #expect(mux.receive(R.delta(.routeConfiguration, nonce: "n2", [], removed: ["r"])).update?.removed == ["r"])
        _ = mux.complete(rejection: nil)
        mux.streamClosed()
        let again = mux.streamEstablished()
        #expect(again[0].resourceNamesSubscribe == ["r"] && again[0].initialResourceVersions.isEmpty)
    }

    @Test func aRejectedUpdateKeepsTheOldVersions() {
        var mux = connected()
        _ = mux.subscribe(.cluster, names: [])
        _ = mux.receive(R.delta(.cluster, nonce: "n1", [("a", "1", R.cluster("a"))]))
        _ = mux.complete(rejection: nil)
        _ = mux.receive(R.delta(.cluster, nonce: "n2", [("a", "2", R.cluster("a"))]))
        _ = mux.complete(rejection: XDSRejection("no"))
        mux.streamClosed()
        #expect(mux.streamEstablished()[0].initialResourceVersions == ["a": "1"])
    }

    @Test func malformedResponsesAreNacked() {
        var mux = connected()
        _ = mux.subscribe(.cluster, names: [])
        let duplicate = R.delta(.cluster, nonce: "n1", [("a", "1", R.cluster("a")), ("a", "2", R.cluster("a"))])
        #expect(mux.receive(duplicate).rejection == "duplicate name a found among added/updated resources")
        #expect(mux.complete(rejection: XDSRejection("dup"))[0].hasErrorDetail)
        let both = R.delta(.cluster, nonce: "n2", [("a", "1", R.cluster("a"))], removed: ["a"])
        #expect(mux.receive(both).rejection == "duplicate name a found in the union of added+removed resources")
        _ = mux.complete(rejection: XDSRejection("dup"))
        let wrongType = R.delta(.cluster, nonce: "n3", [("a", "1", R.route("a"))])
        #expect(mux.receive(wrongType).rejection?.hasPrefix("type URL type.googleapis.com/envoy.config.route.v3.RouteConfiguration embedded") == true)
        _ = mux.complete(rejection: XDSRejection("type"))
        // Envoy decodes every resource before the handler sees any.
        var garbage = R.cluster("b")
        garbage.value = Data([0xFF, 0xFF, 0xFF])
        let undecodable = R.delta(.cluster, nonce: "n4", [("a", "1", R.cluster("a")), ("b", "1", garbage)])
        #expect(mux.receive(undecodable).rejection == "Unable to unpack as envoy.config.cluster.v3.Cluster: the resource's fields do not parse")
        #expect(mux.complete(rejection: XDSRejection("bytes"))[0].responseNonce == "n4")
    }

    @Test func heartbeatsAreSkipped() {
        var mux = connected()
        _ = mux.subscribe(.routeConfiguration, names: ["r"])
        _ = mux.receive(R.delta(.routeConfiguration, nonce: "n1", [("r", "1", R.route("r"))]))
        _ = mux.complete(rejection: nil)
        // Same version, no body: a heartbeat, nothing to deliver.
        #expect(mux.receive(R.delta(.routeConfiguration, nonce: "n2", [("r", "1", nil)])).isAcknowledge)
        _ = mux.complete(rejection: nil)
    }

    @Test func dependentSubscriptionsGoBeforeTheAck() {
        var mux = connected()
        _ = mux.subscribe(.cluster, names: [])
        _ = mux.subscribe(.clusterLoadAssignment, names: ["a"])
        _ = mux.receive(R.delta(.cluster, nonce: "n1", [("b", "1", R.cluster("b"))]))
        #expect(mux.setNames(.clusterLoadAssignment, ["a", "b"]).isEmpty)
        let out = mux.complete(rejection: nil)
        // Envoy 1.40 (checked): the EDS subscription, then the CDS ACK.
        #expect(out.map(\.typeURL) == [XDSResourceType.clusterLoadAssignment.typeURL, XDSResourceType.cluster.typeURL])
        #expect(out[0].resourceNamesSubscribe == ["b"] && out[1].responseNonce == "n1")
    }

    @Test func nodeOnFirstMessageOnly() {
        var mux = connected(firstOnly: true)
        _ = mux.subscribe(.cluster, names: [])
        _ = mux.subscribe(.clusterLoadAssignment, names: ["a"])
        mux.streamClosed()
        #expect(mux.streamEstablished().map(\.hasNode) == [true, false])
        _ = mux.receive(R.delta(.cluster, nonce: "n1", []))
        #expect(mux.complete(rejection: nil).map(\.hasNode) == [false])
        var every = connected()
        _ = every.subscribe(.cluster, names: [])
        _ = every.receive(R.delta(.cluster, nonce: "n1", []))
        #expect(every.complete(rejection: nil).map(\.hasNode) == [true])
    }

    @Test func unsubscribingAWildcardType() {
        var mux = connected()
        _ = mux.subscribe(.listener, names: [])
        let out = mux.unsubscribe(.listener)
        #expect(out.count == 1 && out[0].resourceNamesUnsubscribe == ["*"])
        #expect(mux.receive(R.delta(.listener, nonce: "n", [])).isAcknowledge)
        _ = mux.complete(rejection: nil)
        // Subscribing again asks for the wildcard by name.
        let again = mux.subscribe(.listener, names: [])
        #expect(again.count == 1 && again[0].resourceNamesSubscribe == ["*"])
    }
}
