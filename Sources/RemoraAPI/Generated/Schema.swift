// DO NOT EDIT. Written by scripts/generate-api.py from the pinned Envoy API.

import SwiftProtobuf

/// Every generated message type, for the `Any` registry and for unpacking by type URL.
public let generatedMessageTypes: [any SwiftProtobuf.Message.Type] = [
    Envoy_Config_Accesslog_V3_AccessLog.self,
    Envoy_Config_Accesslog_V3_AccessLogFilter.self,
    Envoy_Config_Accesslog_V3_AndFilter.self,
    Envoy_Config_Accesslog_V3_ComparisonFilter.self,
    Envoy_Config_Accesslog_V3_DurationFilter.self,
    Envoy_Config_Accesslog_V3_ExtensionFilter.self,
    Envoy_Config_Accesslog_V3_GrpcStatusFilter.self,
    Envoy_Config_Accesslog_V3_HeaderFilter.self,
    Envoy_Config_Accesslog_V3_LogTypeFilter.self,
    Envoy_Config_Accesslog_V3_MetadataFilter.self,
    Envoy_Config_Accesslog_V3_NotHealthCheckFilter.self,
    Envoy_Config_Accesslog_V3_OrFilter.self,
    Envoy_Config_Accesslog_V3_ResponseFlagFilter.self,
    Envoy_Config_Accesslog_V3_RuntimeFilter.self,
    Envoy_Config_Accesslog_V3_StatusCodeFilter.self,
    Envoy_Config_Accesslog_V3_TraceableFilter.self,
    Envoy_Config_Bootstrap_V3_Admin.self,
    Envoy_Config_Bootstrap_V3_Bootstrap.self,
    Envoy_Config_Bootstrap_V3_Bootstrap.ApplicationLogConfig.self,
    Envoy_Config_Bootstrap_V3_Bootstrap.ApplicationLogConfig.LogFormat.self,
    Envoy_Config_Bootstrap_V3_Bootstrap.DeferredStatOptions.self,
    Envoy_Config_Bootstrap_V3_Bootstrap.DynamicResources.self,
    Envoy_Config_Bootstrap_V3_Bootstrap.GrpcAsyncClientManagerConfig.self,
    Envoy_Config_Bootstrap_V3_Bootstrap.StaticResources.self,
    Envoy_Config_Bootstrap_V3_ClusterManager.self,
    Envoy_Config_Bootstrap_V3_ClusterManager.OutlierDetection.self,
    Envoy_Config_Bootstrap_V3_CustomInlineHeader.self,
    Envoy_Config_Bootstrap_V3_FatalAction.self,
    Envoy_Config_Bootstrap_V3_LayeredRuntime.self,
    Envoy_Config_Bootstrap_V3_MemoryAllocatorManager.self,
    Envoy_Config_Bootstrap_V3_Runtime.self,
    Envoy_Config_Bootstrap_V3_RuntimeLayer.self,
    Envoy_Config_Bootstrap_V3_RuntimeLayer.AdminLayer.self,
    Envoy_Config_Bootstrap_V3_RuntimeLayer.DiskLayer.self,
    Envoy_Config_Bootstrap_V3_RuntimeLayer.RtdsLayer.self,
    Envoy_Config_Bootstrap_V3_Watchdog.self,
    Envoy_Config_Bootstrap_V3_Watchdog.WatchdogAction.self,
    Envoy_Config_Bootstrap_V3_Watchdogs.self,
    Envoy_Config_Cluster_V3_CircuitBreakers.self,
    Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds.self,
    Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds.RetryBudget.self,
    Envoy_Config_Cluster_V3_Cluster.self,
    Envoy_Config_Cluster_V3_Cluster.CommonLbConfig.self,
    Envoy_Config_Cluster_V3_Cluster.CommonLbConfig.ConsistentHashingLbConfig.self,
    Envoy_Config_Cluster_V3_Cluster.CommonLbConfig.LocalityWeightedLbConfig.self,
    Envoy_Config_Cluster_V3_Cluster.CommonLbConfig.ZoneAwareLbConfig.self,
    Envoy_Config_Cluster_V3_Cluster.CustomClusterType.self,
    Envoy_Config_Cluster_V3_Cluster.EdsClusterConfig.self,
    Envoy_Config_Cluster_V3_Cluster.LbSubsetConfig.self,
    Envoy_Config_Cluster_V3_Cluster.LbSubsetConfig.LbSubsetSelector.self,
    Envoy_Config_Cluster_V3_Cluster.LeastRequestLbConfig.self,
    Envoy_Config_Cluster_V3_Cluster.MaglevLbConfig.self,
    Envoy_Config_Cluster_V3_Cluster.OriginalDstLbConfig.self,
    Envoy_Config_Cluster_V3_Cluster.PreconnectPolicy.self,
    Envoy_Config_Cluster_V3_Cluster.RefreshRate.self,
    Envoy_Config_Cluster_V3_Cluster.RingHashLbConfig.self,
    Envoy_Config_Cluster_V3_Cluster.RoundRobinLbConfig.self,
    Envoy_Config_Cluster_V3_Cluster.SlowStartConfig.self,
    Envoy_Config_Cluster_V3_Cluster.TransportSocketMatch.self,
    Envoy_Config_Cluster_V3_ClusterCollection.self,
    Envoy_Config_Cluster_V3_Filter.self,
    Envoy_Config_Cluster_V3_LoadBalancingPolicy.self,
    Envoy_Config_Cluster_V3_LoadBalancingPolicy.Policy.self,
    Envoy_Config_Cluster_V3_OutlierDetection.self,
    Envoy_Config_Cluster_V3_TrackClusterStats.self,
    Envoy_Config_Cluster_V3_UpstreamConnectionOptions.self,
    Envoy_Config_Cluster_V3_UpstreamConnectionOptions.HappyEyeballsConfig.self,
    Envoy_Config_Common_Matcher_V3_HttpGenericBodyMatch.self,
    Envoy_Config_Common_Matcher_V3_HttpGenericBodyMatch.GenericTextMatch.self,
    Envoy_Config_Common_Matcher_V3_HttpHeadersMatch.self,
    Envoy_Config_Common_Matcher_V3_MatchPredicate.self,
    Envoy_Config_Common_Matcher_V3_MatchPredicate.MatchSet.self,
    Envoy_Config_Common_Matcher_V3_Matcher.self,
    Envoy_Config_Common_Matcher_V3_Matcher.MatcherList.self,
    Envoy_Config_Common_Matcher_V3_Matcher.MatcherList.FieldMatcher.self,
    Envoy_Config_Common_Matcher_V3_Matcher.MatcherList.Predicate.self,
    Envoy_Config_Common_Matcher_V3_Matcher.MatcherList.Predicate.PredicateList.self,
    Envoy_Config_Common_Matcher_V3_Matcher.MatcherList.Predicate.SinglePredicate.self,
    Envoy_Config_Common_Matcher_V3_Matcher.MatcherTree.self,
    Envoy_Config_Common_Matcher_V3_Matcher.MatcherTree.MatchMap.self,
    Envoy_Config_Common_Matcher_V3_Matcher.OnMatch.self,
    Envoy_Config_Common_MutationRules_V3_HeaderMutation.self,
    Envoy_Config_Common_MutationRules_V3_HeaderMutation.RemoveOnMatch.self,
    Envoy_Config_Common_MutationRules_V3_HeaderMutationRules.self,
    Envoy_Config_Core_V3_Address.self,
    Envoy_Config_Core_V3_AggregatedConfigSource.self,
    Envoy_Config_Core_V3_AlternateProtocolsCacheOptions.self,
    Envoy_Config_Core_V3_AlternateProtocolsCacheOptions.AlternateProtocolsCacheEntry.self,
    Envoy_Config_Core_V3_ApiConfigSource.self,
    Envoy_Config_Core_V3_AsyncDataSource.self,
    Envoy_Config_Core_V3_BackoffStrategy.self,
    Envoy_Config_Core_V3_BindConfig.self,
    Envoy_Config_Core_V3_BuildVersion.self,
    Envoy_Config_Core_V3_CelExpressionConfig.self,
    Envoy_Config_Core_V3_CidrRange.self,
    Envoy_Config_Core_V3_ConfigSource.self,
    Envoy_Config_Core_V3_ControlPlane.self,
    Envoy_Config_Core_V3_DataSource.self,
    Envoy_Config_Core_V3_DnsResolutionConfig.self,
    Envoy_Config_Core_V3_DnsResolverOptions.self,
    Envoy_Config_Core_V3_EnvoyInternalAddress.self,
    Envoy_Config_Core_V3_EventServiceConfig.self,
    Envoy_Config_Core_V3_Extension.self,
    Envoy_Config_Core_V3_ExtensionConfigSource.self,
    Envoy_Config_Core_V3_ExtraSourceAddress.self,
    Envoy_Config_Core_V3_GrpcProtocolOptions.self,
    Envoy_Config_Core_V3_GrpcService.self,
    Envoy_Config_Core_V3_GrpcService.EnvoyGrpc.self,
    Envoy_Config_Core_V3_GrpcService.GoogleGrpc.self,
    Envoy_Config_Core_V3_GrpcService.GoogleGrpc.CallCredentials.self,
    Envoy_Config_Core_V3_GrpcService.GoogleGrpc.CallCredentials.GoogleIAMCredentials.self,
    Envoy_Config_Core_V3_GrpcService.GoogleGrpc.CallCredentials.MetadataCredentialsFromPlugin.self,
    Envoy_Config_Core_V3_GrpcService.GoogleGrpc.CallCredentials.ServiceAccountJWTAccessCredentials.self,
    Envoy_Config_Core_V3_GrpcService.GoogleGrpc.CallCredentials.StsService.self,
    Envoy_Config_Core_V3_GrpcService.GoogleGrpc.ChannelArgs.self,
    Envoy_Config_Core_V3_GrpcService.GoogleGrpc.ChannelArgs.Value.self,
    Envoy_Config_Core_V3_GrpcService.GoogleGrpc.ChannelCredentials.self,
    Envoy_Config_Core_V3_GrpcService.GoogleGrpc.GoogleLocalCredentials.self,
    Envoy_Config_Core_V3_GrpcService.GoogleGrpc.SslCredentials.self,
    Envoy_Config_Core_V3_HeaderMap.self,
    Envoy_Config_Core_V3_HeaderValue.self,
    Envoy_Config_Core_V3_HeaderValueOption.self,
    Envoy_Config_Core_V3_HealthCheck.self,
    Envoy_Config_Core_V3_HealthCheck.CustomHealthCheck.self,
    Envoy_Config_Core_V3_HealthCheck.GrpcHealthCheck.self,
    Envoy_Config_Core_V3_HealthCheck.HttpHealthCheck.self,
    Envoy_Config_Core_V3_HealthCheck.Payload.self,
    Envoy_Config_Core_V3_HealthCheck.RedisHealthCheck.self,
    Envoy_Config_Core_V3_HealthCheck.TcpHealthCheck.self,
    Envoy_Config_Core_V3_HealthCheck.TlsOptions.self,
    Envoy_Config_Core_V3_HealthStatusSet.self,
    Envoy_Config_Core_V3_Http1ProtocolOptions.self,
    Envoy_Config_Core_V3_Http1ProtocolOptions.HeaderKeyFormat.self,
    Envoy_Config_Core_V3_Http1ProtocolOptions.HeaderKeyFormat.ProperCaseWords.self,
    Envoy_Config_Core_V3_Http2ProtocolOptions.self,
    Envoy_Config_Core_V3_Http2ProtocolOptions.SettingsParameter.self,
    Envoy_Config_Core_V3_Http3ProtocolOptions.self,
    Envoy_Config_Core_V3_HttpProtocolOptions.self,
    Envoy_Config_Core_V3_HttpUri.self,
    Envoy_Config_Core_V3_JsonFormatOptions.self,
    Envoy_Config_Core_V3_KeepaliveSettings.self,
    Envoy_Config_Core_V3_KeyValue.self,
    Envoy_Config_Core_V3_KeyValueAppend.self,
    Envoy_Config_Core_V3_KeyValueMutation.self,
    Envoy_Config_Core_V3_KeyValuePair.self,
    Envoy_Config_Core_V3_Locality.self,
    Envoy_Config_Core_V3_Metadata.self,
    Envoy_Config_Core_V3_Node.self,
    Envoy_Config_Core_V3_PathConfigSource.self,
    Envoy_Config_Core_V3_PerHostConfig.self,
    Envoy_Config_Core_V3_Pipe.self,
    Envoy_Config_Core_V3_ProxyProtocolConfig.self,
    Envoy_Config_Core_V3_ProxyProtocolPassThroughTLVs.self,
    Envoy_Config_Core_V3_QueryParameter.self,
    Envoy_Config_Core_V3_QuicKeepAliveSettings.self,
    Envoy_Config_Core_V3_QuicProtocolOptions.self,
    Envoy_Config_Core_V3_RateLimitSettings.self,
    Envoy_Config_Core_V3_RemoteDataSource.self,
    Envoy_Config_Core_V3_RetryPolicy.self,
    Envoy_Config_Core_V3_RetryPolicy.RetryHostPredicate.self,
    Envoy_Config_Core_V3_RetryPolicy.RetryPriority.self,
    Envoy_Config_Core_V3_RuntimeDouble.self,
    Envoy_Config_Core_V3_RuntimeFeatureFlag.self,
    Envoy_Config_Core_V3_RuntimeFractionalPercent.self,
    Envoy_Config_Core_V3_RuntimePercent.self,
    Envoy_Config_Core_V3_RuntimeUInt32.self,
    Envoy_Config_Core_V3_SchemeHeaderTransformation.self,
    Envoy_Config_Core_V3_SelfConfigSource.self,
    Envoy_Config_Core_V3_SocketAddress.self,
    Envoy_Config_Core_V3_SocketCmsgHeaders.self,
    Envoy_Config_Core_V3_SocketOption.self,
    Envoy_Config_Core_V3_SocketOption.SocketType.self,
    Envoy_Config_Core_V3_SocketOption.SocketType.Datagram.self,
    Envoy_Config_Core_V3_SocketOption.SocketType.Stream.self,
    Envoy_Config_Core_V3_SocketOptionsOverride.self,
    Envoy_Config_Core_V3_SubstitutionFormatString.self,
    Envoy_Config_Core_V3_TcpKeepalive.self,
    Envoy_Config_Core_V3_TcpProtocolOptions.self,
    Envoy_Config_Core_V3_TlvEntry.self,
    Envoy_Config_Core_V3_TransportSocket.self,
    Envoy_Config_Core_V3_TypedExtensionConfig.self,
    Envoy_Config_Core_V3_UdpSocketConfig.self,
    Envoy_Config_Core_V3_UpstreamHttpProtocolOptions.self,
    Envoy_Config_Core_V3_WatchedDirectory.self,
    Envoy_Config_Endpoint_V3_ClusterLoadAssignment.self,
    Envoy_Config_Endpoint_V3_ClusterLoadAssignment.Policy.self,
    Envoy_Config_Endpoint_V3_ClusterLoadAssignment.Policy.DropOverload.self,
    Envoy_Config_Endpoint_V3_Endpoint.self,
    Envoy_Config_Endpoint_V3_Endpoint.AdditionalAddress.self,
    Envoy_Config_Endpoint_V3_Endpoint.HealthCheckConfig.self,
    Envoy_Config_Endpoint_V3_LbEndpoint.self,
    Envoy_Config_Endpoint_V3_LbEndpointCollection.self,
    Envoy_Config_Endpoint_V3_LedsClusterLocalityConfig.self,
    Envoy_Config_Endpoint_V3_LocalityLbEndpoints.self,
    Envoy_Config_Endpoint_V3_LocalityLbEndpoints.LbEndpointList.self,
    Envoy_Config_Listener_V3_ActiveRawUdpListenerConfig.self,
    Envoy_Config_Listener_V3_AdditionalAddress.self,
    Envoy_Config_Listener_V3_ApiListener.self,
    Envoy_Config_Listener_V3_ApiListenerManager.self,
    Envoy_Config_Listener_V3_Filter.self,
    Envoy_Config_Listener_V3_FilterChain.self,
    Envoy_Config_Listener_V3_FilterChainMatch.self,
    Envoy_Config_Listener_V3_Listener.self,
    Envoy_Config_Listener_V3_Listener.ConnectionBalanceConfig.self,
    Envoy_Config_Listener_V3_Listener.ConnectionBalanceConfig.ExactBalance.self,
    Envoy_Config_Listener_V3_Listener.DeprecatedV1.self,
    Envoy_Config_Listener_V3_Listener.FcdsConfig.self,
    Envoy_Config_Listener_V3_Listener.InternalListenerConfig.self,
    Envoy_Config_Listener_V3_ListenerCollection.self,
    Envoy_Config_Listener_V3_ListenerFilter.self,
    Envoy_Config_Listener_V3_ListenerFilterChainMatchPredicate.self,
    Envoy_Config_Listener_V3_ListenerFilterChainMatchPredicate.MatchSet.self,
    Envoy_Config_Listener_V3_ListenerManager.self,
    Envoy_Config_Listener_V3_QuicProtocolOptions.self,
    Envoy_Config_Listener_V3_UdpListenerConfig.self,
    Envoy_Config_Listener_V3_ValidationListenerManager.self,
    Envoy_Config_Metrics_V3_DogStatsdSink.self,
    Envoy_Config_Metrics_V3_HistogramBucketSettings.self,
    Envoy_Config_Metrics_V3_HystrixSink.self,
    Envoy_Config_Metrics_V3_StatsConfig.self,
    Envoy_Config_Metrics_V3_StatsMatcher.self,
    Envoy_Config_Metrics_V3_StatsSink.self,
    Envoy_Config_Metrics_V3_StatsdSink.self,
    Envoy_Config_Metrics_V3_TagSpecifier.self,
    Envoy_Config_Overload_V3_BufferFactoryConfig.self,
    Envoy_Config_Overload_V3_LoadShedPoint.self,
    Envoy_Config_Overload_V3_OverloadAction.self,
    Envoy_Config_Overload_V3_OverloadManager.self,
    Envoy_Config_Overload_V3_ResourceMonitor.self,
    Envoy_Config_Overload_V3_ScaleTimersOverloadActionConfig.self,
    Envoy_Config_Overload_V3_ScaleTimersOverloadActionConfig.ScaleTimer.self,
    Envoy_Config_Overload_V3_ScaledTrigger.self,
    Envoy_Config_Overload_V3_ThresholdTrigger.self,
    Envoy_Config_Overload_V3_Trigger.self,
    Envoy_Config_Rbac_V3_Action.self,
    Envoy_Config_Rbac_V3_Permission.self,
    Envoy_Config_Rbac_V3_Permission.Set.self,
    Envoy_Config_Rbac_V3_Policy.self,
    Envoy_Config_Rbac_V3_Principal.self,
    Envoy_Config_Rbac_V3_Principal.Authenticated.self,
    Envoy_Config_Rbac_V3_Principal.Set.self,
    Envoy_Config_Rbac_V3_RBAC.self,
    Envoy_Config_Rbac_V3_RBAC.AuditLoggingOptions.self,
    Envoy_Config_Rbac_V3_RBAC.AuditLoggingOptions.AuditLoggerConfig.self,
    Envoy_Config_Rbac_V3_SourcedMetadata.self,
    Envoy_Config_Route_V3_ClusterSpecifierPlugin.self,
    Envoy_Config_Route_V3_CorsPolicy.self,
    Envoy_Config_Route_V3_Decorator.self,
    Envoy_Config_Route_V3_DirectResponseAction.self,
    Envoy_Config_Route_V3_FilterAction.self,
    Envoy_Config_Route_V3_FilterConfig.self,
    Envoy_Config_Route_V3_HeaderMatcher.self,
    Envoy_Config_Route_V3_HedgePolicy.self,
    Envoy_Config_Route_V3_InternalRedirectPolicy.self,
    Envoy_Config_Route_V3_NonForwardingAction.self,
    Envoy_Config_Route_V3_QueryParameterMatcher.self,
    Envoy_Config_Route_V3_RateLimit.self,
    Envoy_Config_Route_V3_RateLimit.Action.self,
    Envoy_Config_Route_V3_RateLimit.Action.DestinationCluster.self,
    Envoy_Config_Route_V3_RateLimit.Action.DynamicMetaData.self,
    Envoy_Config_Route_V3_RateLimit.Action.GenericKey.self,
    Envoy_Config_Route_V3_RateLimit.Action.HeaderValueMatch.self,
    Envoy_Config_Route_V3_RateLimit.Action.MaskedRemoteAddress.self,
    Envoy_Config_Route_V3_RateLimit.Action.MetaData.self,
    Envoy_Config_Route_V3_RateLimit.Action.QueryParameterValueMatch.self,
    Envoy_Config_Route_V3_RateLimit.Action.QueryParameters.self,
    Envoy_Config_Route_V3_RateLimit.Action.RemoteAddress.self,
    Envoy_Config_Route_V3_RateLimit.Action.RequestHeaders.self,
    Envoy_Config_Route_V3_RateLimit.Action.SourceCluster.self,
    Envoy_Config_Route_V3_RateLimit.HitsAddend.self,
    Envoy_Config_Route_V3_RateLimit.Override.self,
    Envoy_Config_Route_V3_RateLimit.Override.DynamicMetadata.self,
    Envoy_Config_Route_V3_RedirectAction.self,
    Envoy_Config_Route_V3_RetryPolicy.self,
    Envoy_Config_Route_V3_RetryPolicy.RateLimitedRetryBackOff.self,
    Envoy_Config_Route_V3_RetryPolicy.ResetHeader.self,
    Envoy_Config_Route_V3_RetryPolicy.RetryBackOff.self,
    Envoy_Config_Route_V3_RetryPolicy.RetryHostPredicate.self,
    Envoy_Config_Route_V3_RetryPolicy.RetryPriority.self,
    Envoy_Config_Route_V3_Route.self,
    Envoy_Config_Route_V3_RouteAction.self,
    Envoy_Config_Route_V3_RouteAction.HashPolicy.self,
    Envoy_Config_Route_V3_RouteAction.HashPolicy.ConnectionProperties.self,
    Envoy_Config_Route_V3_RouteAction.HashPolicy.Cookie.self,
    Envoy_Config_Route_V3_RouteAction.HashPolicy.CookieAttribute.self,
    Envoy_Config_Route_V3_RouteAction.HashPolicy.FilterState.self,
    Envoy_Config_Route_V3_RouteAction.HashPolicy.Header.self,
    Envoy_Config_Route_V3_RouteAction.HashPolicy.QueryParameter.self,
    Envoy_Config_Route_V3_RouteAction.MaxStreamDuration.self,
    Envoy_Config_Route_V3_RouteAction.RequestMirrorPolicy.self,
    Envoy_Config_Route_V3_RouteAction.UpgradeConfig.self,
    Envoy_Config_Route_V3_RouteAction.UpgradeConfig.ConnectConfig.self,
    Envoy_Config_Route_V3_RouteConfiguration.self,
    Envoy_Config_Route_V3_RouteList.self,
    Envoy_Config_Route_V3_RouteMatch.self,
    Envoy_Config_Route_V3_RouteMatch.ConnectMatcher.self,
    Envoy_Config_Route_V3_RouteMatch.GrpcRouteMatchOptions.self,
    Envoy_Config_Route_V3_RouteMatch.TlsContextMatchOptions.self,
    Envoy_Config_Route_V3_ScopedRouteConfiguration.self,
    Envoy_Config_Route_V3_ScopedRouteConfiguration.Key.self,
    Envoy_Config_Route_V3_ScopedRouteConfiguration.Key.Fragment.self,
    Envoy_Config_Route_V3_Tracing.self,
    Envoy_Config_Route_V3_Vhds.self,
    Envoy_Config_Route_V3_VirtualCluster.self,
    Envoy_Config_Route_V3_VirtualHost.self,
    Envoy_Config_Route_V3_WeightedCluster.self,
    Envoy_Config_Route_V3_WeightedCluster.ClusterWeight.self,
    Envoy_Config_Trace_V3_Tracing.self,
    Envoy_Config_Trace_V3_Tracing.Http.self,
    Envoy_Data_Accesslog_V3_AccessLogCommon.self,
    Envoy_Data_Accesslog_V3_ConnectionProperties.self,
    Envoy_Data_Accesslog_V3_HTTPAccessLogEntry.self,
    Envoy_Data_Accesslog_V3_HTTPRequestProperties.self,
    Envoy_Data_Accesslog_V3_HTTPResponseProperties.self,
    Envoy_Data_Accesslog_V3_ResponseFlags.self,
    Envoy_Data_Accesslog_V3_ResponseFlags.Unauthorized.self,
    Envoy_Data_Accesslog_V3_TCPAccessLogEntry.self,
    Envoy_Data_Accesslog_V3_TLSProperties.self,
    Envoy_Data_Accesslog_V3_TLSProperties.CertificateProperties.self,
    Envoy_Data_Accesslog_V3_TLSProperties.CertificateProperties.SubjectAltName.self,
    Envoy_Extensions_AccessLoggers_File_V3_FileAccessLog.self,
    Envoy_Extensions_AccessLoggers_Stream_V3_StderrAccessLog.self,
    Envoy_Extensions_AccessLoggers_Stream_V3_StdoutAccessLog.self,
    Envoy_Extensions_Common_Ratelimit_V3_LocalClusterRateLimit.self,
    Envoy_Extensions_Common_Ratelimit_V3_LocalRateLimitDescriptor.self,
    Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.self,
    Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.Entry.self,
    Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.RateLimitOverride.self,
    Envoy_Extensions_Filters_Common_Fault_V3_FaultDelay.self,
    Envoy_Extensions_Filters_Common_Fault_V3_FaultDelay.HeaderDelay.self,
    Envoy_Extensions_Filters_Common_Fault_V3_FaultRateLimit.self,
    Envoy_Extensions_Filters_Common_Fault_V3_FaultRateLimit.FixedLimit.self,
    Envoy_Extensions_Filters_Common_Fault_V3_FaultRateLimit.HeaderLimit.self,
    Envoy_Extensions_Filters_Http_Fault_V3_FaultAbort.self,
    Envoy_Extensions_Filters_Http_Fault_V3_FaultAbort.HeaderAbort.self,
    Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault.self,
    Envoy_Extensions_Filters_Http_HealthCheck_V3_HealthCheck.self,
    Envoy_Extensions_Filters_Http_LocalRatelimit_V3_LocalRateLimit.self,
    Envoy_Extensions_Filters_Http_Rbac_V3_RBAC.self,
    Envoy_Extensions_Filters_Http_Rbac_V3_RBACPerRoute.self,
    Envoy_Extensions_Filters_Http_Router_V3_Router.self,
    Envoy_Extensions_Filters_Http_Router_V3_Router.UpstreamAccessLogOptions.self,
    Envoy_Extensions_Filters_Listener_HttpInspector_V3_HttpInspector.self,
    Envoy_Extensions_Filters_Listener_OriginalDst_V3_OriginalDst.self,
    Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_EnvoyMobileHttpConnectionManager.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.ForwardClientCertConfig.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.HcmAccessLogOptions.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.InternalAddressConfig.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.PathNormalizationOptions.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.ProxyStatusConfig.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.SetCurrentClientCertDetails.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.Tracing.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.UpgradeConfig.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_LocalReplyConfig.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_Rds.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_RequestIDExtension.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ResponseMapper.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ScopedRds.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ScopedRouteConfigurationsList.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ScopedRoutes.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ScopedRoutes.ScopeKeyBuilder.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ScopedRoutes.ScopeKeyBuilder.FragmentBuilder.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ScopedRoutes.ScopeKeyBuilder.FragmentBuilder.HeaderValueExtractor.self,
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ScopedRoutes.ScopeKeyBuilder.FragmentBuilder.HeaderValueExtractor.KvElement.self,
    Envoy_Extensions_Filters_Network_Rbac_V3_RBAC.self,
    Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.self,
    Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.OnDemand.self,
    Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.TcpAccessLogOptions.self,
    Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.TunnelingConfig.self,
    Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.WeightedCluster.self,
    Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.WeightedCluster.ClusterWeight.self,
    Envoy_Extensions_Retry_Host_PreviousHosts_V3_PreviousHostsPredicate.self,
    Envoy_Extensions_TransportSockets_RawBuffer_V3_RawBuffer.self,
    Envoy_Extensions_TransportSockets_Tls_V3_CertificateProviderPluginInstance.self,
    Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext.self,
    Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext.SystemRootCerts.self,
    Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext.self,
    Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext.CertificateProvider.self,
    Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext.CertificateProviderInstance.self,
    Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext.CombinedCertificateValidationContext.self,
    Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext.self,
    Envoy_Extensions_TransportSockets_Tls_V3_GenericSecret.self,
    Envoy_Extensions_TransportSockets_Tls_V3_PrivateKeyProvider.self,
    Envoy_Extensions_TransportSockets_Tls_V3_SdsSecretConfig.self,
    Envoy_Extensions_TransportSockets_Tls_V3_Secret.self,
    Envoy_Extensions_TransportSockets_Tls_V3_SubjectAltNameMatcher.self,
    Envoy_Extensions_TransportSockets_Tls_V3_TlsCertificate.self,
    Envoy_Extensions_TransportSockets_Tls_V3_TlsKeyLog.self,
    Envoy_Extensions_TransportSockets_Tls_V3_TlsParameters.self,
    Envoy_Extensions_TransportSockets_Tls_V3_TlsSessionTicketKeys.self,
    Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext.self,
    Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.self,
    Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.AutoHttpConfig.self,
    Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.ExplicitHttpConfig.self,
    Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.OutlierDetection.self,
    Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.UseDownstreamHttpConfig.self,
    Envoy_Extensions_Upstreams_Tcp_V3_TcpProtocolOptions.self,
    Envoy_Service_Discovery_V3_AdsDummy.self,
    Envoy_Service_Discovery_V3_DeltaDiscoveryRequest.self,
    Envoy_Service_Discovery_V3_DeltaDiscoveryResponse.self,
    Envoy_Service_Discovery_V3_DiscoveryRequest.self,
    Envoy_Service_Discovery_V3_DiscoveryResponse.self,
    Envoy_Service_Discovery_V3_DynamicParameterConstraints.self,
    Envoy_Service_Discovery_V3_DynamicParameterConstraints.ConstraintList.self,
    Envoy_Service_Discovery_V3_DynamicParameterConstraints.SingleConstraint.self,
    Envoy_Service_Discovery_V3_DynamicParameterConstraints.SingleConstraint.Exists.self,
    Envoy_Service_Discovery_V3_Resource.self,
    Envoy_Service_Discovery_V3_Resource.CacheControl.self,
    Envoy_Service_Discovery_V3_ResourceError.self,
    Envoy_Service_Discovery_V3_ResourceLocator.self,
    Envoy_Service_Discovery_V3_ResourceName.self,
    Envoy_Type_Http_V3_PathTransformation.self,
    Envoy_Type_Http_V3_PathTransformation.Operation.self,
    Envoy_Type_Http_V3_PathTransformation.Operation.MergeSlashes.self,
    Envoy_Type_Http_V3_PathTransformation.Operation.NormalizePathRFC3986.self,
    Envoy_Type_Matcher_V3_AddressMatcher.self,
    Envoy_Type_Matcher_V3_DoubleMatcher.self,
    Envoy_Type_Matcher_V3_FilterStateMatcher.self,
    Envoy_Type_Matcher_V3_ListMatcher.self,
    Envoy_Type_Matcher_V3_ListStringMatcher.self,
    Envoy_Type_Matcher_V3_MetadataMatcher.self,
    Envoy_Type_Matcher_V3_MetadataMatcher.PathSegment.self,
    Envoy_Type_Matcher_V3_OrMatcher.self,
    Envoy_Type_Matcher_V3_PathMatcher.self,
    Envoy_Type_Matcher_V3_RegexMatchAndSubstitute.self,
    Envoy_Type_Matcher_V3_RegexMatcher.self,
    Envoy_Type_Matcher_V3_RegexMatcher.GoogleRE2.self,
    Envoy_Type_Matcher_V3_StringMatcher.self,
    Envoy_Type_Matcher_V3_ValueMatcher.self,
    Envoy_Type_Matcher_V3_ValueMatcher.NullMatch.self,
    Envoy_Type_Metadata_V3_MetadataKey.self,
    Envoy_Type_Metadata_V3_MetadataKey.PathSegment.self,
    Envoy_Type_Metadata_V3_MetadataKind.self,
    Envoy_Type_Metadata_V3_MetadataKind.Cluster.self,
    Envoy_Type_Metadata_V3_MetadataKind.Host.self,
    Envoy_Type_Metadata_V3_MetadataKind.Request.self,
    Envoy_Type_Metadata_V3_MetadataKind.Route.self,
    Envoy_Type_Tracing_V3_CustomTag.self,
    Envoy_Type_Tracing_V3_CustomTag.Environment.self,
    Envoy_Type_Tracing_V3_CustomTag.Header.self,
    Envoy_Type_Tracing_V3_CustomTag.Literal.self,
    Envoy_Type_Tracing_V3_CustomTag.Metadata.self,
    Envoy_Type_V3_DoubleRange.self,
    Envoy_Type_V3_FractionalPercent.self,
    Envoy_Type_V3_HashPolicy.self,
    Envoy_Type_V3_HashPolicy.FilterState.self,
    Envoy_Type_V3_HashPolicy.SourceIp.self,
    Envoy_Type_V3_HttpStatus.self,
    Envoy_Type_V3_Int32Range.self,
    Envoy_Type_V3_Int64Range.self,
    Envoy_Type_V3_Percent.self,
    Envoy_Type_V3_SemanticVersion.self,
    Envoy_Type_V3_TokenBucket.self,
    Google_Api_Expr_V1alpha1_CheckedExpr.self,
    Google_Api_Expr_V1alpha1_Constant.self,
    Google_Api_Expr_V1alpha1_Decl.self,
    Google_Api_Expr_V1alpha1_Decl.FunctionDecl.self,
    Google_Api_Expr_V1alpha1_Decl.FunctionDecl.Overload.self,
    Google_Api_Expr_V1alpha1_Decl.IdentDecl.self,
    Google_Api_Expr_V1alpha1_Expr.self,
    Google_Api_Expr_V1alpha1_Expr.Call.self,
    Google_Api_Expr_V1alpha1_Expr.Comprehension.self,
    Google_Api_Expr_V1alpha1_Expr.CreateList.self,
    Google_Api_Expr_V1alpha1_Expr.CreateStruct.self,
    Google_Api_Expr_V1alpha1_Expr.CreateStruct.Entry.self,
    Google_Api_Expr_V1alpha1_Expr.Ident.self,
    Google_Api_Expr_V1alpha1_Expr.Select.self,
    Google_Api_Expr_V1alpha1_ParsedExpr.self,
    Google_Api_Expr_V1alpha1_Reference.self,
    Google_Api_Expr_V1alpha1_SourceInfo.self,
    Google_Api_Expr_V1alpha1_SourceInfo.Extension.self,
    Google_Api_Expr_V1alpha1_SourceInfo.Extension.Version.self,
    Google_Api_Expr_V1alpha1_SourcePosition.self,
    Google_Api_Expr_V1alpha1_Type.self,
    Google_Api_Expr_V1alpha1_Type.AbstractType.self,
    Google_Api_Expr_V1alpha1_Type.FunctionType.self,
    Google_Api_Expr_V1alpha1_Type.ListType.self,
    Google_Api_Expr_V1alpha1_Type.MapType.self,
    Google_Rpc_Status.self,
    Udpa_Annotations_FieldMigrateAnnotation.self,
    Udpa_Annotations_FieldSecurityAnnotation.self,
    Udpa_Annotations_FileMigrateAnnotation.self,
    Udpa_Annotations_MigrateAnnotation.self,
    Udpa_Annotations_StatusAnnotation.self,
    Udpa_Annotations_VersioningAnnotation.self,
    Validate_AnyRules.self,
    Validate_BoolRules.self,
    Validate_BytesRules.self,
    Validate_DoubleRules.self,
    Validate_DurationRules.self,
    Validate_EnumRules.self,
    Validate_FieldRules.self,
    Validate_Fixed32Rules.self,
    Validate_Fixed64Rules.self,
    Validate_FloatRules.self,
    Validate_Int32Rules.self,
    Validate_Int64Rules.self,
    Validate_MapRules.self,
    Validate_MessageRules.self,
    Validate_RepeatedRules.self,
    Validate_SFixed32Rules.self,
    Validate_SFixed64Rules.self,
    Validate_SInt32Rules.self,
    Validate_SInt64Rules.self,
    Validate_StringRules.self,
    Validate_TimestampRules.self,
    Validate_UInt32Rules.self,
    Validate_UInt64Rules.self,
    Xds_Annotations_V3_FieldStatusAnnotation.self,
    Xds_Annotations_V3_FileStatusAnnotation.self,
    Xds_Annotations_V3_MessageStatusAnnotation.self,
    Xds_Annotations_V3_StatusAnnotation.self,
    Xds_Core_V3_Authority.self,
    Xds_Core_V3_CidrRange.self,
    Xds_Core_V3_CollectionEntry.self,
    Xds_Core_V3_CollectionEntry.InlineEntry.self,
    Xds_Core_V3_ContextParams.self,
    Xds_Core_V3_ResourceLocator.self,
    Xds_Core_V3_ResourceLocator.Directive.self,
    Xds_Core_V3_TypedExtensionConfig.self,
    Xds_Type_Matcher_V3_ListStringMatcher.self,
    Xds_Type_Matcher_V3_Matcher.self,
    Xds_Type_Matcher_V3_Matcher.MatcherList.self,
    Xds_Type_Matcher_V3_Matcher.MatcherList.FieldMatcher.self,
    Xds_Type_Matcher_V3_Matcher.MatcherList.Predicate.self,
    Xds_Type_Matcher_V3_Matcher.MatcherList.Predicate.PredicateList.self,
    Xds_Type_Matcher_V3_Matcher.MatcherList.Predicate.SinglePredicate.self,
    Xds_Type_Matcher_V3_Matcher.MatcherTree.self,
    Xds_Type_Matcher_V3_Matcher.MatcherTree.MatchMap.self,
    Xds_Type_Matcher_V3_Matcher.OnMatch.self,
    Xds_Type_Matcher_V3_RegexMatcher.self,
    Xds_Type_Matcher_V3_RegexMatcher.GoogleRE2.self,
    Xds_Type_Matcher_V3_StringMatcher.self,
]

/// Field schema of every message and enum in the API closure, one record per line
/// (see scripts/generate-api.py for the format).
public let generatedSchemaText: String = """
M google.protobuf.Any
F type_url typeUrl 1 string s - -
F value value 2 bytes s - -
M google.protobuf.FileDescriptorSet
F file file 1 message r google.protobuf.FileDescriptorProto -
M google.protobuf.FileDescriptorProto
F name name 1 string s - -
F package package 2 string s - -
F dependency dependency 3 string r - -
F public_dependency publicDependency 10 int32 r - -
F weak_dependency weakDependency 11 int32 r - -
F option_dependency optionDependency 15 string r - -
F message_type messageType 4 message r google.protobuf.DescriptorProto -
F enum_type enumType 5 message r google.protobuf.EnumDescriptorProto -
F service service 6 message r google.protobuf.ServiceDescriptorProto -
F extension extension 7 message r google.protobuf.FieldDescriptorProto -
F options options 8 message s google.protobuf.FileOptions -
F source_code_info sourceCodeInfo 9 message s google.protobuf.SourceCodeInfo -
F syntax syntax 12 string s - -
F edition edition 14 enum s google.protobuf.Edition -
M google.protobuf.DescriptorProto
F name name 1 string s - -
F field field 2 message r google.protobuf.FieldDescriptorProto -
F extension extension 6 message r google.protobuf.FieldDescriptorProto -
F nested_type nestedType 3 message r google.protobuf.DescriptorProto -
F enum_type enumType 4 message r google.protobuf.EnumDescriptorProto -
F extension_range extensionRange 5 message r google.protobuf.DescriptorProto.ExtensionRange -
F oneof_decl oneofDecl 8 message r google.protobuf.OneofDescriptorProto -
F options options 7 message s google.protobuf.MessageOptions -
F reserved_range reservedRange 9 message r google.protobuf.DescriptorProto.ReservedRange -
F reserved_name reservedName 10 string r - -
F visibility visibility 11 enum s google.protobuf.SymbolVisibility -
M google.protobuf.DescriptorProto.ExtensionRange
F start start 1 int32 s - -
F end end 2 int32 s - -
F options options 3 message s google.protobuf.ExtensionRangeOptions -
M google.protobuf.DescriptorProto.ReservedRange
F start start 1 int32 s - -
F end end 2 int32 s - -
M google.protobuf.ExtensionRangeOptions
F uninterpreted_option uninterpretedOption 999 message r google.protobuf.UninterpretedOption -
F declaration declaration 2 message r google.protobuf.ExtensionRangeOptions.Declaration -
F features features 50 message s google.protobuf.FeatureSet -
F verification verification 3 enum s google.protobuf.ExtensionRangeOptions.VerificationState -
M google.protobuf.ExtensionRangeOptions.Declaration
F number number 1 int32 s - -
F full_name fullName 2 string s - -
F type type 3 string s - -
F reserved reserved 5 bool s - -
F repeated repeated 6 bool s - -
E google.protobuf.ExtensionRangeOptions.VerificationState DECLARATION=0 UNVERIFIED=1
M google.protobuf.FieldDescriptorProto
F name name 1 string s - -
F number number 3 int32 s - -
F label label 4 enum s google.protobuf.FieldDescriptorProto.Label -
F type type 5 enum s google.protobuf.FieldDescriptorProto.Type -
F type_name typeName 6 string s - -
F extendee extendee 2 string s - -
F default_value defaultValue 7 string s - -
F oneof_index oneofIndex 9 int32 s - -
F json_name jsonName 10 string s - -
F options options 8 message s google.protobuf.FieldOptions -
F proto3_optional proto3Optional 17 bool s - -
E google.protobuf.FieldDescriptorProto.Type TYPE_DOUBLE=1 TYPE_FLOAT=2 TYPE_INT64=3 TYPE_UINT64=4 TYPE_INT32=5 TYPE_FIXED64=6 TYPE_FIXED32=7 TYPE_BOOL=8 TYPE_STRING=9 TYPE_GROUP=10 TYPE_MESSAGE=11 TYPE_BYTES=12 TYPE_UINT32=13 TYPE_ENUM=14 TYPE_SFIXED32=15 TYPE_SFIXED64=16 TYPE_SINT32=17 TYPE_SINT64=18
E google.protobuf.FieldDescriptorProto.Label LABEL_OPTIONAL=1 LABEL_REPEATED=3 LABEL_REQUIRED=2
M google.protobuf.OneofDescriptorProto
F name name 1 string s - -
F options options 2 message s google.protobuf.OneofOptions -
M google.protobuf.EnumDescriptorProto
F name name 1 string s - -
F value value 2 message r google.protobuf.EnumValueDescriptorProto -
F options options 3 message s google.protobuf.EnumOptions -
F reserved_range reservedRange 4 message r google.protobuf.EnumDescriptorProto.EnumReservedRange -
F reserved_name reservedName 5 string r - -
F visibility visibility 6 enum s google.protobuf.SymbolVisibility -
M google.protobuf.EnumDescriptorProto.EnumReservedRange
F start start 1 int32 s - -
F end end 2 int32 s - -
M google.protobuf.EnumValueDescriptorProto
F name name 1 string s - -
F number number 2 int32 s - -
F options options 3 message s google.protobuf.EnumValueOptions -
M google.protobuf.ServiceDescriptorProto
F name name 1 string s - -
F method method 2 message r google.protobuf.MethodDescriptorProto -
F options options 3 message s google.protobuf.ServiceOptions -
M google.protobuf.MethodDescriptorProto
F name name 1 string s - -
F input_type inputType 2 string s - -
F output_type outputType 3 string s - -
F options options 4 message s google.protobuf.MethodOptions -
F client_streaming clientStreaming 5 bool s - -
F server_streaming serverStreaming 6 bool s - -
M google.protobuf.FileOptions
F java_package javaPackage 1 string s - -
F java_outer_classname javaOuterClassname 8 string s - -
F java_multiple_files javaMultipleFiles 10 bool s - -
F java_generate_equals_and_hash javaGenerateEqualsAndHash 20 bool s - - deprecated
F java_string_check_utf8 javaStringCheckUtf8 27 bool s - -
F optimize_for optimizeFor 9 enum s google.protobuf.FileOptions.OptimizeMode -
F go_package goPackage 11 string s - -
F cc_generic_services ccGenericServices 16 bool s - -
F java_generic_services javaGenericServices 17 bool s - -
F py_generic_services pyGenericServices 18 bool s - -
F deprecated deprecated 23 bool s - -
F cc_enable_arenas ccEnableArenas 31 bool s - -
F objc_class_prefix objcClassPrefix 36 string s - -
F csharp_namespace csharpNamespace 37 string s - -
F swift_prefix swiftPrefix 39 string s - -
F php_class_prefix phpClassPrefix 40 string s - -
F php_namespace phpNamespace 41 string s - -
F php_metadata_namespace phpMetadataNamespace 44 string s - -
F ruby_package rubyPackage 45 string s - -
F features features 50 message s google.protobuf.FeatureSet -
F uninterpreted_option uninterpretedOption 999 message r google.protobuf.UninterpretedOption -
E google.protobuf.FileOptions.OptimizeMode SPEED=1 CODE_SIZE=2 LITE_RUNTIME=3
M google.protobuf.MessageOptions
F message_set_wire_format messageSetWireFormat 1 bool s - -
F no_standard_descriptor_accessor noStandardDescriptorAccessor 2 bool s - -
F deprecated deprecated 3 bool s - -
F map_entry mapEntry 7 bool s - -
F deprecated_legacy_json_field_conflicts deprecatedLegacyJsonFieldConflicts 11 bool s - - deprecated
F features features 12 message s google.protobuf.FeatureSet -
F uninterpreted_option uninterpretedOption 999 message r google.protobuf.UninterpretedOption -
M google.protobuf.FieldOptions
F ctype ctype 1 enum s google.protobuf.FieldOptions.CType -
F packed packed 2 bool s - -
F jstype jstype 6 enum s google.protobuf.FieldOptions.JSType -
F lazy lazy 5 bool s - -
F unverified_lazy unverifiedLazy 15 bool s - -
F deprecated deprecated 3 bool s - -
F weak weak 10 bool s - - deprecated
F debug_redact debugRedact 16 bool s - -
F retention retention 17 enum s google.protobuf.FieldOptions.OptionRetention -
F targets targets 19 enum r google.protobuf.FieldOptions.OptionTargetType -
F edition_defaults editionDefaults 20 message r google.protobuf.FieldOptions.EditionDefault -
F features features 21 message s google.protobuf.FeatureSet -
F feature_support featureSupport 22 message s google.protobuf.FieldOptions.FeatureSupport -
F uninterpreted_option uninterpretedOption 999 message r google.protobuf.UninterpretedOption -
M google.protobuf.FieldOptions.EditionDefault
F edition edition 3 enum s google.protobuf.Edition -
F value value 2 string s - -
M google.protobuf.FieldOptions.FeatureSupport
F edition_introduced editionIntroduced 1 enum s google.protobuf.Edition -
F edition_deprecated editionDeprecated 2 enum s google.protobuf.Edition -
F deprecation_warning deprecationWarning 3 string s - -
F edition_removed editionRemoved 4 enum s google.protobuf.Edition -
F removal_error removalError 5 string s - -
E google.protobuf.FieldOptions.CType STRING=0 CORD=1 STRING_PIECE=2
E google.protobuf.FieldOptions.JSType JS_NORMAL=0 JS_STRING=1 JS_NUMBER=2
E google.protobuf.FieldOptions.OptionRetention RETENTION_UNKNOWN=0 RETENTION_RUNTIME=1 RETENTION_SOURCE=2
E google.protobuf.FieldOptions.OptionTargetType TARGET_TYPE_UNKNOWN=0 TARGET_TYPE_FILE=1 TARGET_TYPE_EXTENSION_RANGE=2 TARGET_TYPE_MESSAGE=3 TARGET_TYPE_FIELD=4 TARGET_TYPE_ONEOF=5 TARGET_TYPE_ENUM=6 TARGET_TYPE_ENUM_ENTRY=7 TARGET_TYPE_SERVICE=8 TARGET_TYPE_METHOD=9
M google.protobuf.OneofOptions
F features features 1 message s google.protobuf.FeatureSet -
F uninterpreted_option uninterpretedOption 999 message r google.protobuf.UninterpretedOption -
M google.protobuf.EnumOptions
F allow_alias allowAlias 2 bool s - -
F deprecated deprecated 3 bool s - -
F deprecated_legacy_json_field_conflicts deprecatedLegacyJsonFieldConflicts 6 bool s - - deprecated
F features features 7 message s google.protobuf.FeatureSet -
F uninterpreted_option uninterpretedOption 999 message r google.protobuf.UninterpretedOption -
M google.protobuf.EnumValueOptions
F deprecated deprecated 1 bool s - -
F features features 2 message s google.protobuf.FeatureSet -
F debug_redact debugRedact 3 bool s - -
F feature_support featureSupport 4 message s google.protobuf.FieldOptions.FeatureSupport -
F uninterpreted_option uninterpretedOption 999 message r google.protobuf.UninterpretedOption -
M google.protobuf.ServiceOptions
F features features 34 message s google.protobuf.FeatureSet -
F deprecated deprecated 33 bool s - -
F uninterpreted_option uninterpretedOption 999 message r google.protobuf.UninterpretedOption -
M google.protobuf.MethodOptions
F deprecated deprecated 33 bool s - -
F idempotency_level idempotencyLevel 34 enum s google.protobuf.MethodOptions.IdempotencyLevel -
F features features 35 message s google.protobuf.FeatureSet -
F uninterpreted_option uninterpretedOption 999 message r google.protobuf.UninterpretedOption -
E google.protobuf.MethodOptions.IdempotencyLevel IDEMPOTENCY_UNKNOWN=0 NO_SIDE_EFFECTS=1 IDEMPOTENT=2
M google.protobuf.UninterpretedOption
F name name 2 message r google.protobuf.UninterpretedOption.NamePart -
F identifier_value identifierValue 3 string s - -
F positive_int_value positiveIntValue 4 uint64 s - -
F negative_int_value negativeIntValue 5 int64 s - -
F double_value doubleValue 6 double s - -
F string_value stringValue 7 bytes s - -
F aggregate_value aggregateValue 8 string s - -
M google.protobuf.UninterpretedOption.NamePart
F name_part namePart 1 string s - -
F is_extension isExtension 2 bool s - -
M google.protobuf.FeatureSet
F field_presence fieldPresence 1 enum s google.protobuf.FeatureSet.FieldPresence -
F enum_type enumType 2 enum s google.protobuf.FeatureSet.EnumType -
F repeated_field_encoding repeatedFieldEncoding 3 enum s google.protobuf.FeatureSet.RepeatedFieldEncoding -
F utf8_validation utf8Validation 4 enum s google.protobuf.FeatureSet.Utf8Validation -
F message_encoding messageEncoding 5 enum s google.protobuf.FeatureSet.MessageEncoding -
F json_format jsonFormat 6 enum s google.protobuf.FeatureSet.JsonFormat -
F enforce_naming_style enforceNamingStyle 7 enum s google.protobuf.FeatureSet.EnforceNamingStyle -
F default_symbol_visibility defaultSymbolVisibility 8 enum s google.protobuf.FeatureSet.VisibilityFeature.DefaultSymbolVisibility -
F enforce_proto_limits enforceProtoLimits 9 enum s google.protobuf.FeatureSet.ProtoLimitsFeature.EnforceProtoLimits -
M google.protobuf.FeatureSet.VisibilityFeature
E google.protobuf.FeatureSet.VisibilityFeature.DefaultSymbolVisibility DEFAULT_SYMBOL_VISIBILITY_UNKNOWN=0 EXPORT_ALL=1 EXPORT_TOP_LEVEL=2 LOCAL_ALL=3 STRICT=4
M google.protobuf.FeatureSet.ProtoLimitsFeature
E google.protobuf.FeatureSet.ProtoLimitsFeature.EnforceProtoLimits PROTO_LIMITS_UNKNOWN=0 LEGACY_NO_EXPLICIT_LIMITS=1 PROTO_LIMITS2026=2
E google.protobuf.FeatureSet.FieldPresence FIELD_PRESENCE_UNKNOWN=0 EXPLICIT=1 IMPLICIT=2 LEGACY_REQUIRED=3
E google.protobuf.FeatureSet.EnumType ENUM_TYPE_UNKNOWN=0 OPEN=1 CLOSED=2
E google.protobuf.FeatureSet.RepeatedFieldEncoding REPEATED_FIELD_ENCODING_UNKNOWN=0 PACKED=1 EXPANDED=2
E google.protobuf.FeatureSet.Utf8Validation UTF8_VALIDATION_UNKNOWN=0 VERIFY=2 NONE=3
E google.protobuf.FeatureSet.MessageEncoding MESSAGE_ENCODING_UNKNOWN=0 LENGTH_PREFIXED=1 DELIMITED=2
E google.protobuf.FeatureSet.JsonFormat JSON_FORMAT_UNKNOWN=0 ALLOW=1 LEGACY_BEST_EFFORT=2
E google.protobuf.FeatureSet.EnforceNamingStyle ENFORCE_NAMING_STYLE_UNKNOWN=0 STYLE2024=1 STYLE_LEGACY=2 STYLE2026=3
M google.protobuf.FeatureSetDefaults
F defaults defaults 1 message r google.protobuf.FeatureSetDefaults.FeatureSetEditionDefault -
F minimum_edition minimumEdition 4 enum s google.protobuf.Edition -
F maximum_edition maximumEdition 5 enum s google.protobuf.Edition -
M google.protobuf.FeatureSetDefaults.FeatureSetEditionDefault
F edition edition 3 enum s google.protobuf.Edition -
F overridable_features overridableFeatures 4 message s google.protobuf.FeatureSet -
F fixed_features fixedFeatures 5 message s google.protobuf.FeatureSet -
M google.protobuf.SourceCodeInfo
F location location 1 message r google.protobuf.SourceCodeInfo.Location -
M google.protobuf.SourceCodeInfo.Location
F path path 1 int32 r - -
F span span 2 int32 r - -
F leading_comments leadingComments 3 string s - -
F trailing_comments trailingComments 4 string s - -
F leading_detached_comments leadingDetachedComments 6 string r - -
M google.protobuf.GeneratedCodeInfo
F annotation annotation 1 message r google.protobuf.GeneratedCodeInfo.Annotation -
M google.protobuf.GeneratedCodeInfo.Annotation
F path path 1 int32 r - -
F source_file sourceFile 2 string s - -
F begin begin 3 int32 s - -
F end end 4 int32 s - -
F semantic semantic 5 enum s google.protobuf.GeneratedCodeInfo.Annotation.Semantic -
E google.protobuf.GeneratedCodeInfo.Annotation.Semantic NONE=0 SET=1 ALIAS=2
E google.protobuf.Edition EDITION_UNKNOWN=0 EDITION_LEGACY=900 EDITION_PROTO2=998 EDITION_PROTO3=999 EDITION_2023=1000 EDITION_2024=1001 EDITION_2026=1002 EDITION_UNSTABLE=9999 EDITION_1_TEST_ONLY=1 EDITION_2_TEST_ONLY=2 EDITION_99997_TEST_ONLY=99997 EDITION_99998_TEST_ONLY=99998 EDITION_99999_TEST_ONLY=99999 EDITION_MAX=2147483647
E google.protobuf.SymbolVisibility VISIBILITY_UNSET=0 VISIBILITY_LOCAL=1 VISIBILITY_EXPORT=2
M udpa.annotations.StatusAnnotation
F work_in_progress workInProgress 1 bool s - -
F package_version_status packageVersionStatus 2 enum s udpa.annotations.PackageVersionStatus -
E udpa.annotations.PackageVersionStatus UNKNOWN=0 FROZEN=1 ACTIVE=2 NEXT_MAJOR_VERSION_CANDIDATE=3
M google.protobuf.Duration
F seconds seconds 1 int64 s - -
F nanos nanos 2 int32 s - -
M google.protobuf.Timestamp
F seconds seconds 1 int64 s - -
F nanos nanos 2 int32 s - -
M validate.FieldRules
F message message 17 message s validate.MessageRules -
F float float 1 message s validate.FloatRules type
F double double 2 message s validate.DoubleRules type
F int32 int32 3 message s validate.Int32Rules type
F int64 int64 4 message s validate.Int64Rules type
F uint32 uint32 5 message s validate.UInt32Rules type
F uint64 uint64 6 message s validate.UInt64Rules type
F sint32 sint32 7 message s validate.SInt32Rules type
F sint64 sint64 8 message s validate.SInt64Rules type
F fixed32 fixed32 9 message s validate.Fixed32Rules type
F fixed64 fixed64 10 message s validate.Fixed64Rules type
F sfixed32 sfixed32 11 message s validate.SFixed32Rules type
F sfixed64 sfixed64 12 message s validate.SFixed64Rules type
F bool bool 13 message s validate.BoolRules type
F string string 14 message s validate.StringRules type
F bytes bytes 15 message s validate.BytesRules type
F enum enum 16 message s validate.EnumRules type
F repeated repeated 18 message s validate.RepeatedRules type
F map map 19 message s validate.MapRules type
F any any 20 message s validate.AnyRules type
F duration duration 21 message s validate.DurationRules type
F timestamp timestamp 22 message s validate.TimestampRules type
M validate.FloatRules
F const const 1 float s - -
F lt lt 2 float s - -
F lte lte 3 float s - -
F gt gt 4 float s - -
F gte gte 5 float s - -
F in in 6 float r - -
F not_in notIn 7 float r - -
F ignore_empty ignoreEmpty 8 bool s - -
M validate.DoubleRules
F const const 1 double s - -
F lt lt 2 double s - -
F lte lte 3 double s - -
F gt gt 4 double s - -
F gte gte 5 double s - -
F in in 6 double r - -
F not_in notIn 7 double r - -
F ignore_empty ignoreEmpty 8 bool s - -
M validate.Int32Rules
F const const 1 int32 s - -
F lt lt 2 int32 s - -
F lte lte 3 int32 s - -
F gt gt 4 int32 s - -
F gte gte 5 int32 s - -
F in in 6 int32 r - -
F not_in notIn 7 int32 r - -
F ignore_empty ignoreEmpty 8 bool s - -
M validate.Int64Rules
F const const 1 int64 s - -
F lt lt 2 int64 s - -
F lte lte 3 int64 s - -
F gt gt 4 int64 s - -
F gte gte 5 int64 s - -
F in in 6 int64 r - -
F not_in notIn 7 int64 r - -
F ignore_empty ignoreEmpty 8 bool s - -
M validate.UInt32Rules
F const const 1 uint32 s - -
F lt lt 2 uint32 s - -
F lte lte 3 uint32 s - -
F gt gt 4 uint32 s - -
F gte gte 5 uint32 s - -
F in in 6 uint32 r - -
F not_in notIn 7 uint32 r - -
F ignore_empty ignoreEmpty 8 bool s - -
M validate.UInt64Rules
F const const 1 uint64 s - -
F lt lt 2 uint64 s - -
F lte lte 3 uint64 s - -
F gt gt 4 uint64 s - -
F gte gte 5 uint64 s - -
F in in 6 uint64 r - -
F not_in notIn 7 uint64 r - -
F ignore_empty ignoreEmpty 8 bool s - -
M validate.SInt32Rules
F const const 1 sint32 s - -
F lt lt 2 sint32 s - -
F lte lte 3 sint32 s - -
F gt gt 4 sint32 s - -
F gte gte 5 sint32 s - -
F in in 6 sint32 r - -
F not_in notIn 7 sint32 r - -
F ignore_empty ignoreEmpty 8 bool s - -
M validate.SInt64Rules
F const const 1 sint64 s - -
F lt lt 2 sint64 s - -
F lte lte 3 sint64 s - -
F gt gt 4 sint64 s - -
F gte gte 5 sint64 s - -
F in in 6 sint64 r - -
F not_in notIn 7 sint64 r - -
F ignore_empty ignoreEmpty 8 bool s - -
M validate.Fixed32Rules
F const const 1 fixed32 s - -
F lt lt 2 fixed32 s - -
F lte lte 3 fixed32 s - -
F gt gt 4 fixed32 s - -
F gte gte 5 fixed32 s - -
F in in 6 fixed32 r - -
F not_in notIn 7 fixed32 r - -
F ignore_empty ignoreEmpty 8 bool s - -
M validate.Fixed64Rules
F const const 1 fixed64 s - -
F lt lt 2 fixed64 s - -
F lte lte 3 fixed64 s - -
F gt gt 4 fixed64 s - -
F gte gte 5 fixed64 s - -
F in in 6 fixed64 r - -
F not_in notIn 7 fixed64 r - -
F ignore_empty ignoreEmpty 8 bool s - -
M validate.SFixed32Rules
F const const 1 sfixed32 s - -
F lt lt 2 sfixed32 s - -
F lte lte 3 sfixed32 s - -
F gt gt 4 sfixed32 s - -
F gte gte 5 sfixed32 s - -
F in in 6 sfixed32 r - -
F not_in notIn 7 sfixed32 r - -
F ignore_empty ignoreEmpty 8 bool s - -
M validate.SFixed64Rules
F const const 1 sfixed64 s - -
F lt lt 2 sfixed64 s - -
F lte lte 3 sfixed64 s - -
F gt gt 4 sfixed64 s - -
F gte gte 5 sfixed64 s - -
F in in 6 sfixed64 r - -
F not_in notIn 7 sfixed64 r - -
F ignore_empty ignoreEmpty 8 bool s - -
M validate.BoolRules
F const const 1 bool s - -
M validate.StringRules
F const const 1 string s - -
F len len 19 uint64 s - -
F min_len minLen 2 uint64 s - -
F max_len maxLen 3 uint64 s - -
F len_bytes lenBytes 20 uint64 s - -
F min_bytes minBytes 4 uint64 s - -
F max_bytes maxBytes 5 uint64 s - -
F pattern pattern 6 string s - -
F prefix prefix 7 string s - -
F suffix suffix 8 string s - -
F contains contains 9 string s - -
F not_contains notContains 23 string s - -
F in in 10 string r - -
F not_in notIn 11 string r - -
F email email 12 bool s - well_known
F hostname hostname 13 bool s - well_known
F ip ip 14 bool s - well_known
F ipv4 ipv4 15 bool s - well_known
F ipv6 ipv6 16 bool s - well_known
F uri uri 17 bool s - well_known
F uri_ref uriRef 18 bool s - well_known
F address address 21 bool s - well_known
F uuid uuid 22 bool s - well_known
F well_known_regex wellKnownRegex 24 enum s validate.KnownRegex well_known
F strict strict 25 bool s - -
F ignore_empty ignoreEmpty 26 bool s - -
M validate.BytesRules
F const const 1 bytes s - -
F len len 13 uint64 s - -
F min_len minLen 2 uint64 s - -
F max_len maxLen 3 uint64 s - -
F pattern pattern 4 string s - -
F prefix prefix 5 bytes s - -
F suffix suffix 6 bytes s - -
F contains contains 7 bytes s - -
F in in 8 bytes r - -
F not_in notIn 9 bytes r - -
F ip ip 10 bool s - well_known
F ipv4 ipv4 11 bool s - well_known
F ipv6 ipv6 12 bool s - well_known
F ignore_empty ignoreEmpty 14 bool s - -
M validate.EnumRules
F const const 1 int32 s - -
F defined_only definedOnly 2 bool s - -
F in in 3 int32 r - -
F not_in notIn 4 int32 r - -
M validate.MessageRules
F skip skip 1 bool s - -
F required required 2 bool s - -
M validate.RepeatedRules
F min_items minItems 1 uint64 s - -
F max_items maxItems 2 uint64 s - -
F unique unique 3 bool s - -
F items items 4 message s validate.FieldRules -
F ignore_empty ignoreEmpty 5 bool s - -
M validate.MapRules
F min_pairs minPairs 1 uint64 s - -
F max_pairs maxPairs 2 uint64 s - -
F no_sparse noSparse 3 bool s - -
F keys keys 4 message s validate.FieldRules -
F values values 5 message s validate.FieldRules -
F ignore_empty ignoreEmpty 6 bool s - -
M validate.AnyRules
F required required 1 bool s - -
F in in 2 string r - -
F not_in notIn 3 string r - -
M validate.DurationRules
F required required 1 bool s - -
F const const 2 message s google.protobuf.Duration -
F lt lt 3 message s google.protobuf.Duration -
F lte lte 4 message s google.protobuf.Duration -
F gt gt 5 message s google.protobuf.Duration -
F gte gte 6 message s google.protobuf.Duration -
F in in 7 message r google.protobuf.Duration -
F not_in notIn 8 message r google.protobuf.Duration -
M validate.TimestampRules
F required required 1 bool s - -
F const const 2 message s google.protobuf.Timestamp -
F lt lt 3 message s google.protobuf.Timestamp -
F lte lte 4 message s google.protobuf.Timestamp -
F gt gt 5 message s google.protobuf.Timestamp -
F gte gte 6 message s google.protobuf.Timestamp -
F lt_now ltNow 7 bool s - -
F gt_now gtNow 8 bool s - -
F within within 9 message s google.protobuf.Duration -
E validate.KnownRegex UNKNOWN=0 HTTP_HEADER_NAME=1 HTTP_HEADER_VALUE=2
M envoy.config.core.v3.TypedExtensionConfig
F name name 1 string s - -
F typed_config typedConfig 2 message s google.protobuf.Any -
M udpa.annotations.VersioningAnnotation
F previous_message_type previousMessageType 1 string s - -
M envoy.config.core.v3.SocketOption
F description description 1 string s - -
F level level 2 int64 s - -
F name name 3 int64 s - -
F int_value intValue 4 int64 s - value
F buf_value bufValue 5 bytes s - value
F state state 6 enum s envoy.config.core.v3.SocketOption.SocketState -
F type type 7 message s envoy.config.core.v3.SocketOption.SocketType -
M envoy.config.core.v3.SocketOption.SocketType
F stream stream 1 message s envoy.config.core.v3.SocketOption.SocketType.Stream -
F datagram datagram 2 message s envoy.config.core.v3.SocketOption.SocketType.Datagram -
M envoy.config.core.v3.SocketOption.SocketType.Stream
M envoy.config.core.v3.SocketOption.SocketType.Datagram
E envoy.config.core.v3.SocketOption.SocketState STATE_PREBIND=0 STATE_BOUND=1 STATE_LISTENING=2
M envoy.config.core.v3.SocketOptionsOverride
F socket_options socketOptions 1 message r envoy.config.core.v3.SocketOption -
M google.protobuf.DoubleValue
F value value 1 double s - -
M google.protobuf.FloatValue
F value value 1 float s - -
M google.protobuf.Int64Value
F value value 1 int64 s - -
M google.protobuf.UInt64Value
F value value 1 uint64 s - -
M google.protobuf.Int32Value
F value value 1 int32 s - -
M google.protobuf.UInt32Value
F value value 1 uint32 s - -
M google.protobuf.BoolValue
F value value 1 bool s - -
M google.protobuf.StringValue
F value value 1 string s - -
M google.protobuf.BytesValue
F value value 1 bytes s - -
M envoy.config.core.v3.Pipe
F path path 1 string s - -
F mode mode 2 uint32 s - -
M envoy.config.core.v3.EnvoyInternalAddress
F server_listener_name serverListenerName 1 string s - address_name_specifier
F endpoint_id endpointId 2 string s - -
M envoy.config.core.v3.SocketAddress
F protocol protocol 1 enum s envoy.config.core.v3.SocketAddress.Protocol -
F address address 2 string s - -
F port_value portValue 3 uint32 s - port_specifier
F named_port namedPort 4 string s - port_specifier
F resolver_name resolverName 5 string s - -
F ipv4_compat ipv4Compat 6 bool s - -
F network_namespace_filepath networkNamespaceFilepath 7 string s - -
E envoy.config.core.v3.SocketAddress.Protocol TCP=0 UDP=1
M envoy.config.core.v3.TcpKeepalive
F keepalive_probes keepaliveProbes 1 message s google.protobuf.UInt32Value -
F keepalive_time keepaliveTime 2 message s google.protobuf.UInt32Value -
F keepalive_interval keepaliveInterval 3 message s google.protobuf.UInt32Value -
M envoy.config.core.v3.ExtraSourceAddress
F address address 1 message s envoy.config.core.v3.SocketAddress -
F socket_options socketOptions 2 message s envoy.config.core.v3.SocketOptionsOverride -
M envoy.config.core.v3.BindConfig
F source_address sourceAddress 1 message s envoy.config.core.v3.SocketAddress -
F freebind freebind 2 message s google.protobuf.BoolValue -
F socket_options socketOptions 3 message r envoy.config.core.v3.SocketOption -
F extra_source_addresses extraSourceAddresses 5 message r envoy.config.core.v3.ExtraSourceAddress -
F additional_source_addresses additionalSourceAddresses 4 message r envoy.config.core.v3.SocketAddress - deprecated
F local_address_selector localAddressSelector 6 message s envoy.config.core.v3.TypedExtensionConfig -
M envoy.config.core.v3.Address
F socket_address socketAddress 1 message s envoy.config.core.v3.SocketAddress address
F pipe pipe 2 message s envoy.config.core.v3.Pipe address
F envoy_internal_address envoyInternalAddress 3 message s envoy.config.core.v3.EnvoyInternalAddress address
M envoy.config.core.v3.CidrRange
F address_prefix addressPrefix 1 string s - -
F prefix_len prefixLen 2 message s google.protobuf.UInt32Value -
M envoy.config.core.v3.BackoffStrategy
F base_interval baseInterval 1 message s google.protobuf.Duration -
F max_interval maxInterval 2 message s google.protobuf.Duration -
M envoy.config.core.v3.HttpUri
F uri uri 1 string s - -
F cluster cluster 2 string s - http_upstream_type
F timeout timeout 3 message s google.protobuf.Duration -
M envoy.type.v3.Percent
F value value 1 double s - -
M envoy.type.v3.FractionalPercent
F numerator numerator 1 uint32 s - -
F denominator denominator 2 enum s envoy.type.v3.FractionalPercent.DenominatorType -
E envoy.type.v3.FractionalPercent.DenominatorType HUNDRED=0 TEN_THOUSAND=1 MILLION=2
M envoy.type.v3.SemanticVersion
F major_number majorNumber 1 uint32 s - -
F minor_number minorNumber 2 uint32 s - -
F patch patch 3 uint32 s - -
M google.protobuf.Struct
F fields fields 1 message r google.protobuf.Struct.FieldsEntry -
M google.protobuf.Struct.FieldsEntry map
F key key 1 string s - -
F value value 2 message s google.protobuf.Value -
M google.protobuf.Value
F null_value nullValue 1 enum s google.protobuf.NullValue kind
F number_value numberValue 2 double s - kind
F string_value stringValue 3 string s - kind
F bool_value boolValue 4 bool s - kind
F struct_value structValue 5 message s google.protobuf.Struct kind
F list_value listValue 6 message s google.protobuf.ListValue kind
M google.protobuf.ListValue
F values values 1 message r google.protobuf.Value -
E google.protobuf.NullValue NULL_VALUE=0
M xds.annotations.v3.FileStatusAnnotation
F work_in_progress workInProgress 1 bool s - -
M xds.annotations.v3.MessageStatusAnnotation
F work_in_progress workInProgress 1 bool s - -
M xds.annotations.v3.FieldStatusAnnotation
F work_in_progress workInProgress 1 bool s - -
M xds.annotations.v3.StatusAnnotation
F work_in_progress workInProgress 1 bool s - -
F package_version_status packageVersionStatus 2 enum s xds.annotations.v3.PackageVersionStatus -
E xds.annotations.v3.PackageVersionStatus UNKNOWN=0 FROZEN=1 ACTIVE=2 NEXT_MAJOR_VERSION_CANDIDATE=3
M xds.core.v3.ContextParams
F params params 1 message r xds.core.v3.ContextParams.ParamsEntry -
M xds.core.v3.ContextParams.ParamsEntry map
F key key 1 string s - -
F value value 2 string s - -
M udpa.annotations.MigrateAnnotation
F rename rename 1 string s - -
M udpa.annotations.FieldMigrateAnnotation
F rename rename 1 string s - -
F oneof_promotion oneofPromotion 2 string s - -
M udpa.annotations.FileMigrateAnnotation
F move_to_package moveToPackage 2 string s - -
M envoy.config.core.v3.Locality
F region region 1 string s - -
F zone zone 2 string s - -
F sub_zone subZone 3 string s - -
M envoy.config.core.v3.BuildVersion
F version version 1 message s envoy.type.v3.SemanticVersion -
F metadata metadata 2 message s google.protobuf.Struct -
M envoy.config.core.v3.Extension
F name name 1 string s - -
F category category 2 string s - -
F type_descriptor typeDescriptor 3 string s - - deprecated
F version version 4 message s envoy.config.core.v3.BuildVersion -
F disabled disabled 5 bool s - -
F type_urls typeUrls 6 string r - -
M envoy.config.core.v3.Node
F id id 1 string s - -
F cluster cluster 2 string s - -
F metadata metadata 3 message s google.protobuf.Struct -
F dynamic_parameters dynamicParameters 12 message r envoy.config.core.v3.Node.DynamicParametersEntry -
F locality locality 4 message s envoy.config.core.v3.Locality -
F user_agent_name userAgentName 6 string s - -
F user_agent_version userAgentVersion 7 string s - user_agent_version_type
F user_agent_build_version userAgentBuildVersion 8 message s envoy.config.core.v3.BuildVersion user_agent_version_type
F extensions extensions 9 message r envoy.config.core.v3.Extension -
F client_features clientFeatures 10 string r - -
F listening_addresses listeningAddresses 11 message r envoy.config.core.v3.Address - deprecated
M envoy.config.core.v3.Node.DynamicParametersEntry map
F key key 1 string s - -
F value value 2 message s xds.core.v3.ContextParams -
M envoy.config.core.v3.Metadata
F filter_metadata filterMetadata 1 message r envoy.config.core.v3.Metadata.FilterMetadataEntry -
F typed_filter_metadata typedFilterMetadata 2 message r envoy.config.core.v3.Metadata.TypedFilterMetadataEntry -
M envoy.config.core.v3.Metadata.FilterMetadataEntry map
F key key 1 string s - -
F value value 2 message s google.protobuf.Struct -
M envoy.config.core.v3.Metadata.TypedFilterMetadataEntry map
F key key 1 string s - -
F value value 2 message s google.protobuf.Any -
M envoy.config.core.v3.RuntimeUInt32
F default_value defaultValue 2 uint32 s - -
F runtime_key runtimeKey 3 string s - -
M envoy.config.core.v3.RuntimePercent
F default_value defaultValue 1 message s envoy.type.v3.Percent -
F runtime_key runtimeKey 2 string s - -
M envoy.config.core.v3.RuntimeDouble
F default_value defaultValue 1 double s - -
F runtime_key runtimeKey 2 string s - -
M envoy.config.core.v3.RuntimeFeatureFlag
F default_value defaultValue 1 message s google.protobuf.BoolValue -
F runtime_key runtimeKey 2 string s - -
M envoy.config.core.v3.KeyValue
F key key 1 string s - - deprecated
F value value 2 bytes s - - deprecated
M envoy.config.core.v3.KeyValuePair
F key key 1 string s - -
F value value 2 message s google.protobuf.Value -
M envoy.config.core.v3.KeyValueAppend
F record record 3 message s envoy.config.core.v3.KeyValuePair -
F entry entry 1 message s envoy.config.core.v3.KeyValue - deprecated
F action action 2 enum s envoy.config.core.v3.KeyValueAppend.KeyValueAppendAction -
E envoy.config.core.v3.KeyValueAppend.KeyValueAppendAction APPEND_IF_EXISTS_OR_ADD=0 ADD_IF_ABSENT=1 OVERWRITE_IF_EXISTS_OR_ADD=2 OVERWRITE_IF_EXISTS=3
M envoy.config.core.v3.KeyValueMutation
F append append 1 message s envoy.config.core.v3.KeyValueAppend -
F remove remove 2 string s - -
M envoy.config.core.v3.QueryParameter
F key key 1 string s - -
F value value 2 string s - -
M envoy.config.core.v3.HeaderValue
F key key 1 string s - -
F value value 2 string s - -
F raw_value rawValue 3 bytes s - -
M envoy.config.core.v3.HeaderValueOption
F header header 1 message s envoy.config.core.v3.HeaderValue -
F append append 2 message s google.protobuf.BoolValue - deprecated
F append_action appendAction 3 enum s envoy.config.core.v3.HeaderValueOption.HeaderAppendAction -
F keep_empty_value keepEmptyValue 4 bool s - -
E envoy.config.core.v3.HeaderValueOption.HeaderAppendAction APPEND_IF_EXISTS_OR_ADD=0 ADD_IF_ABSENT=1 OVERWRITE_IF_EXISTS_OR_ADD=2 OVERWRITE_IF_EXISTS=3
M envoy.config.core.v3.HeaderMap
F headers headers 1 message r envoy.config.core.v3.HeaderValue -
M envoy.config.core.v3.WatchedDirectory
F path path 1 string s - -
M envoy.config.core.v3.DataSource
F filename filename 1 string s - specifier
F inline_bytes inlineBytes 2 bytes s - specifier
F inline_string inlineString 3 string s - specifier
F environment_variable environmentVariable 4 string s - specifier
F watched_directory watchedDirectory 5 message s envoy.config.core.v3.WatchedDirectory -
M envoy.config.core.v3.RetryPolicy
F retry_back_off retryBackOff 1 message s envoy.config.core.v3.BackoffStrategy -
F num_retries numRetries 2 message s google.protobuf.UInt32Value -
F retry_on retryOn 3 string s - -
F retry_priority retryPriority 4 message s envoy.config.core.v3.RetryPolicy.RetryPriority -
F retry_host_predicate retryHostPredicate 5 message r envoy.config.core.v3.RetryPolicy.RetryHostPredicate -
F host_selection_retry_max_attempts hostSelectionRetryMaxAttempts 6 int64 s - -
M envoy.config.core.v3.RetryPolicy.RetryPriority
F name name 1 string s - -
F typed_config typedConfig 2 message s google.protobuf.Any config_type
M envoy.config.core.v3.RetryPolicy.RetryHostPredicate
F name name 1 string s - -
F typed_config typedConfig 2 message s google.protobuf.Any config_type
M envoy.config.core.v3.RemoteDataSource
F http_uri httpUri 1 message s envoy.config.core.v3.HttpUri -
F sha256 sha256 2 string s - -
F retry_policy retryPolicy 3 message s envoy.config.core.v3.RetryPolicy -
M envoy.config.core.v3.AsyncDataSource
F local local 1 message s envoy.config.core.v3.DataSource specifier
F remote remote 2 message s envoy.config.core.v3.RemoteDataSource specifier
M envoy.config.core.v3.TransportSocket
F name name 1 string s - -
F typed_config typedConfig 3 message s google.protobuf.Any config_type
M envoy.config.core.v3.RuntimeFractionalPercent
F default_value defaultValue 1 message s envoy.type.v3.FractionalPercent -
F runtime_key runtimeKey 2 string s - -
M envoy.config.core.v3.ControlPlane
F identifier identifier 1 string s - -
E envoy.config.core.v3.RoutingPriority DEFAULT=0 HIGH=1
E envoy.config.core.v3.RequestMethod METHOD_UNSPECIFIED=0 GET=1 HEAD=2 POST=3 PUT=4 DELETE=5 CONNECT=6 OPTIONS=7 TRACE=8 PATCH=9
E envoy.config.core.v3.TrafficDirection UNSPECIFIED=0 INBOUND=1 OUTBOUND=2
M envoy.type.matcher.v3.RegexMatcher
F google_re2 googleRe2 1 message s envoy.type.matcher.v3.RegexMatcher.GoogleRE2 engine_type deprecated
F regex regex 2 string s - -
M envoy.type.matcher.v3.RegexMatcher.GoogleRE2
F max_program_size maxProgramSize 1 message s google.protobuf.UInt32Value - deprecated
M envoy.type.matcher.v3.RegexMatchAndSubstitute
F pattern pattern 1 message s envoy.type.matcher.v3.RegexMatcher -
F substitution substitution 2 string s - -
M xds.core.v3.TypedExtensionConfig
F name name 1 string s - -
F typed_config typedConfig 2 message s google.protobuf.Any -
M envoy.type.matcher.v3.StringMatcher
F exact exact 1 string s - match_pattern
F prefix prefix 2 string s - match_pattern
F suffix suffix 3 string s - match_pattern
F safe_regex safeRegex 5 message s envoy.type.matcher.v3.RegexMatcher match_pattern
F contains contains 7 string s - match_pattern
F custom custom 8 message s xds.core.v3.TypedExtensionConfig match_pattern
F ignore_case ignoreCase 6 bool s - -
M envoy.type.matcher.v3.ListStringMatcher
F patterns patterns 1 message r envoy.type.matcher.v3.StringMatcher -
M envoy.config.common.mutation_rules.v3.HeaderMutationRules
F allow_all_routing allowAllRouting 1 message s google.protobuf.BoolValue -
F allow_envoy allowEnvoy 2 message s google.protobuf.BoolValue -
F disallow_system disallowSystem 3 message s google.protobuf.BoolValue -
F disallow_all disallowAll 4 message s google.protobuf.BoolValue -
F allow_expression allowExpression 5 message s envoy.type.matcher.v3.RegexMatcher -
F disallow_expression disallowExpression 6 message s envoy.type.matcher.v3.RegexMatcher -
F disallow_is_error disallowIsError 7 message s google.protobuf.BoolValue -
M envoy.config.common.mutation_rules.v3.HeaderMutation
F remove remove 1 string s - action
F append append 2 message s envoy.config.core.v3.HeaderValueOption action
F remove_on_match removeOnMatch 3 message s envoy.config.common.mutation_rules.v3.HeaderMutation.RemoveOnMatch action
M envoy.config.common.mutation_rules.v3.HeaderMutation.RemoveOnMatch
F key_matcher keyMatcher 1 message s envoy.type.matcher.v3.StringMatcher -
M envoy.config.core.v3.JsonFormatOptions
F sort_properties sortProperties 1 bool s - - deprecated
M envoy.config.core.v3.SubstitutionFormatString
F text_format textFormat 1 string s - format deprecated
F json_format jsonFormat 2 message s google.protobuf.Struct format
F text_format_source textFormatSource 5 message s envoy.config.core.v3.DataSource format
F omit_empty_values omitEmptyValues 3 bool s - -
F content_type contentType 4 string s - -
F formatters formatters 6 message r envoy.config.core.v3.TypedExtensionConfig -
F json_format_options jsonFormatOptions 7 message s envoy.config.core.v3.JsonFormatOptions -
M envoy.config.core.v3.ProxyProtocolPassThroughTLVs
F match_type matchType 1 enum s envoy.config.core.v3.ProxyProtocolPassThroughTLVs.PassTLVsMatchType -
F tlv_type tlvType 2 uint32 r - -
E envoy.config.core.v3.ProxyProtocolPassThroughTLVs.PassTLVsMatchType INCLUDE_ALL=0 INCLUDE=1
M envoy.config.core.v3.TlvEntry
F type type 1 uint32 s - -
F value value 2 bytes s - -
F format_string formatString 3 message s envoy.config.core.v3.SubstitutionFormatString -
M envoy.config.core.v3.ProxyProtocolConfig
F version version 1 enum s envoy.config.core.v3.ProxyProtocolConfig.Version -
F pass_through_tlvs passThroughTlvs 2 message s envoy.config.core.v3.ProxyProtocolPassThroughTLVs -
F added_tlvs addedTlvs 3 message r envoy.config.core.v3.TlvEntry -
E envoy.config.core.v3.ProxyProtocolConfig.Version V1=0 V2=1
M envoy.config.core.v3.PerHostConfig
F added_tlvs addedTlvs 1 message r envoy.config.core.v3.TlvEntry -
M xds.core.v3.CidrRange
F address_prefix addressPrefix 1 string s - -
F prefix_len prefixLen 2 message s google.protobuf.UInt32Value -
M envoy.type.matcher.v3.AddressMatcher
F ranges ranges 1 message r xds.core.v3.CidrRange -
M envoy.type.matcher.v3.FilterStateMatcher
F key key 1 string s - -
F string_match stringMatch 2 message s envoy.type.matcher.v3.StringMatcher matcher
F address_match addressMatch 3 message s envoy.type.matcher.v3.AddressMatcher matcher
M envoy.type.v3.Int64Range
F start start 1 int64 s - -
F end end 2 int64 s - -
M envoy.type.v3.Int32Range
F start start 1 int32 s - -
F end end 2 int32 s - -
M envoy.type.v3.DoubleRange
F start start 1 double s - -
F end end 2 double s - -
M envoy.type.matcher.v3.DoubleMatcher
F range range 1 message s envoy.type.v3.DoubleRange match_pattern
F exact exact 2 double s - match_pattern
M envoy.type.matcher.v3.ValueMatcher
F null_match nullMatch 1 message s envoy.type.matcher.v3.ValueMatcher.NullMatch match_pattern
F double_match doubleMatch 2 message s envoy.type.matcher.v3.DoubleMatcher match_pattern
F string_match stringMatch 3 message s envoy.type.matcher.v3.StringMatcher match_pattern
F bool_match boolMatch 4 bool s - match_pattern
F present_match presentMatch 5 bool s - match_pattern
F list_match listMatch 6 message s envoy.type.matcher.v3.ListMatcher match_pattern
F or_match orMatch 7 message s envoy.type.matcher.v3.OrMatcher match_pattern
M envoy.type.matcher.v3.ValueMatcher.NullMatch
M envoy.type.matcher.v3.ListMatcher
F one_of oneOf 1 message s envoy.type.matcher.v3.ValueMatcher match_pattern
M envoy.type.matcher.v3.OrMatcher
F value_matchers valueMatchers 1 message r envoy.type.matcher.v3.ValueMatcher -
M envoy.type.matcher.v3.MetadataMatcher
F filter filter 1 string s - -
F path path 2 message r envoy.type.matcher.v3.MetadataMatcher.PathSegment -
F value value 3 message s envoy.type.matcher.v3.ValueMatcher -
F invert invert 4 bool s - -
M envoy.type.matcher.v3.MetadataMatcher.PathSegment
F key key 1 string s - segment
M envoy.type.metadata.v3.MetadataKey
F key key 1 string s - -
F path path 2 message r envoy.type.metadata.v3.MetadataKey.PathSegment -
M envoy.type.metadata.v3.MetadataKey.PathSegment
F key key 1 string s - segment
M envoy.type.metadata.v3.MetadataKind
F request request 1 message s envoy.type.metadata.v3.MetadataKind.Request kind
F route route 2 message s envoy.type.metadata.v3.MetadataKind.Route kind
F cluster cluster 3 message s envoy.type.metadata.v3.MetadataKind.Cluster kind
F host host 4 message s envoy.type.metadata.v3.MetadataKind.Host kind
M envoy.type.metadata.v3.MetadataKind.Request
M envoy.type.metadata.v3.MetadataKind.Route
M envoy.type.metadata.v3.MetadataKind.Cluster
M envoy.type.metadata.v3.MetadataKind.Host
M envoy.type.tracing.v3.CustomTag
F tag tag 1 string s - -
F literal literal 2 message s envoy.type.tracing.v3.CustomTag.Literal type
F environment environment 3 message s envoy.type.tracing.v3.CustomTag.Environment type
F request_header requestHeader 4 message s envoy.type.tracing.v3.CustomTag.Header type
F metadata metadata 5 message s envoy.type.tracing.v3.CustomTag.Metadata type
F value value 6 string s - type
M envoy.type.tracing.v3.CustomTag.Literal
F value value 1 string s - -
M envoy.type.tracing.v3.CustomTag.Environment
F name name 1 string s - -
F default_value defaultValue 2 string s - -
M envoy.type.tracing.v3.CustomTag.Header
F name name 1 string s - -
F default_value defaultValue 2 string s - -
M envoy.type.tracing.v3.CustomTag.Metadata
F kind kind 1 message s envoy.type.metadata.v3.MetadataKind -
F metadata_key metadataKey 2 message s envoy.type.metadata.v3.MetadataKey -
F default_value defaultValue 3 string s - -
M xds.type.matcher.v3.RegexMatcher
F google_re2 googleRe2 1 message s xds.type.matcher.v3.RegexMatcher.GoogleRE2 engine_type
F regex regex 2 string s - -
M xds.type.matcher.v3.RegexMatcher.GoogleRE2
M xds.type.matcher.v3.StringMatcher
F exact exact 1 string s - match_pattern
F prefix prefix 2 string s - match_pattern
F suffix suffix 3 string s - match_pattern
F safe_regex safeRegex 5 message s xds.type.matcher.v3.RegexMatcher match_pattern
F contains contains 7 string s - match_pattern
F custom custom 8 message s xds.core.v3.TypedExtensionConfig match_pattern
F ignore_case ignoreCase 6 bool s - -
M xds.type.matcher.v3.ListStringMatcher
F patterns patterns 1 message r xds.type.matcher.v3.StringMatcher -
M xds.type.matcher.v3.Matcher
F matcher_list matcherList 1 message s xds.type.matcher.v3.Matcher.MatcherList matcher_type
F matcher_tree matcherTree 2 message s xds.type.matcher.v3.Matcher.MatcherTree matcher_type
F on_no_match onNoMatch 3 message s xds.type.matcher.v3.Matcher.OnMatch -
M xds.type.matcher.v3.Matcher.OnMatch
F matcher matcher 1 message s xds.type.matcher.v3.Matcher on_match
F action action 2 message s xds.core.v3.TypedExtensionConfig on_match
F keep_matching keepMatching 3 bool s - -
M xds.type.matcher.v3.Matcher.MatcherList
F matchers matchers 1 message r xds.type.matcher.v3.Matcher.MatcherList.FieldMatcher -
M xds.type.matcher.v3.Matcher.MatcherList.Predicate
F single_predicate singlePredicate 1 message s xds.type.matcher.v3.Matcher.MatcherList.Predicate.SinglePredicate match_type
F or_matcher orMatcher 2 message s xds.type.matcher.v3.Matcher.MatcherList.Predicate.PredicateList match_type
F and_matcher andMatcher 3 message s xds.type.matcher.v3.Matcher.MatcherList.Predicate.PredicateList match_type
F not_matcher notMatcher 4 message s xds.type.matcher.v3.Matcher.MatcherList.Predicate match_type
M xds.type.matcher.v3.Matcher.MatcherList.Predicate.SinglePredicate
F input input 1 message s xds.core.v3.TypedExtensionConfig -
F value_match valueMatch 2 message s xds.type.matcher.v3.StringMatcher matcher
F custom_match customMatch 3 message s xds.core.v3.TypedExtensionConfig matcher
M xds.type.matcher.v3.Matcher.MatcherList.Predicate.PredicateList
F predicate predicate 1 message r xds.type.matcher.v3.Matcher.MatcherList.Predicate -
M xds.type.matcher.v3.Matcher.MatcherList.FieldMatcher
F predicate predicate 1 message s xds.type.matcher.v3.Matcher.MatcherList.Predicate -
F on_match onMatch 2 message s xds.type.matcher.v3.Matcher.OnMatch -
M xds.type.matcher.v3.Matcher.MatcherTree
F input input 1 message s xds.core.v3.TypedExtensionConfig -
F exact_match_map exactMatchMap 2 message s xds.type.matcher.v3.Matcher.MatcherTree.MatchMap tree_type
F prefix_match_map prefixMatchMap 3 message s xds.type.matcher.v3.Matcher.MatcherTree.MatchMap tree_type
F custom_match customMatch 4 message s xds.core.v3.TypedExtensionConfig tree_type
M xds.type.matcher.v3.Matcher.MatcherTree.MatchMap
F map map 1 message r xds.type.matcher.v3.Matcher.MatcherTree.MatchMap.MapEntry -
M xds.type.matcher.v3.Matcher.MatcherTree.MatchMap.MapEntry map
F key key 1 string s - -
F value value 2 message s xds.type.matcher.v3.Matcher.OnMatch -
M envoy.config.route.v3.VirtualHost
F name name 1 string s - -
F domains domains 2 string r - -
F routes routes 3 message r envoy.config.route.v3.Route -
F matcher matcher 21 message s xds.type.matcher.v3.Matcher -
F require_tls requireTls 4 enum s envoy.config.route.v3.VirtualHost.TlsRequirementType -
F virtual_clusters virtualClusters 5 message r envoy.config.route.v3.VirtualCluster -
F rate_limits rateLimits 6 message r envoy.config.route.v3.RateLimit -
F request_headers_to_add requestHeadersToAdd 7 message r envoy.config.core.v3.HeaderValueOption -
F request_headers_to_remove requestHeadersToRemove 13 string r - -
F response_headers_to_add responseHeadersToAdd 10 message r envoy.config.core.v3.HeaderValueOption -
F response_headers_to_remove responseHeadersToRemove 11 string r - -
F cors cors 8 message s envoy.config.route.v3.CorsPolicy - deprecated
F typed_per_filter_config typedPerFilterConfig 15 message r envoy.config.route.v3.VirtualHost.TypedPerFilterConfigEntry -
F include_request_attempt_count includeRequestAttemptCount 14 bool s - -
F include_attempt_count_in_response includeAttemptCountInResponse 19 bool s - -
F retry_policy retryPolicy 16 message s envoy.config.route.v3.RetryPolicy -
F retry_policy_typed_config retryPolicyTypedConfig 20 message s google.protobuf.Any -
F hedge_policy hedgePolicy 17 message s envoy.config.route.v3.HedgePolicy -
F include_is_timeout_retry_header includeIsTimeoutRetryHeader 23 bool s - -
F per_request_buffer_limit_bytes perRequestBufferLimitBytes 18 message s google.protobuf.UInt32Value - deprecated
F request_body_buffer_limit requestBodyBufferLimit 25 message s google.protobuf.UInt64Value -
F request_mirror_policies requestMirrorPolicies 22 message r envoy.config.route.v3.RouteAction.RequestMirrorPolicy -
F metadata metadata 24 message s envoy.config.core.v3.Metadata -
M envoy.config.route.v3.VirtualHost.TypedPerFilterConfigEntry map
F key key 1 string s - -
F value value 2 message s google.protobuf.Any -
E envoy.config.route.v3.VirtualHost.TlsRequirementType NONE=0 EXTERNAL_ONLY=1 ALL=2
M envoy.config.route.v3.FilterAction
F action action 1 message s google.protobuf.Any -
M envoy.config.route.v3.RouteList
F routes routes 1 message r envoy.config.route.v3.Route -
M envoy.config.route.v3.Route
F name name 14 string s - -
F match match 1 message s envoy.config.route.v3.RouteMatch -
F route route 2 message s envoy.config.route.v3.RouteAction action
F redirect redirect 3 message s envoy.config.route.v3.RedirectAction action
F direct_response directResponse 7 message s envoy.config.route.v3.DirectResponseAction action
F filter_action filterAction 17 message s envoy.config.route.v3.FilterAction action
F non_forwarding_action nonForwardingAction 18 message s envoy.config.route.v3.NonForwardingAction action
F metadata metadata 4 message s envoy.config.core.v3.Metadata -
F decorator decorator 5 message s envoy.config.route.v3.Decorator -
F typed_per_filter_config typedPerFilterConfig 13 message r envoy.config.route.v3.Route.TypedPerFilterConfigEntry -
F request_headers_to_add requestHeadersToAdd 9 message r envoy.config.core.v3.HeaderValueOption -
F request_headers_to_remove requestHeadersToRemove 12 string r - -
F response_headers_to_add responseHeadersToAdd 10 message r envoy.config.core.v3.HeaderValueOption -
F response_headers_to_remove responseHeadersToRemove 11 string r - -
F tracing tracing 15 message s envoy.config.route.v3.Tracing -
F per_request_buffer_limit_bytes perRequestBufferLimitBytes 16 message s google.protobuf.UInt32Value - deprecated
F stat_prefix statPrefix 19 string s - -
F request_body_buffer_limit requestBodyBufferLimit 20 message s google.protobuf.UInt64Value -
M envoy.config.route.v3.Route.TypedPerFilterConfigEntry map
F key key 1 string s - -
F value value 2 message s google.protobuf.Any -
M envoy.config.route.v3.WeightedCluster
F clusters clusters 1 message r envoy.config.route.v3.WeightedCluster.ClusterWeight -
F total_weight totalWeight 3 message s google.protobuf.UInt32Value - deprecated
F runtime_key_prefix runtimeKeyPrefix 2 string s - -
F header_name headerName 4 string s - random_value_specifier
F use_hash_policy useHashPolicy 5 message s google.protobuf.BoolValue random_value_specifier
M envoy.config.route.v3.WeightedCluster.ClusterWeight
F name name 1 string s - -
F cluster_header clusterHeader 12 string s - -
F weight weight 2 message s google.protobuf.UInt32Value -
F metadata_match metadataMatch 3 message s envoy.config.core.v3.Metadata -
F request_headers_to_add requestHeadersToAdd 4 message r envoy.config.core.v3.HeaderValueOption -
F request_headers_to_remove requestHeadersToRemove 9 string r - -
F response_headers_to_add responseHeadersToAdd 5 message r envoy.config.core.v3.HeaderValueOption -
F response_headers_to_remove responseHeadersToRemove 6 string r - -
F typed_per_filter_config typedPerFilterConfig 10 message r envoy.config.route.v3.WeightedCluster.ClusterWeight.TypedPerFilterConfigEntry -
F host_rewrite_literal hostRewriteLiteral 11 string s - host_rewrite_specifier
M envoy.config.route.v3.WeightedCluster.ClusterWeight.TypedPerFilterConfigEntry map
F key key 1 string s - -
F value value 2 message s google.protobuf.Any -
M envoy.config.route.v3.ClusterSpecifierPlugin
F extension extension 1 message s envoy.config.core.v3.TypedExtensionConfig -
F is_optional isOptional 2 bool s - -
M envoy.config.route.v3.RouteMatch
F prefix prefix 1 string s - path_specifier
F path path 2 string s - path_specifier
F safe_regex safeRegex 10 message s envoy.type.matcher.v3.RegexMatcher path_specifier
F connect_matcher connectMatcher 12 message s envoy.config.route.v3.RouteMatch.ConnectMatcher path_specifier
F path_separated_prefix pathSeparatedPrefix 14 string s - path_specifier
F path_match_policy pathMatchPolicy 15 message s envoy.config.core.v3.TypedExtensionConfig path_specifier
F case_sensitive caseSensitive 4 message s google.protobuf.BoolValue -
F runtime_fraction runtimeFraction 9 message s envoy.config.core.v3.RuntimeFractionalPercent -
F headers headers 6 message r envoy.config.route.v3.HeaderMatcher -
F query_parameters queryParameters 7 message r envoy.config.route.v3.QueryParameterMatcher -
F grpc grpc 8 message s envoy.config.route.v3.RouteMatch.GrpcRouteMatchOptions -
F tls_context tlsContext 11 message s envoy.config.route.v3.RouteMatch.TlsContextMatchOptions -
F dynamic_metadata dynamicMetadata 13 message r envoy.type.matcher.v3.MetadataMatcher -
F filter_state filterState 16 message r envoy.type.matcher.v3.FilterStateMatcher -
M envoy.config.route.v3.RouteMatch.GrpcRouteMatchOptions
M envoy.config.route.v3.RouteMatch.TlsContextMatchOptions
F presented presented 1 message s google.protobuf.BoolValue -
F validated validated 2 message s google.protobuf.BoolValue -
M envoy.config.route.v3.RouteMatch.ConnectMatcher
M envoy.config.route.v3.CorsPolicy
F allow_origin_string_match allowOriginStringMatch 11 message r envoy.type.matcher.v3.StringMatcher -
F allow_methods allowMethods 2 string s - -
F allow_headers allowHeaders 3 string s - -
F expose_headers exposeHeaders 4 string s - -
F max_age maxAge 5 string s - -
F allow_credentials allowCredentials 6 message s google.protobuf.BoolValue -
F filter_enabled filterEnabled 9 message s envoy.config.core.v3.RuntimeFractionalPercent enabled_specifier
F shadow_enabled shadowEnabled 10 message s envoy.config.core.v3.RuntimeFractionalPercent -
F allow_private_network_access allowPrivateNetworkAccess 12 message s google.protobuf.BoolValue -
F forward_not_matching_preflights forwardNotMatchingPreflights 13 message s google.protobuf.BoolValue -
M envoy.config.route.v3.RouteAction
F cluster cluster 1 string s - cluster_specifier
F cluster_header clusterHeader 2 string s - cluster_specifier
F weighted_clusters weightedClusters 3 message s envoy.config.route.v3.WeightedCluster cluster_specifier
F cluster_specifier_plugin clusterSpecifierPlugin 37 string s - cluster_specifier
F inline_cluster_specifier_plugin inlineClusterSpecifierPlugin 39 message s envoy.config.route.v3.ClusterSpecifierPlugin cluster_specifier
F cluster_not_found_response_code clusterNotFoundResponseCode 20 enum s envoy.config.route.v3.RouteAction.ClusterNotFoundResponseCode -
F metadata_match metadataMatch 4 message s envoy.config.core.v3.Metadata -
F prefix_rewrite prefixRewrite 5 string s - -
F regex_rewrite regexRewrite 32 message s envoy.type.matcher.v3.RegexMatchAndSubstitute -
F path_rewrite_policy pathRewritePolicy 41 message s envoy.config.core.v3.TypedExtensionConfig -
F path_rewrite pathRewrite 45 string s - -
F host_rewrite_literal hostRewriteLiteral 6 string s - host_rewrite_specifier
F auto_host_rewrite autoHostRewrite 7 message s google.protobuf.BoolValue host_rewrite_specifier
F host_rewrite_header hostRewriteHeader 29 string s - host_rewrite_specifier
F host_rewrite_path_regex hostRewritePathRegex 35 message s envoy.type.matcher.v3.RegexMatchAndSubstitute host_rewrite_specifier
F host_rewrite hostRewrite 44 string s - host_rewrite_specifier
F append_x_forwarded_host appendXForwardedHost 38 bool s - -
F timeout timeout 8 message s google.protobuf.Duration -
F idle_timeout idleTimeout 24 message s google.protobuf.Duration -
F flush_timeout flushTimeout 42 message s google.protobuf.Duration -
F early_data_policy earlyDataPolicy 40 message s envoy.config.core.v3.TypedExtensionConfig -
F retry_policy retryPolicy 9 message s envoy.config.route.v3.RetryPolicy -
F retry_policy_typed_config retryPolicyTypedConfig 33 message s google.protobuf.Any -
F request_mirror_policies requestMirrorPolicies 30 message r envoy.config.route.v3.RouteAction.RequestMirrorPolicy -
F priority priority 11 enum s envoy.config.core.v3.RoutingPriority -
F rate_limits rateLimits 13 message r envoy.config.route.v3.RateLimit -
F include_vh_rate_limits includeVhRateLimits 14 message s google.protobuf.BoolValue - deprecated
F hash_policy hashPolicy 15 message r envoy.config.route.v3.RouteAction.HashPolicy -
F cors cors 17 message s envoy.config.route.v3.CorsPolicy - deprecated
F max_grpc_timeout maxGrpcTimeout 23 message s google.protobuf.Duration - deprecated
F grpc_timeout_offset grpcTimeoutOffset 28 message s google.protobuf.Duration - deprecated
F upgrade_configs upgradeConfigs 25 message r envoy.config.route.v3.RouteAction.UpgradeConfig -
F internal_redirect_policy internalRedirectPolicy 34 message s envoy.config.route.v3.InternalRedirectPolicy -
F internal_redirect_action internalRedirectAction 26 enum s envoy.config.route.v3.RouteAction.InternalRedirectAction - deprecated
F max_internal_redirects maxInternalRedirects 31 message s google.protobuf.UInt32Value - deprecated
F hedge_policy hedgePolicy 27 message s envoy.config.route.v3.HedgePolicy -
F max_stream_duration maxStreamDuration 36 message s envoy.config.route.v3.RouteAction.MaxStreamDuration -
M envoy.config.route.v3.RouteAction.RequestMirrorPolicy
F cluster cluster 1 string s - -
F cluster_header clusterHeader 5 string s - -
F runtime_fraction runtimeFraction 3 message s envoy.config.core.v3.RuntimeFractionalPercent -
F trace_sampled traceSampled 4 message s google.protobuf.BoolValue -
F disable_shadow_host_suffix_append disableShadowHostSuffixAppend 6 bool s - -
F request_headers_mutations requestHeadersMutations 7 message r envoy.config.common.mutation_rules.v3.HeaderMutation -
F host_rewrite_literal hostRewriteLiteral 8 string s - -
M envoy.config.route.v3.RouteAction.HashPolicy
F header header 1 message s envoy.config.route.v3.RouteAction.HashPolicy.Header policy_specifier
F cookie cookie 2 message s envoy.config.route.v3.RouteAction.HashPolicy.Cookie policy_specifier
F connection_properties connectionProperties 3 message s envoy.config.route.v3.RouteAction.HashPolicy.ConnectionProperties policy_specifier
F query_parameter queryParameter 5 message s envoy.config.route.v3.RouteAction.HashPolicy.QueryParameter policy_specifier
F filter_state filterState 6 message s envoy.config.route.v3.RouteAction.HashPolicy.FilterState policy_specifier
F terminal terminal 4 bool s - -
M envoy.config.route.v3.RouteAction.HashPolicy.Header
F header_name headerName 1 string s - -
F regex_rewrite regexRewrite 2 message s envoy.type.matcher.v3.RegexMatchAndSubstitute -
M envoy.config.route.v3.RouteAction.HashPolicy.CookieAttribute
F name name 1 string s - -
F value value 2 string s - -
M envoy.config.route.v3.RouteAction.HashPolicy.Cookie
F name name 1 string s - -
F ttl ttl 2 message s google.protobuf.Duration -
F path path 3 string s - -
F attributes attributes 4 message r envoy.config.route.v3.RouteAction.HashPolicy.CookieAttribute -
M envoy.config.route.v3.RouteAction.HashPolicy.ConnectionProperties
F source_ip sourceIp 1 bool s - -
M envoy.config.route.v3.RouteAction.HashPolicy.QueryParameter
F name name 1 string s - -
M envoy.config.route.v3.RouteAction.HashPolicy.FilterState
F key key 1 string s - -
M envoy.config.route.v3.RouteAction.UpgradeConfig
F upgrade_type upgradeType 1 string s - -
F enabled enabled 2 message s google.protobuf.BoolValue -
F connect_config connectConfig 3 message s envoy.config.route.v3.RouteAction.UpgradeConfig.ConnectConfig -
M envoy.config.route.v3.RouteAction.UpgradeConfig.ConnectConfig
F proxy_protocol_config proxyProtocolConfig 1 message s envoy.config.core.v3.ProxyProtocolConfig -
F allow_post allowPost 2 bool s - -
M envoy.config.route.v3.RouteAction.MaxStreamDuration
F max_stream_duration maxStreamDuration 1 message s google.protobuf.Duration -
F grpc_timeout_header_max grpcTimeoutHeaderMax 2 message s google.protobuf.Duration -
F grpc_timeout_header_offset grpcTimeoutHeaderOffset 3 message s google.protobuf.Duration -
E envoy.config.route.v3.RouteAction.ClusterNotFoundResponseCode SERVICE_UNAVAILABLE=0 NOT_FOUND=1 INTERNAL_SERVER_ERROR=2
E envoy.config.route.v3.RouteAction.InternalRedirectAction PASS_THROUGH_INTERNAL_REDIRECT=0 HANDLE_INTERNAL_REDIRECT=1
M envoy.config.route.v3.RetryPolicy
F retry_on retryOn 1 string s - -
F num_retries numRetries 2 message s google.protobuf.UInt32Value -
F per_try_timeout perTryTimeout 3 message s google.protobuf.Duration -
F per_try_idle_timeout perTryIdleTimeout 13 message s google.protobuf.Duration -
F retry_priority retryPriority 4 message s envoy.config.route.v3.RetryPolicy.RetryPriority -
F retry_host_predicate retryHostPredicate 5 message r envoy.config.route.v3.RetryPolicy.RetryHostPredicate -
F retry_options_predicates retryOptionsPredicates 12 message r envoy.config.core.v3.TypedExtensionConfig -
F host_selection_retry_max_attempts hostSelectionRetryMaxAttempts 6 int64 s - -
F retriable_status_codes retriableStatusCodes 7 uint32 r - -
F retry_back_off retryBackOff 8 message s envoy.config.route.v3.RetryPolicy.RetryBackOff -
F rate_limited_retry_back_off rateLimitedRetryBackOff 11 message s envoy.config.route.v3.RetryPolicy.RateLimitedRetryBackOff -
F retriable_headers retriableHeaders 9 message r envoy.config.route.v3.HeaderMatcher -
F retriable_request_headers retriableRequestHeaders 10 message r envoy.config.route.v3.HeaderMatcher -
M envoy.config.route.v3.RetryPolicy.RetryPriority
F name name 1 string s - -
F typed_config typedConfig 3 message s google.protobuf.Any config_type
M envoy.config.route.v3.RetryPolicy.RetryHostPredicate
F name name 1 string s - -
F typed_config typedConfig 3 message s google.protobuf.Any config_type
M envoy.config.route.v3.RetryPolicy.RetryBackOff
F base_interval baseInterval 1 message s google.protobuf.Duration -
F max_interval maxInterval 2 message s google.protobuf.Duration -
M envoy.config.route.v3.RetryPolicy.ResetHeader
F name name 1 string s - -
F format format 2 enum s envoy.config.route.v3.RetryPolicy.ResetHeaderFormat -
M envoy.config.route.v3.RetryPolicy.RateLimitedRetryBackOff
F reset_headers resetHeaders 1 message r envoy.config.route.v3.RetryPolicy.ResetHeader -
F max_interval maxInterval 2 message s google.protobuf.Duration -
E envoy.config.route.v3.RetryPolicy.ResetHeaderFormat SECONDS=0 UNIX_TIMESTAMP=1
M envoy.config.route.v3.HedgePolicy
F initial_requests initialRequests 1 message s google.protobuf.UInt32Value -
F additional_request_chance additionalRequestChance 2 message s envoy.type.v3.FractionalPercent -
F hedge_on_per_try_timeout hedgeOnPerTryTimeout 3 bool s - -
M envoy.config.route.v3.RedirectAction
F https_redirect httpsRedirect 4 bool s - scheme_rewrite_specifier
F scheme_redirect schemeRedirect 7 string s - scheme_rewrite_specifier
F host_redirect hostRedirect 1 string s - -
F port_redirect portRedirect 8 uint32 s - -
F path_redirect pathRedirect 2 string s - path_rewrite_specifier
F prefix_rewrite prefixRewrite 5 string s - path_rewrite_specifier
F regex_rewrite regexRewrite 9 message s envoy.type.matcher.v3.RegexMatchAndSubstitute path_rewrite_specifier
F response_code responseCode 3 enum s envoy.config.route.v3.RedirectAction.RedirectResponseCode -
F strip_query stripQuery 6 bool s - -
E envoy.config.route.v3.RedirectAction.RedirectResponseCode MOVED_PERMANENTLY=0 FOUND=1 SEE_OTHER=2 TEMPORARY_REDIRECT=3 PERMANENT_REDIRECT=4
M envoy.config.route.v3.DirectResponseAction
F status status 1 uint32 s - -
F body body 2 message s envoy.config.core.v3.DataSource -
F body_format bodyFormat 3 message s envoy.config.core.v3.SubstitutionFormatString -
M envoy.config.route.v3.NonForwardingAction
M envoy.config.route.v3.Decorator
F operation operation 1 string s - -
F propagate propagate 2 message s google.protobuf.BoolValue -
M envoy.config.route.v3.Tracing
F client_sampling clientSampling 1 message s envoy.type.v3.FractionalPercent -
F random_sampling randomSampling 2 message s envoy.type.v3.FractionalPercent -
F overall_sampling overallSampling 3 message s envoy.type.v3.FractionalPercent -
F custom_tags customTags 4 message r envoy.type.tracing.v3.CustomTag -
F operation operation 5 string s - -
F upstream_operation upstreamOperation 6 string s - -
M envoy.config.route.v3.VirtualCluster
F headers headers 4 message r envoy.config.route.v3.HeaderMatcher -
F name name 2 string s - -
M envoy.config.route.v3.RateLimit
F stage stage 1 message s google.protobuf.UInt32Value -
F disable_key disableKey 2 string s - -
F actions actions 3 message r envoy.config.route.v3.RateLimit.Action -
F limit limit 4 message s envoy.config.route.v3.RateLimit.Override -
F hits_addend hitsAddend 5 message s envoy.config.route.v3.RateLimit.HitsAddend -
F apply_on_stream_done applyOnStreamDone 6 bool s - -
M envoy.config.route.v3.RateLimit.Action
F source_cluster sourceCluster 1 message s envoy.config.route.v3.RateLimit.Action.SourceCluster action_specifier
F destination_cluster destinationCluster 2 message s envoy.config.route.v3.RateLimit.Action.DestinationCluster action_specifier
F request_headers requestHeaders 3 message s envoy.config.route.v3.RateLimit.Action.RequestHeaders action_specifier
F query_parameters queryParameters 12 message s envoy.config.route.v3.RateLimit.Action.QueryParameters action_specifier
F remote_address remoteAddress 4 message s envoy.config.route.v3.RateLimit.Action.RemoteAddress action_specifier
F generic_key genericKey 5 message s envoy.config.route.v3.RateLimit.Action.GenericKey action_specifier
F header_value_match headerValueMatch 6 message s envoy.config.route.v3.RateLimit.Action.HeaderValueMatch action_specifier
F dynamic_metadata dynamicMetadata 7 message s envoy.config.route.v3.RateLimit.Action.DynamicMetaData action_specifier deprecated
F metadata metadata 8 message s envoy.config.route.v3.RateLimit.Action.MetaData action_specifier
F extension extension 9 message s envoy.config.core.v3.TypedExtensionConfig action_specifier
F masked_remote_address maskedRemoteAddress 10 message s envoy.config.route.v3.RateLimit.Action.MaskedRemoteAddress action_specifier
F query_parameter_value_match queryParameterValueMatch 11 message s envoy.config.route.v3.RateLimit.Action.QueryParameterValueMatch action_specifier
M envoy.config.route.v3.RateLimit.Action.SourceCluster
M envoy.config.route.v3.RateLimit.Action.DestinationCluster
M envoy.config.route.v3.RateLimit.Action.RequestHeaders
F header_name headerName 1 string s - -
F descriptor_key descriptorKey 2 string s - -
F skip_if_absent skipIfAbsent 3 bool s - -
M envoy.config.route.v3.RateLimit.Action.QueryParameters
F query_parameter_name queryParameterName 1 string s - -
F descriptor_key descriptorKey 2 string s - -
F skip_if_absent skipIfAbsent 3 bool s - -
M envoy.config.route.v3.RateLimit.Action.RemoteAddress
M envoy.config.route.v3.RateLimit.Action.MaskedRemoteAddress
F v4_prefix_mask_len v4PrefixMaskLen 1 message s google.protobuf.UInt32Value -
F v6_prefix_mask_len v6PrefixMaskLen 2 message s google.protobuf.UInt32Value -
M envoy.config.route.v3.RateLimit.Action.GenericKey
F descriptor_value descriptorValue 1 string s - -
F descriptor_key descriptorKey 2 string s - -
M envoy.config.route.v3.RateLimit.Action.HeaderValueMatch
F descriptor_key descriptorKey 4 string s - -
F descriptor_value descriptorValue 1 string s - -
F expect_match expectMatch 2 message s google.protobuf.BoolValue -
F headers headers 3 message r envoy.config.route.v3.HeaderMatcher -
M envoy.config.route.v3.RateLimit.Action.DynamicMetaData
F descriptor_key descriptorKey 1 string s - -
F metadata_key metadataKey 2 message s envoy.type.metadata.v3.MetadataKey -
F default_value defaultValue 3 string s - -
M envoy.config.route.v3.RateLimit.Action.MetaData
F descriptor_key descriptorKey 1 string s - -
F metadata_key metadataKey 2 message s envoy.type.metadata.v3.MetadataKey -
F default_value defaultValue 3 string s - -
F source source 4 enum s envoy.config.route.v3.RateLimit.Action.MetaData.Source -
F skip_if_absent skipIfAbsent 5 bool s - -
E envoy.config.route.v3.RateLimit.Action.MetaData.Source DYNAMIC=0 ROUTE_ENTRY=1
M envoy.config.route.v3.RateLimit.Action.QueryParameterValueMatch
F descriptor_key descriptorKey 4 string s - -
F descriptor_value descriptorValue 1 string s - -
F expect_match expectMatch 2 message s google.protobuf.BoolValue -
F query_parameters queryParameters 3 message r envoy.config.route.v3.QueryParameterMatcher -
M envoy.config.route.v3.RateLimit.Override
F dynamic_metadata dynamicMetadata 1 message s envoy.config.route.v3.RateLimit.Override.DynamicMetadata override_specifier
M envoy.config.route.v3.RateLimit.Override.DynamicMetadata
F metadata_key metadataKey 1 message s envoy.type.metadata.v3.MetadataKey -
M envoy.config.route.v3.RateLimit.HitsAddend
F number number 1 message s google.protobuf.UInt64Value -
F format format 2 string s - -
M envoy.config.route.v3.HeaderMatcher
F name name 1 string s - -
F exact_match exactMatch 4 string s - header_match_specifier deprecated
F safe_regex_match safeRegexMatch 11 message s envoy.type.matcher.v3.RegexMatcher header_match_specifier deprecated
F range_match rangeMatch 6 message s envoy.type.v3.Int64Range header_match_specifier
F present_match presentMatch 7 bool s - header_match_specifier
F prefix_match prefixMatch 9 string s - header_match_specifier deprecated
F suffix_match suffixMatch 10 string s - header_match_specifier deprecated
F contains_match containsMatch 12 string s - header_match_specifier deprecated
F string_match stringMatch 13 message s envoy.type.matcher.v3.StringMatcher header_match_specifier
F invert_match invertMatch 8 bool s - -
F treat_missing_header_as_empty treatMissingHeaderAsEmpty 14 bool s - -
M envoy.config.route.v3.QueryParameterMatcher
F name name 1 string s - -
F string_match stringMatch 5 message s envoy.type.matcher.v3.StringMatcher query_parameter_match_specifier
F present_match presentMatch 6 bool s - query_parameter_match_specifier
M envoy.config.route.v3.InternalRedirectPolicy
F max_internal_redirects maxInternalRedirects 1 message s google.protobuf.UInt32Value -
F redirect_response_codes redirectResponseCodes 2 uint32 r - -
F predicates predicates 3 message r envoy.config.core.v3.TypedExtensionConfig -
F allow_cross_scheme_redirect allowCrossSchemeRedirect 4 bool s - -
F response_headers_to_copy responseHeadersToCopy 5 string r - -
M envoy.config.route.v3.FilterConfig
F config config 1 message s google.protobuf.Any -
F is_optional isOptional 2 bool s - -
F disabled disabled 3 bool s - -
M envoy.data.accesslog.v3.TCPAccessLogEntry
F common_properties commonProperties 1 message s envoy.data.accesslog.v3.AccessLogCommon -
F connection_properties connectionProperties 2 message s envoy.data.accesslog.v3.ConnectionProperties -
M envoy.data.accesslog.v3.HTTPAccessLogEntry
F common_properties commonProperties 1 message s envoy.data.accesslog.v3.AccessLogCommon -
F protocol_version protocolVersion 2 enum s envoy.data.accesslog.v3.HTTPAccessLogEntry.HTTPVersion -
F request request 3 message s envoy.data.accesslog.v3.HTTPRequestProperties -
F response response 4 message s envoy.data.accesslog.v3.HTTPResponseProperties -
E envoy.data.accesslog.v3.HTTPAccessLogEntry.HTTPVersion PROTOCOL_UNSPECIFIED=0 HTTP10=1 HTTP11=2 HTTP2=3 HTTP3=4
M envoy.data.accesslog.v3.ConnectionProperties
F received_bytes receivedBytes 1 uint64 s - -
F sent_bytes sentBytes 2 uint64 s - -
M envoy.data.accesslog.v3.AccessLogCommon
F sample_rate sampleRate 1 double s - -
F downstream_remote_address downstreamRemoteAddress 2 message s envoy.config.core.v3.Address -
F downstream_local_address downstreamLocalAddress 3 message s envoy.config.core.v3.Address -
F tls_properties tlsProperties 4 message s envoy.data.accesslog.v3.TLSProperties -
F start_time startTime 5 message s google.protobuf.Timestamp -
F time_to_last_rx_byte timeToLastRxByte 6 message s google.protobuf.Duration -
F time_to_first_upstream_tx_byte timeToFirstUpstreamTxByte 7 message s google.protobuf.Duration -
F time_to_last_upstream_tx_byte timeToLastUpstreamTxByte 8 message s google.protobuf.Duration -
F time_to_first_upstream_rx_byte timeToFirstUpstreamRxByte 9 message s google.protobuf.Duration -
F time_to_last_upstream_rx_byte timeToLastUpstreamRxByte 10 message s google.protobuf.Duration -
F time_to_first_downstream_tx_byte timeToFirstDownstreamTxByte 11 message s google.protobuf.Duration -
F time_to_last_downstream_tx_byte timeToLastDownstreamTxByte 12 message s google.protobuf.Duration -
F upstream_remote_address upstreamRemoteAddress 13 message s envoy.config.core.v3.Address -
F upstream_local_address upstreamLocalAddress 14 message s envoy.config.core.v3.Address -
F upstream_cluster upstreamCluster 15 string s - -
F response_flags responseFlags 16 message s envoy.data.accesslog.v3.ResponseFlags -
F metadata metadata 17 message s envoy.config.core.v3.Metadata -
F upstream_transport_failure_reason upstreamTransportFailureReason 18 string s - -
F route_name routeName 19 string s - -
F downstream_direct_remote_address downstreamDirectRemoteAddress 20 message s envoy.config.core.v3.Address -
F filter_state_objects filterStateObjects 21 message r envoy.data.accesslog.v3.AccessLogCommon.FilterStateObjectsEntry -
F custom_tags customTags 22 message r envoy.data.accesslog.v3.AccessLogCommon.CustomTagsEntry -
F duration duration 23 message s google.protobuf.Duration -
F upstream_request_attempt_count upstreamRequestAttemptCount 24 uint32 s - -
F connection_termination_details connectionTerminationDetails 25 string s - -
F stream_id streamId 26 string s - -
F intermediate_log_entry intermediateLogEntry 27 bool s - - deprecated
F downstream_transport_failure_reason downstreamTransportFailureReason 28 string s - -
F downstream_wire_bytes_sent downstreamWireBytesSent 29 uint64 s - -
F downstream_wire_bytes_received downstreamWireBytesReceived 30 uint64 s - -
F upstream_wire_bytes_sent upstreamWireBytesSent 31 uint64 s - -
F upstream_wire_bytes_received upstreamWireBytesReceived 32 uint64 s - -
F access_log_type accessLogType 33 enum s envoy.data.accesslog.v3.AccessLogType -
M envoy.data.accesslog.v3.AccessLogCommon.FilterStateObjectsEntry map
F key key 1 string s - -
F value value 2 message s google.protobuf.Any -
M envoy.data.accesslog.v3.AccessLogCommon.CustomTagsEntry map
F key key 1 string s - -
F value value 2 string s - -
M envoy.data.accesslog.v3.ResponseFlags
F failed_local_healthcheck failedLocalHealthcheck 1 bool s - -
F no_healthy_upstream noHealthyUpstream 2 bool s - -
F upstream_request_timeout upstreamRequestTimeout 3 bool s - -
F local_reset localReset 4 bool s - -
F upstream_remote_reset upstreamRemoteReset 5 bool s - -
F upstream_connection_failure upstreamConnectionFailure 6 bool s - -
F upstream_connection_termination upstreamConnectionTermination 7 bool s - -
F upstream_overflow upstreamOverflow 8 bool s - -
F no_route_found noRouteFound 9 bool s - -
F delay_injected delayInjected 10 bool s - -
F fault_injected faultInjected 11 bool s - -
F rate_limited rateLimited 12 bool s - -
F unauthorized_details unauthorizedDetails 13 message s envoy.data.accesslog.v3.ResponseFlags.Unauthorized -
F rate_limit_service_error rateLimitServiceError 14 bool s - -
F downstream_connection_termination downstreamConnectionTermination 15 bool s - -
F upstream_retry_limit_exceeded upstreamRetryLimitExceeded 16 bool s - -
F stream_idle_timeout streamIdleTimeout 17 bool s - -
F invalid_envoy_request_headers invalidEnvoyRequestHeaders 18 bool s - -
F downstream_protocol_error downstreamProtocolError 19 bool s - -
F upstream_max_stream_duration_reached upstreamMaxStreamDurationReached 20 bool s - -
F response_from_cache_filter responseFromCacheFilter 21 bool s - -
F no_filter_config_found noFilterConfigFound 22 bool s - -
F duration_timeout durationTimeout 23 bool s - -
F upstream_protocol_error upstreamProtocolError 24 bool s - -
F no_cluster_found noClusterFound 25 bool s - -
F overload_manager overloadManager 26 bool s - -
F dns_resolution_failure dnsResolutionFailure 27 bool s - -
F downstream_remote_reset downstreamRemoteReset 28 bool s - -
M envoy.data.accesslog.v3.ResponseFlags.Unauthorized
F reason reason 1 enum s envoy.data.accesslog.v3.ResponseFlags.Unauthorized.Reason -
E envoy.data.accesslog.v3.ResponseFlags.Unauthorized.Reason REASON_UNSPECIFIED=0 EXTERNAL_SERVICE=1
M envoy.data.accesslog.v3.TLSProperties
F tls_version tlsVersion 1 enum s envoy.data.accesslog.v3.TLSProperties.TLSVersion -
F tls_cipher_suite tlsCipherSuite 2 message s google.protobuf.UInt32Value -
F tls_sni_hostname tlsSniHostname 3 string s - -
F local_certificate_properties localCertificateProperties 4 message s envoy.data.accesslog.v3.TLSProperties.CertificateProperties -
F peer_certificate_properties peerCertificateProperties 5 message s envoy.data.accesslog.v3.TLSProperties.CertificateProperties -
F tls_session_id tlsSessionId 6 string s - -
F ja3_fingerprint ja3Fingerprint 7 string s - -
M envoy.data.accesslog.v3.TLSProperties.CertificateProperties
F subject_alt_name subjectAltName 1 message r envoy.data.accesslog.v3.TLSProperties.CertificateProperties.SubjectAltName -
F subject subject 2 string s - -
F issuer issuer 3 string s - -
M envoy.data.accesslog.v3.TLSProperties.CertificateProperties.SubjectAltName
F uri uri 1 string s - san
F dns dns 2 string s - san
E envoy.data.accesslog.v3.TLSProperties.TLSVersion VERSION_UNSPECIFIED=0 TLSv1=1 TLSv1_1=2 TLSv1_2=3 TLSv1_3=4
M envoy.data.accesslog.v3.HTTPRequestProperties
F request_method requestMethod 1 enum s envoy.config.core.v3.RequestMethod -
F scheme scheme 2 string s - -
F authority authority 3 string s - -
F port port 4 message s google.protobuf.UInt32Value -
F path path 5 string s - -
F user_agent userAgent 6 string s - -
F referer referer 7 string s - -
F forwarded_for forwardedFor 8 string s - -
F request_id requestId 9 string s - -
F original_path originalPath 10 string s - -
F request_headers_bytes requestHeadersBytes 11 uint64 s - -
F request_body_bytes requestBodyBytes 12 uint64 s - -
F request_headers requestHeaders 13 message r envoy.data.accesslog.v3.HTTPRequestProperties.RequestHeadersEntry -
F upstream_header_bytes_sent upstreamHeaderBytesSent 14 uint64 s - -
F downstream_header_bytes_received downstreamHeaderBytesReceived 15 uint64 s - -
M envoy.data.accesslog.v3.HTTPRequestProperties.RequestHeadersEntry map
F key key 1 string s - -
F value value 2 string s - -
M envoy.data.accesslog.v3.HTTPResponseProperties
F response_code responseCode 1 message s google.protobuf.UInt32Value -
F response_headers_bytes responseHeadersBytes 2 uint64 s - -
F response_body_bytes responseBodyBytes 3 uint64 s - -
F response_headers responseHeaders 4 message r envoy.data.accesslog.v3.HTTPResponseProperties.ResponseHeadersEntry -
F response_trailers responseTrailers 5 message r envoy.data.accesslog.v3.HTTPResponseProperties.ResponseTrailersEntry -
F response_code_details responseCodeDetails 6 string s - -
F upstream_header_bytes_received upstreamHeaderBytesReceived 7 uint64 s - -
F downstream_header_bytes_sent downstreamHeaderBytesSent 8 uint64 s - -
M envoy.data.accesslog.v3.HTTPResponseProperties.ResponseHeadersEntry map
F key key 1 string s - -
F value value 2 string s - -
M envoy.data.accesslog.v3.HTTPResponseProperties.ResponseTrailersEntry map
F key key 1 string s - -
F value value 2 string s - -
E envoy.data.accesslog.v3.AccessLogType NotSet=0 TcpUpstreamConnected=1 TcpPeriodic=2 TcpConnectionEnd=3 DownstreamStart=4 DownstreamPeriodic=5 DownstreamEnd=6 UpstreamPoolReady=7 UpstreamPeriodic=8 UpstreamEnd=9 DownstreamTunnelSuccessfullyEstablished=10 UdpTunnelUpstreamConnected=11 UdpPeriodic=12 UdpSessionEnd=13
M envoy.config.accesslog.v3.AccessLog
F name name 1 string s - -
F filter filter 2 message s envoy.config.accesslog.v3.AccessLogFilter -
F typed_config typedConfig 4 message s google.protobuf.Any config_type
M envoy.config.accesslog.v3.AccessLogFilter
F status_code_filter statusCodeFilter 1 message s envoy.config.accesslog.v3.StatusCodeFilter filter_specifier
F duration_filter durationFilter 2 message s envoy.config.accesslog.v3.DurationFilter filter_specifier
F not_health_check_filter notHealthCheckFilter 3 message s envoy.config.accesslog.v3.NotHealthCheckFilter filter_specifier
F traceable_filter traceableFilter 4 message s envoy.config.accesslog.v3.TraceableFilter filter_specifier
F runtime_filter runtimeFilter 5 message s envoy.config.accesslog.v3.RuntimeFilter filter_specifier
F and_filter andFilter 6 message s envoy.config.accesslog.v3.AndFilter filter_specifier
F or_filter orFilter 7 message s envoy.config.accesslog.v3.OrFilter filter_specifier
F header_filter headerFilter 8 message s envoy.config.accesslog.v3.HeaderFilter filter_specifier
F response_flag_filter responseFlagFilter 9 message s envoy.config.accesslog.v3.ResponseFlagFilter filter_specifier
F grpc_status_filter grpcStatusFilter 10 message s envoy.config.accesslog.v3.GrpcStatusFilter filter_specifier
F extension_filter extensionFilter 11 message s envoy.config.accesslog.v3.ExtensionFilter filter_specifier
F metadata_filter metadataFilter 12 message s envoy.config.accesslog.v3.MetadataFilter filter_specifier
F log_type_filter logTypeFilter 13 message s envoy.config.accesslog.v3.LogTypeFilter filter_specifier
M envoy.config.accesslog.v3.ComparisonFilter
F op op 1 enum s envoy.config.accesslog.v3.ComparisonFilter.Op -
F value value 2 message s envoy.config.core.v3.RuntimeUInt32 -
E envoy.config.accesslog.v3.ComparisonFilter.Op EQ=0 GE=1 LE=2 NE=3
M envoy.config.accesslog.v3.StatusCodeFilter
F comparison comparison 1 message s envoy.config.accesslog.v3.ComparisonFilter -
M envoy.config.accesslog.v3.DurationFilter
F comparison comparison 1 message s envoy.config.accesslog.v3.ComparisonFilter -
M envoy.config.accesslog.v3.NotHealthCheckFilter
M envoy.config.accesslog.v3.TraceableFilter
M envoy.config.accesslog.v3.RuntimeFilter
F runtime_key runtimeKey 1 string s - -
F percent_sampled percentSampled 2 message s envoy.type.v3.FractionalPercent -
F use_independent_randomness useIndependentRandomness 3 bool s - -
M envoy.config.accesslog.v3.AndFilter
F filters filters 1 message r envoy.config.accesslog.v3.AccessLogFilter -
M envoy.config.accesslog.v3.OrFilter
F filters filters 2 message r envoy.config.accesslog.v3.AccessLogFilter -
M envoy.config.accesslog.v3.HeaderFilter
F header header 1 message s envoy.config.route.v3.HeaderMatcher -
M envoy.config.accesslog.v3.ResponseFlagFilter
F flags flags 1 string r - -
M envoy.config.accesslog.v3.GrpcStatusFilter
F statuses statuses 1 enum r envoy.config.accesslog.v3.GrpcStatusFilter.Status -
F exclude exclude 2 bool s - -
E envoy.config.accesslog.v3.GrpcStatusFilter.Status OK=0 CANCELED=1 UNKNOWN=2 INVALID_ARGUMENT=3 DEADLINE_EXCEEDED=4 NOT_FOUND=5 ALREADY_EXISTS=6 PERMISSION_DENIED=7 RESOURCE_EXHAUSTED=8 FAILED_PRECONDITION=9 ABORTED=10 OUT_OF_RANGE=11 UNIMPLEMENTED=12 INTERNAL=13 UNAVAILABLE=14 DATA_LOSS=15 UNAUTHENTICATED=16
M envoy.config.accesslog.v3.MetadataFilter
F matcher matcher 1 message s envoy.type.matcher.v3.MetadataMatcher -
F match_if_key_not_found matchIfKeyNotFound 2 message s google.protobuf.BoolValue -
M envoy.config.accesslog.v3.LogTypeFilter
F types types 1 enum r envoy.data.accesslog.v3.AccessLogType -
F exclude exclude 2 bool s - -
M envoy.config.accesslog.v3.ExtensionFilter
F name name 1 string s - -
F typed_config typedConfig 3 message s google.protobuf.Any config_type
M envoy.config.cluster.v3.CircuitBreakers
F thresholds thresholds 1 message r envoy.config.cluster.v3.CircuitBreakers.Thresholds -
F per_host_thresholds perHostThresholds 2 message r envoy.config.cluster.v3.CircuitBreakers.Thresholds -
M envoy.config.cluster.v3.CircuitBreakers.Thresholds
F priority priority 1 enum s envoy.config.core.v3.RoutingPriority -
F max_connections maxConnections 2 message s google.protobuf.UInt32Value -
F max_pending_requests maxPendingRequests 3 message s google.protobuf.UInt32Value -
F max_requests maxRequests 4 message s google.protobuf.UInt32Value -
F max_retries maxRetries 5 message s google.protobuf.UInt32Value -
F retry_budget retryBudget 8 message s envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget -
F track_remaining trackRemaining 6 bool s - -
F max_connection_pools maxConnectionPools 7 message s google.protobuf.UInt32Value -
M envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget
F budget_percent budgetPercent 1 message s envoy.type.v3.Percent -
F min_retry_concurrency minRetryConcurrency 2 message s google.protobuf.UInt32Value -
M google.protobuf.Empty
M envoy.config.core.v3.GrpcService
F envoy_grpc envoyGrpc 1 message s envoy.config.core.v3.GrpcService.EnvoyGrpc target_specifier
F google_grpc googleGrpc 2 message s envoy.config.core.v3.GrpcService.GoogleGrpc target_specifier
F timeout timeout 3 message s google.protobuf.Duration -
F initial_metadata initialMetadata 5 message r envoy.config.core.v3.HeaderValue -
F retry_policy retryPolicy 6 message s envoy.config.core.v3.RetryPolicy -
M envoy.config.core.v3.GrpcService.EnvoyGrpc
F cluster_name clusterName 1 string s - -
F authority authority 2 string s - -
F retry_policy retryPolicy 3 message s envoy.config.core.v3.RetryPolicy -
F max_receive_message_length maxReceiveMessageLength 4 message s google.protobuf.UInt32Value -
F skip_envoy_headers skipEnvoyHeaders 5 bool s - -
M envoy.config.core.v3.GrpcService.GoogleGrpc
F target_uri targetUri 1 string s - -
F channel_credentials channelCredentials 2 message s envoy.config.core.v3.GrpcService.GoogleGrpc.ChannelCredentials -
F channel_credentials_plugin channelCredentialsPlugin 9 message r google.protobuf.Any -
F call_credentials callCredentials 3 message r envoy.config.core.v3.GrpcService.GoogleGrpc.CallCredentials -
F call_credentials_plugin callCredentialsPlugin 10 message r google.protobuf.Any -
F stat_prefix statPrefix 4 string s - -
F credentials_factory_name credentialsFactoryName 5 string s - -
F config config 6 message s google.protobuf.Struct -
F per_stream_buffer_limit_bytes perStreamBufferLimitBytes 7 message s google.protobuf.UInt32Value -
F channel_args channelArgs 8 message s envoy.config.core.v3.GrpcService.GoogleGrpc.ChannelArgs -
M envoy.config.core.v3.GrpcService.GoogleGrpc.SslCredentials
F root_certs rootCerts 1 message s envoy.config.core.v3.DataSource -
F private_key privateKey 2 message s envoy.config.core.v3.DataSource -
F cert_chain certChain 3 message s envoy.config.core.v3.DataSource -
M envoy.config.core.v3.GrpcService.GoogleGrpc.GoogleLocalCredentials
M envoy.config.core.v3.GrpcService.GoogleGrpc.ChannelCredentials
F ssl_credentials sslCredentials 1 message s envoy.config.core.v3.GrpcService.GoogleGrpc.SslCredentials credential_specifier
F google_default googleDefault 2 message s google.protobuf.Empty credential_specifier
F local_credentials localCredentials 3 message s envoy.config.core.v3.GrpcService.GoogleGrpc.GoogleLocalCredentials credential_specifier
M envoy.config.core.v3.GrpcService.GoogleGrpc.CallCredentials
F access_token accessToken 1 string s - credential_specifier
F google_compute_engine googleComputeEngine 2 message s google.protobuf.Empty credential_specifier
F google_refresh_token googleRefreshToken 3 string s - credential_specifier
F service_account_jwt_access serviceAccountJwtAccess 4 message s envoy.config.core.v3.GrpcService.GoogleGrpc.CallCredentials.ServiceAccountJWTAccessCredentials credential_specifier
F google_iam googleIam 5 message s envoy.config.core.v3.GrpcService.GoogleGrpc.CallCredentials.GoogleIAMCredentials credential_specifier
F from_plugin fromPlugin 6 message s envoy.config.core.v3.GrpcService.GoogleGrpc.CallCredentials.MetadataCredentialsFromPlugin credential_specifier
F sts_service stsService 7 message s envoy.config.core.v3.GrpcService.GoogleGrpc.CallCredentials.StsService credential_specifier
M envoy.config.core.v3.GrpcService.GoogleGrpc.CallCredentials.ServiceAccountJWTAccessCredentials
F json_key jsonKey 1 string s - -
F token_lifetime_seconds tokenLifetimeSeconds 2 uint64 s - -
M envoy.config.core.v3.GrpcService.GoogleGrpc.CallCredentials.GoogleIAMCredentials
F authorization_token authorizationToken 1 string s - -
F authority_selector authoritySelector 2 string s - -
M envoy.config.core.v3.GrpcService.GoogleGrpc.CallCredentials.MetadataCredentialsFromPlugin
F name name 1 string s - -
F typed_config typedConfig 3 message s google.protobuf.Any config_type
M envoy.config.core.v3.GrpcService.GoogleGrpc.CallCredentials.StsService
F token_exchange_service_uri tokenExchangeServiceUri 1 string s - -
F resource resource 2 string s - -
F audience audience 3 string s - -
F scope scope 4 string s - -
F requested_token_type requestedTokenType 5 string s - -
F subject_token_path subjectTokenPath 6 string s - -
F subject_token_type subjectTokenType 7 string s - -
F actor_token_path actorTokenPath 8 string s - -
F actor_token_type actorTokenType 9 string s - -
M envoy.config.core.v3.GrpcService.GoogleGrpc.ChannelArgs
F args args 1 message r envoy.config.core.v3.GrpcService.GoogleGrpc.ChannelArgs.ArgsEntry -
M envoy.config.core.v3.GrpcService.GoogleGrpc.ChannelArgs.Value
F string_value stringValue 1 string s - value_specifier
F int_value intValue 2 int64 s - value_specifier
M envoy.config.core.v3.GrpcService.GoogleGrpc.ChannelArgs.ArgsEntry map
F key key 1 string s - -
F value value 2 message s envoy.config.core.v3.GrpcService.GoogleGrpc.ChannelArgs.Value -
M xds.core.v3.Authority
F name name 1 string s - -
M envoy.config.core.v3.ApiConfigSource
F api_type apiType 1 enum s envoy.config.core.v3.ApiConfigSource.ApiType -
F transport_api_version transportApiVersion 8 enum s envoy.config.core.v3.ApiVersion -
F cluster_names clusterNames 2 string r - -
F grpc_services grpcServices 4 message r envoy.config.core.v3.GrpcService -
F refresh_delay refreshDelay 3 message s google.protobuf.Duration -
F request_timeout requestTimeout 5 message s google.protobuf.Duration -
F rate_limit_settings rateLimitSettings 6 message s envoy.config.core.v3.RateLimitSettings -
F set_node_on_first_message_only setNodeOnFirstMessageOnly 7 bool s - -
F config_validators configValidators 9 message r envoy.config.core.v3.TypedExtensionConfig -
E envoy.config.core.v3.ApiConfigSource.ApiType DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE=0 REST=1 GRPC=2 DELTA_GRPC=3 AGGREGATED_GRPC=5 AGGREGATED_DELTA_GRPC=6
M envoy.config.core.v3.AggregatedConfigSource
M envoy.config.core.v3.SelfConfigSource
F transport_api_version transportApiVersion 1 enum s envoy.config.core.v3.ApiVersion -
M envoy.config.core.v3.RateLimitSettings
F max_tokens maxTokens 1 message s google.protobuf.UInt32Value -
F fill_rate fillRate 2 message s google.protobuf.DoubleValue -
M envoy.config.core.v3.PathConfigSource
F path path 1 string s - -
F watched_directory watchedDirectory 2 message s envoy.config.core.v3.WatchedDirectory -
M envoy.config.core.v3.ConfigSource
F authorities authorities 7 message r xds.core.v3.Authority -
F path path 1 string s - config_source_specifier deprecated
F path_config_source pathConfigSource 8 message s envoy.config.core.v3.PathConfigSource config_source_specifier
F api_config_source apiConfigSource 2 message s envoy.config.core.v3.ApiConfigSource config_source_specifier
F ads ads 3 message s envoy.config.core.v3.AggregatedConfigSource config_source_specifier
F self self 5 message s envoy.config.core.v3.SelfConfigSource config_source_specifier
F initial_fetch_timeout initialFetchTimeout 4 message s google.protobuf.Duration -
F resource_api_version resourceApiVersion 6 enum s envoy.config.core.v3.ApiVersion -
M envoy.config.core.v3.ExtensionConfigSource
F config_source configSource 1 message s envoy.config.core.v3.ConfigSource -
F default_config defaultConfig 2 message s google.protobuf.Any -
F apply_default_config_without_warming applyDefaultConfigWithoutWarming 3 bool s - -
F type_urls typeUrls 4 string r - -
E envoy.config.core.v3.ApiVersion AUTO=0 V2=1 V3=2
M envoy.config.cluster.v3.Filter
F name name 1 string s - -
F typed_config typedConfig 2 message s google.protobuf.Any -
F config_discovery configDiscovery 3 message s envoy.config.core.v3.ExtensionConfigSource -
M envoy.config.cluster.v3.OutlierDetection
F consecutive_5xx consecutive5xx 1 message s google.protobuf.UInt32Value -
F interval interval 2 message s google.protobuf.Duration -
F base_ejection_time baseEjectionTime 3 message s google.protobuf.Duration -
F max_ejection_percent maxEjectionPercent 4 message s google.protobuf.UInt32Value -
F enforcing_consecutive_5xx enforcingConsecutive5xx 5 message s google.protobuf.UInt32Value -
F enforcing_success_rate enforcingSuccessRate 6 message s google.protobuf.UInt32Value -
F success_rate_minimum_hosts successRateMinimumHosts 7 message s google.protobuf.UInt32Value -
F success_rate_request_volume successRateRequestVolume 8 message s google.protobuf.UInt32Value -
F success_rate_stdev_factor successRateStdevFactor 9 message s google.protobuf.UInt32Value -
F consecutive_gateway_failure consecutiveGatewayFailure 10 message s google.protobuf.UInt32Value -
F enforcing_consecutive_gateway_failure enforcingConsecutiveGatewayFailure 11 message s google.protobuf.UInt32Value -
F split_external_local_origin_errors splitExternalLocalOriginErrors 12 bool s - -
F consecutive_local_origin_failure consecutiveLocalOriginFailure 13 message s google.protobuf.UInt32Value -
F enforcing_consecutive_local_origin_failure enforcingConsecutiveLocalOriginFailure 14 message s google.protobuf.UInt32Value -
F enforcing_local_origin_success_rate enforcingLocalOriginSuccessRate 15 message s google.protobuf.UInt32Value -
F failure_percentage_threshold failurePercentageThreshold 16 message s google.protobuf.UInt32Value -
F enforcing_failure_percentage enforcingFailurePercentage 17 message s google.protobuf.UInt32Value -
F enforcing_failure_percentage_local_origin enforcingFailurePercentageLocalOrigin 18 message s google.protobuf.UInt32Value -
F failure_percentage_minimum_hosts failurePercentageMinimumHosts 19 message s google.protobuf.UInt32Value -
F failure_percentage_request_volume failurePercentageRequestVolume 20 message s google.protobuf.UInt32Value -
F max_ejection_time maxEjectionTime 21 message s google.protobuf.Duration -
F max_ejection_time_jitter maxEjectionTimeJitter 22 message s google.protobuf.Duration -
F successful_active_health_check_uneject_host successfulActiveHealthCheckUnejectHost 23 message s google.protobuf.BoolValue -
F monitors monitors 24 message r envoy.config.core.v3.TypedExtensionConfig -
F always_eject_one_host alwaysEjectOneHost 25 message s google.protobuf.BoolValue -
M envoy.config.core.v3.EventServiceConfig
F grpc_service grpcService 1 message s envoy.config.core.v3.GrpcService config_source_specifier
E envoy.type.v3.CodecClientType HTTP1=0 HTTP2=1 HTTP3=2
M envoy.config.core.v3.HealthStatusSet
F statuses statuses 1 enum r envoy.config.core.v3.HealthStatus -
M envoy.config.core.v3.HealthCheck
F timeout timeout 1 message s google.protobuf.Duration -
F interval interval 2 message s google.protobuf.Duration -
F initial_jitter initialJitter 20 message s google.protobuf.Duration -
F interval_jitter intervalJitter 3 message s google.protobuf.Duration -
F interval_jitter_percent intervalJitterPercent 18 uint32 s - -
F unhealthy_threshold unhealthyThreshold 4 message s google.protobuf.UInt32Value -
F healthy_threshold healthyThreshold 5 message s google.protobuf.UInt32Value -
F alt_port altPort 6 message s google.protobuf.UInt32Value -
F reuse_connection reuseConnection 7 message s google.protobuf.BoolValue -
F http_health_check httpHealthCheck 8 message s envoy.config.core.v3.HealthCheck.HttpHealthCheck health_checker
F tcp_health_check tcpHealthCheck 9 message s envoy.config.core.v3.HealthCheck.TcpHealthCheck health_checker
F grpc_health_check grpcHealthCheck 11 message s envoy.config.core.v3.HealthCheck.GrpcHealthCheck health_checker
F custom_health_check customHealthCheck 13 message s envoy.config.core.v3.HealthCheck.CustomHealthCheck health_checker
F no_traffic_interval noTrafficInterval 12 message s google.protobuf.Duration -
F no_traffic_healthy_interval noTrafficHealthyInterval 24 message s google.protobuf.Duration -
F unhealthy_interval unhealthyInterval 14 message s google.protobuf.Duration -
F unhealthy_edge_interval unhealthyEdgeInterval 15 message s google.protobuf.Duration -
F healthy_edge_interval healthyEdgeInterval 16 message s google.protobuf.Duration -
F event_log_path eventLogPath 17 string s - - deprecated
F event_logger eventLogger 25 message r envoy.config.core.v3.TypedExtensionConfig -
F event_service eventService 22 message s envoy.config.core.v3.EventServiceConfig -
F always_log_health_check_failures alwaysLogHealthCheckFailures 19 bool s - -
F always_log_health_check_success alwaysLogHealthCheckSuccess 26 bool s - -
F tls_options tlsOptions 21 message s envoy.config.core.v3.HealthCheck.TlsOptions -
F transport_socket_match_criteria transportSocketMatchCriteria 23 message s google.protobuf.Struct -
M envoy.config.core.v3.HealthCheck.Payload
F text text 1 string s - payload
F binary binary 2 bytes s - payload
M envoy.config.core.v3.HealthCheck.HttpHealthCheck
F host host 1 string s - -
F path path 2 string s - -
F send send 3 message s envoy.config.core.v3.HealthCheck.Payload -
F receive receive 4 message r envoy.config.core.v3.HealthCheck.Payload -
F response_buffer_size responseBufferSize 14 message s google.protobuf.UInt64Value -
F request_headers_to_add requestHeadersToAdd 6 message r envoy.config.core.v3.HeaderValueOption -
F request_headers_to_remove requestHeadersToRemove 8 string r - -
F expected_statuses expectedStatuses 9 message r envoy.type.v3.Int64Range -
F retriable_statuses retriableStatuses 12 message r envoy.type.v3.Int64Range -
F codec_client_type codecClientType 10 enum s envoy.type.v3.CodecClientType -
F service_name_matcher serviceNameMatcher 11 message s envoy.type.matcher.v3.StringMatcher -
F method method 13 enum s envoy.config.core.v3.RequestMethod -
M envoy.config.core.v3.HealthCheck.TcpHealthCheck
F send send 1 message s envoy.config.core.v3.HealthCheck.Payload -
F receive receive 2 message r envoy.config.core.v3.HealthCheck.Payload -
F proxy_protocol_config proxyProtocolConfig 3 message s envoy.config.core.v3.ProxyProtocolConfig -
M envoy.config.core.v3.HealthCheck.RedisHealthCheck
F key key 1 string s - -
M envoy.config.core.v3.HealthCheck.GrpcHealthCheck
F service_name serviceName 1 string s - -
F authority authority 2 string s - -
F initial_metadata initialMetadata 3 message r envoy.config.core.v3.HeaderValueOption -
M envoy.config.core.v3.HealthCheck.CustomHealthCheck
F name name 1 string s - -
F typed_config typedConfig 3 message s google.protobuf.Any config_type
M envoy.config.core.v3.HealthCheck.TlsOptions
F alpn_protocols alpnProtocols 1 string r - -
E envoy.config.core.v3.HealthStatus UNKNOWN=0 HEALTHY=1 UNHEALTHY=2 DRAINING=3 TIMEOUT=4 DEGRADED=5
M envoy.config.core.v3.TcpProtocolOptions
M envoy.config.core.v3.QuicKeepAliveSettings
F max_interval maxInterval 1 message s google.protobuf.Duration -
F initial_interval initialInterval 2 message s google.protobuf.Duration -
M envoy.config.core.v3.QuicProtocolOptions
F max_concurrent_streams maxConcurrentStreams 1 message s google.protobuf.UInt32Value -
F initial_stream_window_size initialStreamWindowSize 2 message s google.protobuf.UInt32Value -
F initial_connection_window_size initialConnectionWindowSize 3 message s google.protobuf.UInt32Value -
F num_timeouts_to_trigger_port_migration numTimeoutsToTriggerPortMigration 4 message s google.protobuf.UInt32Value -
F connection_keepalive connectionKeepalive 5 message s envoy.config.core.v3.QuicKeepAliveSettings -
F connection_options connectionOptions 6 string s - -
F client_connection_options clientConnectionOptions 7 string s - -
F idle_network_timeout idleNetworkTimeout 8 message s google.protobuf.Duration -
F max_packet_length maxPacketLength 9 message s google.protobuf.UInt64Value -
M envoy.config.core.v3.UpstreamHttpProtocolOptions
F auto_sni autoSni 1 bool s - -
F auto_san_validation autoSanValidation 2 bool s - -
F override_auto_sni_header overrideAutoSniHeader 3 string s - -
M envoy.config.core.v3.AlternateProtocolsCacheOptions
F name name 1 string s - -
F max_entries maxEntries 2 message s google.protobuf.UInt32Value -
F key_value_store_config keyValueStoreConfig 3 message s envoy.config.core.v3.TypedExtensionConfig -
F prepopulated_entries prepopulatedEntries 4 message r envoy.config.core.v3.AlternateProtocolsCacheOptions.AlternateProtocolsCacheEntry -
F canonical_suffixes canonicalSuffixes 5 string r - -
M envoy.config.core.v3.AlternateProtocolsCacheOptions.AlternateProtocolsCacheEntry
F hostname hostname 1 string s - -
F port port 2 uint32 s - -
M envoy.config.core.v3.HttpProtocolOptions
F idle_timeout idleTimeout 1 message s google.protobuf.Duration -
F max_connection_duration maxConnectionDuration 3 message s google.protobuf.Duration -
F max_headers_count maxHeadersCount 2 message s google.protobuf.UInt32Value -
F max_response_headers_kb maxResponseHeadersKb 7 message s google.protobuf.UInt32Value -
F max_stream_duration maxStreamDuration 4 message s google.protobuf.Duration -
F headers_with_underscores_action headersWithUnderscoresAction 5 enum s envoy.config.core.v3.HttpProtocolOptions.HeadersWithUnderscoresAction -
F max_requests_per_connection maxRequestsPerConnection 6 message s google.protobuf.UInt32Value -
E envoy.config.core.v3.HttpProtocolOptions.HeadersWithUnderscoresAction ALLOW=0 REJECT_REQUEST=1 DROP_HEADER=2
M envoy.config.core.v3.Http1ProtocolOptions
F allow_absolute_url allowAbsoluteUrl 1 message s google.protobuf.BoolValue -
F accept_http_10 acceptHttp10 2 bool s - -
F default_host_for_http_10 defaultHostForHttp10 3 string s - -
F header_key_format headerKeyFormat 4 message s envoy.config.core.v3.Http1ProtocolOptions.HeaderKeyFormat -
F enable_trailers enableTrailers 5 bool s - -
F allow_chunked_length allowChunkedLength 6 bool s - -
F override_stream_error_on_invalid_http_message overrideStreamErrorOnInvalidHttpMessage 7 message s google.protobuf.BoolValue -
F send_fully_qualified_url sendFullyQualifiedUrl 8 bool s - -
F use_balsa_parser useBalsaParser 9 message s google.protobuf.BoolValue - deprecated
F allow_custom_methods allowCustomMethods 10 bool s - -
F ignore_http_11_upgrade ignoreHttp11Upgrade 11 message r envoy.type.matcher.v3.StringMatcher -
M envoy.config.core.v3.Http1ProtocolOptions.HeaderKeyFormat
F proper_case_words properCaseWords 1 message s envoy.config.core.v3.Http1ProtocolOptions.HeaderKeyFormat.ProperCaseWords header_format
F stateful_formatter statefulFormatter 8 message s envoy.config.core.v3.TypedExtensionConfig header_format
M envoy.config.core.v3.Http1ProtocolOptions.HeaderKeyFormat.ProperCaseWords
M envoy.config.core.v3.KeepaliveSettings
F interval interval 1 message s google.protobuf.Duration -
F timeout timeout 2 message s google.protobuf.Duration -
F interval_jitter intervalJitter 3 message s envoy.type.v3.Percent -
F connection_idle_interval connectionIdleInterval 4 message s google.protobuf.Duration -
M envoy.config.core.v3.Http2ProtocolOptions
F hpack_table_size hpackTableSize 1 message s google.protobuf.UInt32Value -
F max_concurrent_streams maxConcurrentStreams 2 message s google.protobuf.UInt32Value -
F initial_stream_window_size initialStreamWindowSize 3 message s google.protobuf.UInt32Value -
F initial_connection_window_size initialConnectionWindowSize 4 message s google.protobuf.UInt32Value -
F allow_connect allowConnect 5 bool s - -
F allow_metadata allowMetadata 6 bool s - -
F max_outbound_frames maxOutboundFrames 7 message s google.protobuf.UInt32Value -
F max_outbound_control_frames maxOutboundControlFrames 8 message s google.protobuf.UInt32Value -
F max_consecutive_inbound_frames_with_empty_payload maxConsecutiveInboundFramesWithEmptyPayload 9 message s google.protobuf.UInt32Value -
F max_inbound_priority_frames_per_stream maxInboundPriorityFramesPerStream 10 message s google.protobuf.UInt32Value -
F max_inbound_window_update_frames_per_data_frame_sent maxInboundWindowUpdateFramesPerDataFrameSent 11 message s google.protobuf.UInt32Value -
F stream_error_on_invalid_http_messaging streamErrorOnInvalidHttpMessaging 12 bool s - - deprecated
F override_stream_error_on_invalid_http_message overrideStreamErrorOnInvalidHttpMessage 14 message s google.protobuf.BoolValue -
F custom_settings_parameters customSettingsParameters 13 message r envoy.config.core.v3.Http2ProtocolOptions.SettingsParameter -
F connection_keepalive connectionKeepalive 15 message s envoy.config.core.v3.KeepaliveSettings -
F use_oghttp2_codec useOghttp2Codec 16 message s google.protobuf.BoolValue -
F max_metadata_size maxMetadataSize 17 message s google.protobuf.UInt64Value -
M envoy.config.core.v3.Http2ProtocolOptions.SettingsParameter
F identifier identifier 1 message s google.protobuf.UInt32Value -
F value value 2 message s google.protobuf.UInt32Value -
M envoy.config.core.v3.GrpcProtocolOptions
F http2_protocol_options http2ProtocolOptions 1 message s envoy.config.core.v3.Http2ProtocolOptions -
M envoy.config.core.v3.Http3ProtocolOptions
F quic_protocol_options quicProtocolOptions 1 message s envoy.config.core.v3.QuicProtocolOptions -
F override_stream_error_on_invalid_http_message overrideStreamErrorOnInvalidHttpMessage 2 message s google.protobuf.BoolValue -
F allow_extended_connect allowExtendedConnect 5 bool s - -
F allow_metadata allowMetadata 6 bool s - -
F disable_qpack disableQpack 7 bool s - -
F disable_connection_flow_control_for_streams disableConnectionFlowControlForStreams 8 bool s - -
M envoy.config.core.v3.SchemeHeaderTransformation
F scheme_to_overwrite schemeToOverwrite 1 string s - transformation
F match_upstream matchUpstream 2 bool s - -
M envoy.config.core.v3.DnsResolverOptions
F use_tcp_for_dns_lookups useTcpForDnsLookups 1 bool s - -
F no_default_search_domain noDefaultSearchDomain 2 bool s - -
M envoy.config.core.v3.DnsResolutionConfig
F resolvers resolvers 1 message r envoy.config.core.v3.Address -
F dns_resolver_options dnsResolverOptions 2 message s envoy.config.core.v3.DnsResolverOptions -
M xds.core.v3.ResourceLocator
F scheme scheme 1 enum s xds.core.v3.ResourceLocator.Scheme -
F id id 2 string s - -
F authority authority 3 string s - -
F resource_type resourceType 4 string s - -
F exact_context exactContext 5 message s xds.core.v3.ContextParams context_param_specifier
F directives directives 6 message r xds.core.v3.ResourceLocator.Directive -
M xds.core.v3.ResourceLocator.Directive
F alt alt 1 message s xds.core.v3.ResourceLocator directive
F entry entry 2 string s - directive
E xds.core.v3.ResourceLocator.Scheme XDSTP=0 HTTP=1 FILE=2
M xds.core.v3.CollectionEntry
F locator locator 1 message s xds.core.v3.ResourceLocator resource_specifier
F inline_entry inlineEntry 2 message s xds.core.v3.CollectionEntry.InlineEntry resource_specifier
M xds.core.v3.CollectionEntry.InlineEntry
F name name 1 string s - -
F version version 2 string s - -
F resource resource 3 message s google.protobuf.Any -
M envoy.config.endpoint.v3.Endpoint
F address address 1 message s envoy.config.core.v3.Address -
F health_check_config healthCheckConfig 2 message s envoy.config.endpoint.v3.Endpoint.HealthCheckConfig -
F hostname hostname 3 string s - -
F additional_addresses additionalAddresses 4 message r envoy.config.endpoint.v3.Endpoint.AdditionalAddress -
M envoy.config.endpoint.v3.Endpoint.HealthCheckConfig
F port_value portValue 1 uint32 s - -
F hostname hostname 2 string s - -
F address address 3 message s envoy.config.core.v3.Address -
F disable_active_health_check disableActiveHealthCheck 4 bool s - -
M envoy.config.endpoint.v3.Endpoint.AdditionalAddress
F address address 1 message s envoy.config.core.v3.Address -
M envoy.config.endpoint.v3.LbEndpoint
F endpoint endpoint 1 message s envoy.config.endpoint.v3.Endpoint host_identifier
F endpoint_name endpointName 5 string s - host_identifier
F health_status healthStatus 2 enum s envoy.config.core.v3.HealthStatus -
F metadata metadata 3 message s envoy.config.core.v3.Metadata -
F load_balancing_weight loadBalancingWeight 4 message s google.protobuf.UInt32Value -
M envoy.config.endpoint.v3.LbEndpointCollection
F entries entries 1 message s xds.core.v3.CollectionEntry -
M envoy.config.endpoint.v3.LedsClusterLocalityConfig
F leds_config ledsConfig 1 message s envoy.config.core.v3.ConfigSource -
F leds_collection_name ledsCollectionName 2 string s - -
M envoy.config.endpoint.v3.LocalityLbEndpoints
F locality locality 1 message s envoy.config.core.v3.Locality -
F metadata metadata 9 message s envoy.config.core.v3.Metadata -
F lb_endpoints lbEndpoints 2 message r envoy.config.endpoint.v3.LbEndpoint -
F load_balancer_endpoints loadBalancerEndpoints 7 message s envoy.config.endpoint.v3.LocalityLbEndpoints.LbEndpointList lb_config deprecated
F leds_cluster_locality_config ledsClusterLocalityConfig 8 message s envoy.config.endpoint.v3.LedsClusterLocalityConfig lb_config
F load_balancing_weight loadBalancingWeight 3 message s google.protobuf.UInt32Value -
F priority priority 5 uint32 s - -
F proximity proximity 6 message s google.protobuf.UInt32Value -
M envoy.config.endpoint.v3.LocalityLbEndpoints.LbEndpointList
F lb_endpoints lbEndpoints 1 message r envoy.config.endpoint.v3.LbEndpoint -
M envoy.config.endpoint.v3.ClusterLoadAssignment
F cluster_name clusterName 1 string s - -
F endpoints endpoints 2 message r envoy.config.endpoint.v3.LocalityLbEndpoints -
F named_endpoints namedEndpoints 5 message r envoy.config.endpoint.v3.ClusterLoadAssignment.NamedEndpointsEntry -
F policy policy 4 message s envoy.config.endpoint.v3.ClusterLoadAssignment.Policy -
M envoy.config.endpoint.v3.ClusterLoadAssignment.Policy
F drop_overloads dropOverloads 2 message r envoy.config.endpoint.v3.ClusterLoadAssignment.Policy.DropOverload -
F overprovisioning_factor overprovisioningFactor 3 message s google.protobuf.UInt32Value -
F endpoint_stale_after endpointStaleAfter 4 message s google.protobuf.Duration -
F weighted_priority_health weightedPriorityHealth 6 bool s - -
M envoy.config.endpoint.v3.ClusterLoadAssignment.Policy.DropOverload
F category category 1 string s - -
F drop_percentage dropPercentage 2 message s envoy.type.v3.FractionalPercent -
M envoy.config.endpoint.v3.ClusterLoadAssignment.NamedEndpointsEntry map
F key key 1 string s - -
F value value 2 message s envoy.config.endpoint.v3.Endpoint -
M udpa.annotations.FieldSecurityAnnotation
F configure_for_untrusted_downstream configureForUntrustedDownstream 1 bool s - -
F configure_for_untrusted_upstream configureForUntrustedUpstream 2 bool s - -
M envoy.config.cluster.v3.ClusterCollection
F entries entries 1 message s xds.core.v3.CollectionEntry -
M envoy.config.cluster.v3.Cluster
F transport_socket_matches transportSocketMatches 43 message r envoy.config.cluster.v3.Cluster.TransportSocketMatch -
F transport_socket_matcher transportSocketMatcher 59 message s xds.type.matcher.v3.Matcher -
F name name 1 string s - -
F alt_stat_name altStatName 28 string s - -
F type type 2 enum s envoy.config.cluster.v3.Cluster.DiscoveryType cluster_discovery_type
F cluster_type clusterType 38 message s envoy.config.cluster.v3.Cluster.CustomClusterType cluster_discovery_type
F eds_cluster_config edsClusterConfig 3 message s envoy.config.cluster.v3.Cluster.EdsClusterConfig -
F connect_timeout connectTimeout 4 message s google.protobuf.Duration -
F per_connection_buffer_limit_bytes perConnectionBufferLimitBytes 5 message s google.protobuf.UInt32Value -
F lb_policy lbPolicy 6 enum s envoy.config.cluster.v3.Cluster.LbPolicy -
F load_assignment loadAssignment 33 message s envoy.config.endpoint.v3.ClusterLoadAssignment -
F health_checks healthChecks 8 message r envoy.config.core.v3.HealthCheck -
F max_requests_per_connection maxRequestsPerConnection 9 message s google.protobuf.UInt32Value - deprecated
F circuit_breakers circuitBreakers 10 message s envoy.config.cluster.v3.CircuitBreakers -
F upstream_http_protocol_options upstreamHttpProtocolOptions 46 message s envoy.config.core.v3.UpstreamHttpProtocolOptions - deprecated
F common_http_protocol_options commonHttpProtocolOptions 29 message s envoy.config.core.v3.HttpProtocolOptions - deprecated
F http_protocol_options httpProtocolOptions 13 message s envoy.config.core.v3.Http1ProtocolOptions - deprecated
F http2_protocol_options http2ProtocolOptions 14 message s envoy.config.core.v3.Http2ProtocolOptions - deprecated
F typed_extension_protocol_options typedExtensionProtocolOptions 36 message r envoy.config.cluster.v3.Cluster.TypedExtensionProtocolOptionsEntry -
F dns_refresh_rate dnsRefreshRate 16 message s google.protobuf.Duration - deprecated
F dns_jitter dnsJitter 58 message s google.protobuf.Duration - deprecated
F dns_failure_refresh_rate dnsFailureRefreshRate 44 message s envoy.config.cluster.v3.Cluster.RefreshRate - deprecated
F respect_dns_ttl respectDnsTtl 39 bool s - - deprecated
F dns_lookup_family dnsLookupFamily 17 enum s envoy.config.cluster.v3.Cluster.DnsLookupFamily -
F dns_resolvers dnsResolvers 18 message r envoy.config.core.v3.Address - deprecated
F use_tcp_for_dns_lookups useTcpForDnsLookups 45 bool s - - deprecated
F dns_resolution_config dnsResolutionConfig 53 message s envoy.config.core.v3.DnsResolutionConfig - deprecated
F typed_dns_resolver_config typedDnsResolverConfig 55 message s envoy.config.core.v3.TypedExtensionConfig -
F wait_for_warm_on_init waitForWarmOnInit 54 message s google.protobuf.BoolValue -
F outlier_detection outlierDetection 19 message s envoy.config.cluster.v3.OutlierDetection -
F cleanup_interval cleanupInterval 20 message s google.protobuf.Duration -
F upstream_bind_config upstreamBindConfig 21 message s envoy.config.core.v3.BindConfig -
F lb_subset_config lbSubsetConfig 22 message s envoy.config.cluster.v3.Cluster.LbSubsetConfig -
F ring_hash_lb_config ringHashLbConfig 23 message s envoy.config.cluster.v3.Cluster.RingHashLbConfig lb_config
F maglev_lb_config maglevLbConfig 52 message s envoy.config.cluster.v3.Cluster.MaglevLbConfig lb_config
F original_dst_lb_config originalDstLbConfig 34 message s envoy.config.cluster.v3.Cluster.OriginalDstLbConfig lb_config
F least_request_lb_config leastRequestLbConfig 37 message s envoy.config.cluster.v3.Cluster.LeastRequestLbConfig lb_config
F round_robin_lb_config roundRobinLbConfig 56 message s envoy.config.cluster.v3.Cluster.RoundRobinLbConfig lb_config
F common_lb_config commonLbConfig 27 message s envoy.config.cluster.v3.Cluster.CommonLbConfig -
F transport_socket transportSocket 24 message s envoy.config.core.v3.TransportSocket -
F metadata metadata 25 message s envoy.config.core.v3.Metadata -
F protocol_selection protocolSelection 26 enum s envoy.config.cluster.v3.Cluster.ClusterProtocolSelection - deprecated
F upstream_connection_options upstreamConnectionOptions 30 message s envoy.config.cluster.v3.UpstreamConnectionOptions -
F close_connections_on_host_health_failure closeConnectionsOnHostHealthFailure 31 bool s - -
F ignore_health_on_host_removal ignoreHealthOnHostRemoval 32 bool s - -
F filters filters 40 message r envoy.config.cluster.v3.Filter -
F load_balancing_policy loadBalancingPolicy 41 message s envoy.config.cluster.v3.LoadBalancingPolicy -
F lrs_server lrsServer 42 message s envoy.config.core.v3.ConfigSource -
F lrs_report_endpoint_metrics lrsReportEndpointMetrics 57 string r - -
F track_timeout_budgets trackTimeoutBudgets 47 bool s - - deprecated
F upstream_config upstreamConfig 48 message s envoy.config.core.v3.TypedExtensionConfig -
F track_cluster_stats trackClusterStats 49 message s envoy.config.cluster.v3.TrackClusterStats -
F preconnect_policy preconnectPolicy 50 message s envoy.config.cluster.v3.Cluster.PreconnectPolicy -
F connection_pool_per_downstream_connection connectionPoolPerDownstreamConnection 51 bool s - -
M envoy.config.cluster.v3.Cluster.TransportSocketMatch
F name name 1 string s - -
F match match 2 message s google.protobuf.Struct -
F transport_socket transportSocket 3 message s envoy.config.core.v3.TransportSocket -
M envoy.config.cluster.v3.Cluster.CustomClusterType
F name name 1 string s - -
F typed_config typedConfig 2 message s google.protobuf.Any -
M envoy.config.cluster.v3.Cluster.EdsClusterConfig
F eds_config edsConfig 1 message s envoy.config.core.v3.ConfigSource -
F service_name serviceName 2 string s - -
M envoy.config.cluster.v3.Cluster.LbSubsetConfig
F fallback_policy fallbackPolicy 1 enum s envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetFallbackPolicy -
F default_subset defaultSubset 2 message s google.protobuf.Struct -
F subset_selectors subsetSelectors 3 message r envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetSelector -
F locality_weight_aware localityWeightAware 4 bool s - -
F scale_locality_weight scaleLocalityWeight 5 bool s - -
F panic_mode_any panicModeAny 6 bool s - -
F list_as_any listAsAny 7 bool s - -
F metadata_fallback_policy metadataFallbackPolicy 8 enum s envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetMetadataFallbackPolicy -
M envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetSelector
F keys keys 1 string r - -
F single_host_per_subset singleHostPerSubset 4 bool s - -
F fallback_policy fallbackPolicy 2 enum s envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetSelector.LbSubsetSelectorFallbackPolicy -
F fallback_keys_subset fallbackKeysSubset 3 string r - -
E envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetSelector.LbSubsetSelectorFallbackPolicy NOT_DEFINED=0 NO_FALLBACK=1 ANY_ENDPOINT=2 DEFAULT_SUBSET=3 KEYS_SUBSET=4
E envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetFallbackPolicy NO_FALLBACK=0 ANY_ENDPOINT=1 DEFAULT_SUBSET=2
E envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetMetadataFallbackPolicy METADATA_NO_FALLBACK=0 FALLBACK_LIST=1
M envoy.config.cluster.v3.Cluster.SlowStartConfig
F slow_start_window slowStartWindow 1 message s google.protobuf.Duration -
F aggression aggression 2 message s envoy.config.core.v3.RuntimeDouble -
F min_weight_percent minWeightPercent 3 message s envoy.type.v3.Percent -
M envoy.config.cluster.v3.Cluster.RoundRobinLbConfig
F slow_start_config slowStartConfig 1 message s envoy.config.cluster.v3.Cluster.SlowStartConfig -
M envoy.config.cluster.v3.Cluster.LeastRequestLbConfig
F choice_count choiceCount 1 message s google.protobuf.UInt32Value -
F active_request_bias activeRequestBias 2 message s envoy.config.core.v3.RuntimeDouble -
F slow_start_config slowStartConfig 3 message s envoy.config.cluster.v3.Cluster.SlowStartConfig -
M envoy.config.cluster.v3.Cluster.RingHashLbConfig
F minimum_ring_size minimumRingSize 1 message s google.protobuf.UInt64Value -
F hash_function hashFunction 3 enum s envoy.config.cluster.v3.Cluster.RingHashLbConfig.HashFunction -
F maximum_ring_size maximumRingSize 4 message s google.protobuf.UInt64Value -
E envoy.config.cluster.v3.Cluster.RingHashLbConfig.HashFunction XX_HASH=0 MURMUR_HASH_2=1
M envoy.config.cluster.v3.Cluster.MaglevLbConfig
F table_size tableSize 1 message s google.protobuf.UInt64Value -
M envoy.config.cluster.v3.Cluster.OriginalDstLbConfig
F use_http_header useHttpHeader 1 bool s - -
F http_header_name httpHeaderName 2 string s - -
F upstream_port_override upstreamPortOverride 3 message s google.protobuf.UInt32Value -
F metadata_key metadataKey 4 message s envoy.type.metadata.v3.MetadataKey -
M envoy.config.cluster.v3.Cluster.CommonLbConfig
F healthy_panic_threshold healthyPanicThreshold 1 message s envoy.type.v3.Percent -
F zone_aware_lb_config zoneAwareLbConfig 2 message s envoy.config.cluster.v3.Cluster.CommonLbConfig.ZoneAwareLbConfig locality_config_specifier
F locality_weighted_lb_config localityWeightedLbConfig 3 message s envoy.config.cluster.v3.Cluster.CommonLbConfig.LocalityWeightedLbConfig locality_config_specifier
F update_merge_window updateMergeWindow 4 message s google.protobuf.Duration -
F ignore_new_hosts_until_first_hc ignoreNewHostsUntilFirstHc 5 bool s - -
F close_connections_on_host_set_change closeConnectionsOnHostSetChange 6 bool s - -
F consistent_hashing_lb_config consistentHashingLbConfig 7 message s envoy.config.cluster.v3.Cluster.CommonLbConfig.ConsistentHashingLbConfig -
F override_host_status overrideHostStatus 8 message s envoy.config.core.v3.HealthStatusSet -
M envoy.config.cluster.v3.Cluster.CommonLbConfig.ZoneAwareLbConfig
F routing_enabled routingEnabled 1 message s envoy.type.v3.Percent -
F min_cluster_size minClusterSize 2 message s google.protobuf.UInt64Value -
F fail_traffic_on_panic failTrafficOnPanic 3 bool s - -
M envoy.config.cluster.v3.Cluster.CommonLbConfig.LocalityWeightedLbConfig
M envoy.config.cluster.v3.Cluster.CommonLbConfig.ConsistentHashingLbConfig
F use_hostname_for_hashing useHostnameForHashing 1 bool s - -
F hash_balance_factor hashBalanceFactor 2 message s google.protobuf.UInt32Value -
M envoy.config.cluster.v3.Cluster.RefreshRate
F base_interval baseInterval 1 message s google.protobuf.Duration -
F max_interval maxInterval 2 message s google.protobuf.Duration -
M envoy.config.cluster.v3.Cluster.PreconnectPolicy
F per_upstream_preconnect_ratio perUpstreamPreconnectRatio 1 message s google.protobuf.DoubleValue -
F predictive_preconnect_ratio predictivePreconnectRatio 2 message s google.protobuf.DoubleValue -
M envoy.config.cluster.v3.Cluster.TypedExtensionProtocolOptionsEntry map
F key key 1 string s - -
F value value 2 message s google.protobuf.Any -
E envoy.config.cluster.v3.Cluster.DiscoveryType STATIC=0 STRICT_DNS=1 LOGICAL_DNS=2 EDS=3 ORIGINAL_DST=4
E envoy.config.cluster.v3.Cluster.LbPolicy ROUND_ROBIN=0 LEAST_REQUEST=1 RING_HASH=2 RANDOM=3 MAGLEV=5 CLUSTER_PROVIDED=6 LOAD_BALANCING_POLICY_CONFIG=7
E envoy.config.cluster.v3.Cluster.DnsLookupFamily AUTO=0 V4_ONLY=1 V6_ONLY=2 V4_PREFERRED=3 ALL=4
E envoy.config.cluster.v3.Cluster.ClusterProtocolSelection USE_CONFIGURED_PROTOCOL=0 USE_DOWNSTREAM_PROTOCOL=1
M envoy.config.cluster.v3.LoadBalancingPolicy
F policies policies 1 message r envoy.config.cluster.v3.LoadBalancingPolicy.Policy -
M envoy.config.cluster.v3.LoadBalancingPolicy.Policy
F typed_extension_config typedExtensionConfig 4 message s envoy.config.core.v3.TypedExtensionConfig -
M envoy.config.cluster.v3.UpstreamConnectionOptions
F tcp_keepalive tcpKeepalive 1 message s envoy.config.core.v3.TcpKeepalive -
F set_local_interface_name_on_upstream_connections setLocalInterfaceNameOnUpstreamConnections 2 bool s - -
F happy_eyeballs_config happyEyeballsConfig 3 message s envoy.config.cluster.v3.UpstreamConnectionOptions.HappyEyeballsConfig -
M envoy.config.cluster.v3.UpstreamConnectionOptions.HappyEyeballsConfig
F first_address_family_version firstAddressFamilyVersion 1 enum s envoy.config.cluster.v3.UpstreamConnectionOptions.FirstAddressFamilyVersion -
F first_address_family_count firstAddressFamilyCount 2 message s google.protobuf.UInt32Value -
E envoy.config.cluster.v3.UpstreamConnectionOptions.FirstAddressFamilyVersion DEFAULT=0 V4=1 V6=2
M envoy.config.cluster.v3.TrackClusterStats
F timeout_budgets timeoutBudgets 1 bool s - -
F request_response_sizes requestResponseSizes 2 bool s - -
F per_endpoint_stats perEndpointStats 3 bool s - -
M envoy.config.listener.v3.ApiListener
F api_listener apiListener 1 message s google.protobuf.Any -
M envoy.config.listener.v3.Filter
F name name 1 string s - -
F typed_config typedConfig 4 message s google.protobuf.Any config_type
F config_discovery configDiscovery 5 message s envoy.config.core.v3.ExtensionConfigSource config_type
M envoy.config.listener.v3.FilterChainMatch
F destination_port destinationPort 8 message s google.protobuf.UInt32Value -
F prefix_ranges prefixRanges 3 message r envoy.config.core.v3.CidrRange -
F address_suffix addressSuffix 4 string s - -
F suffix_len suffixLen 5 message s google.protobuf.UInt32Value -
F direct_source_prefix_ranges directSourcePrefixRanges 13 message r envoy.config.core.v3.CidrRange -
F source_type sourceType 12 enum s envoy.config.listener.v3.FilterChainMatch.ConnectionSourceType -
F source_prefix_ranges sourcePrefixRanges 6 message r envoy.config.core.v3.CidrRange -
F source_ports sourcePorts 7 uint32 r - -
F server_names serverNames 11 string r - -
F transport_protocol transportProtocol 9 string s - -
F application_protocols applicationProtocols 10 string r - -
E envoy.config.listener.v3.FilterChainMatch.ConnectionSourceType ANY=0 SAME_IP_OR_LOOPBACK=1 EXTERNAL=2
M envoy.config.listener.v3.FilterChain
F filter_chain_match filterChainMatch 1 message s envoy.config.listener.v3.FilterChainMatch -
F filters filters 3 message r envoy.config.listener.v3.Filter -
F use_proxy_proto useProxyProto 4 message s google.protobuf.BoolValue - deprecated
F metadata metadata 5 message s envoy.config.core.v3.Metadata -
F transport_socket transportSocket 6 message s envoy.config.core.v3.TransportSocket -
F transport_socket_connect_timeout transportSocketConnectTimeout 9 message s google.protobuf.Duration -
F name name 7 string s - -
M envoy.config.listener.v3.ListenerFilterChainMatchPredicate
F or_match orMatch 1 message s envoy.config.listener.v3.ListenerFilterChainMatchPredicate.MatchSet rule
F and_match andMatch 2 message s envoy.config.listener.v3.ListenerFilterChainMatchPredicate.MatchSet rule
F not_match notMatch 3 message s envoy.config.listener.v3.ListenerFilterChainMatchPredicate rule
F any_match anyMatch 4 bool s - rule
F destination_port_range destinationPortRange 5 message s envoy.type.v3.Int32Range rule
M envoy.config.listener.v3.ListenerFilterChainMatchPredicate.MatchSet
F rules rules 1 message r envoy.config.listener.v3.ListenerFilterChainMatchPredicate -
M envoy.config.listener.v3.ListenerFilter
F name name 1 string s - -
F typed_config typedConfig 3 message s google.protobuf.Any config_type
F config_discovery configDiscovery 5 message s envoy.config.core.v3.ExtensionConfigSource config_type
F filter_disabled filterDisabled 4 message s envoy.config.listener.v3.ListenerFilterChainMatchPredicate -
M envoy.config.core.v3.UdpSocketConfig
F max_rx_datagram_size maxRxDatagramSize 1 message s google.protobuf.UInt64Value -
F prefer_gro preferGro 2 message s google.protobuf.BoolValue -
M envoy.config.core.v3.SocketCmsgHeaders
F level level 1 message s google.protobuf.UInt32Value -
F type type 2 message s google.protobuf.UInt32Value -
F expected_size expectedSize 3 uint32 s - -
M envoy.config.listener.v3.QuicProtocolOptions
F quic_protocol_options quicProtocolOptions 1 message s envoy.config.core.v3.QuicProtocolOptions -
F idle_timeout idleTimeout 2 message s google.protobuf.Duration -
F crypto_handshake_timeout cryptoHandshakeTimeout 3 message s google.protobuf.Duration -
F enabled enabled 4 message s envoy.config.core.v3.RuntimeFeatureFlag -
F packets_to_read_to_connection_count_ratio packetsToReadToConnectionCountRatio 5 message s google.protobuf.UInt32Value -
F crypto_stream_config cryptoStreamConfig 6 message s envoy.config.core.v3.TypedExtensionConfig -
F proof_source_config proofSourceConfig 7 message s envoy.config.core.v3.TypedExtensionConfig -
F connection_id_generator_config connectionIdGeneratorConfig 8 message s envoy.config.core.v3.TypedExtensionConfig -
F server_preferred_address_config serverPreferredAddressConfig 9 message s envoy.config.core.v3.TypedExtensionConfig -
F send_disable_active_migration sendDisableActiveMigration 10 message s google.protobuf.BoolValue -
F connection_debug_visitor_config connectionDebugVisitorConfig 11 message s envoy.config.core.v3.TypedExtensionConfig -
F save_cmsg_config saveCmsgConfig 12 message r envoy.config.core.v3.SocketCmsgHeaders -
F reject_new_connections rejectNewConnections 13 bool s - -
F max_sessions_per_event_loop maxSessionsPerEventLoop 14 message s google.protobuf.UInt32Value -
M envoy.config.listener.v3.UdpListenerConfig
F downstream_socket_config downstreamSocketConfig 5 message s envoy.config.core.v3.UdpSocketConfig -
F quic_options quicOptions 7 message s envoy.config.listener.v3.QuicProtocolOptions -
F udp_packet_packet_writer_config udpPacketPacketWriterConfig 8 message s envoy.config.core.v3.TypedExtensionConfig -
M envoy.config.listener.v3.ActiveRawUdpListenerConfig
M envoy.config.listener.v3.AdditionalAddress
F address address 1 message s envoy.config.core.v3.Address -
F socket_options socketOptions 2 message s envoy.config.core.v3.SocketOptionsOverride -
M envoy.config.listener.v3.ListenerCollection
F entries entries 1 message r xds.core.v3.CollectionEntry -
M envoy.config.listener.v3.Listener
F name name 1 string s - -
F address address 2 message s envoy.config.core.v3.Address -
F additional_addresses additionalAddresses 33 message r envoy.config.listener.v3.AdditionalAddress -
F stat_prefix statPrefix 28 string s - -
F filter_chains filterChains 3 message r envoy.config.listener.v3.FilterChain -
F fcds_config fcdsConfig 36 message s envoy.config.listener.v3.Listener.FcdsConfig -
F filter_chain_matcher filterChainMatcher 32 message s xds.type.matcher.v3.Matcher -
F use_original_dst useOriginalDst 4 message s google.protobuf.BoolValue -
F default_filter_chain defaultFilterChain 25 message s envoy.config.listener.v3.FilterChain -
F per_connection_buffer_limit_bytes perConnectionBufferLimitBytes 5 message s google.protobuf.UInt32Value -
F metadata metadata 6 message s envoy.config.core.v3.Metadata -
F deprecated_v1 deprecatedV1 7 message s envoy.config.listener.v3.Listener.DeprecatedV1 - deprecated
F drain_type drainType 8 enum s envoy.config.listener.v3.Listener.DrainType -
F listener_filters listenerFilters 9 message r envoy.config.listener.v3.ListenerFilter -
F listener_filters_timeout listenerFiltersTimeout 15 message s google.protobuf.Duration -
F continue_on_listener_filters_timeout continueOnListenerFiltersTimeout 17 bool s - -
F transparent transparent 10 message s google.protobuf.BoolValue -
F freebind freebind 11 message s google.protobuf.BoolValue -
F socket_options socketOptions 13 message r envoy.config.core.v3.SocketOption -
F tcp_fast_open_queue_length tcpFastOpenQueueLength 12 message s google.protobuf.UInt32Value -
F traffic_direction trafficDirection 16 enum s envoy.config.core.v3.TrafficDirection -
F udp_listener_config udpListenerConfig 18 message s envoy.config.listener.v3.UdpListenerConfig -
F api_listener apiListener 19 message s envoy.config.listener.v3.ApiListener -
F connection_balance_config connectionBalanceConfig 20 message s envoy.config.listener.v3.Listener.ConnectionBalanceConfig -
F reuse_port reusePort 21 bool s - - deprecated
F enable_reuse_port enableReusePort 29 message s google.protobuf.BoolValue -
F access_log accessLog 22 message r envoy.config.accesslog.v3.AccessLog -
F tcp_backlog_size tcpBacklogSize 24 message s google.protobuf.UInt32Value -
F max_connections_to_accept_per_socket_event maxConnectionsToAcceptPerSocketEvent 34 message s google.protobuf.UInt32Value -
F bind_to_port bindToPort 26 message s google.protobuf.BoolValue -
F internal_listener internalListener 27 message s envoy.config.listener.v3.Listener.InternalListenerConfig listener_specifier
F enable_mptcp enableMptcp 30 bool s - -
F ignore_global_conn_limit ignoreGlobalConnLimit 31 bool s - -
F bypass_overload_manager bypassOverloadManager 35 bool s - -
M envoy.config.listener.v3.Listener.DeprecatedV1
F bind_to_port bindToPort 1 message s google.protobuf.BoolValue -
M envoy.config.listener.v3.Listener.ConnectionBalanceConfig
F exact_balance exactBalance 1 message s envoy.config.listener.v3.Listener.ConnectionBalanceConfig.ExactBalance balance_type
F extend_balance extendBalance 2 message s envoy.config.core.v3.TypedExtensionConfig balance_type
M envoy.config.listener.v3.Listener.ConnectionBalanceConfig.ExactBalance
M envoy.config.listener.v3.Listener.InternalListenerConfig
M envoy.config.listener.v3.Listener.FcdsConfig
F name name 1 string s - -
F config_source configSource 2 message s envoy.config.core.v3.ConfigSource -
E envoy.config.listener.v3.Listener.DrainType DEFAULT=0 MODIFY_ONLY=1
M envoy.config.listener.v3.ListenerManager
M envoy.config.listener.v3.ValidationListenerManager
M envoy.config.listener.v3.ApiListenerManager
M envoy.config.metrics.v3.StatsSink
F name name 1 string s - -
F typed_config typedConfig 3 message s google.protobuf.Any config_type
M envoy.config.metrics.v3.StatsConfig
F stats_tags statsTags 1 message r envoy.config.metrics.v3.TagSpecifier -
F use_all_default_tags useAllDefaultTags 2 message s google.protobuf.BoolValue -
F stats_matcher statsMatcher 3 message s envoy.config.metrics.v3.StatsMatcher -
F histogram_bucket_settings histogramBucketSettings 4 message r envoy.config.metrics.v3.HistogramBucketSettings -
M envoy.config.metrics.v3.StatsMatcher
F reject_all rejectAll 1 bool s - stats_matcher
F exclusion_list exclusionList 2 message s envoy.type.matcher.v3.ListStringMatcher stats_matcher
F inclusion_list inclusionList 3 message s envoy.type.matcher.v3.ListStringMatcher stats_matcher
M envoy.config.metrics.v3.TagSpecifier
F tag_name tagName 1 string s - -
F regex regex 2 string s - tag_value
F fixed_value fixedValue 3 string s - tag_value
M envoy.config.metrics.v3.HistogramBucketSettings
F match match 1 message s envoy.type.matcher.v3.StringMatcher -
F buckets buckets 2 double r - -
F bins bins 3 message s google.protobuf.UInt32Value -
M envoy.config.metrics.v3.StatsdSink
F address address 1 message s envoy.config.core.v3.Address statsd_specifier
F tcp_cluster_name tcpClusterName 2 string s - statsd_specifier
F prefix prefix 3 string s - -
M envoy.config.metrics.v3.DogStatsdSink
F address address 1 message s envoy.config.core.v3.Address dog_statsd_specifier
F prefix prefix 3 string s - -
F max_bytes_per_datagram maxBytesPerDatagram 4 message s google.protobuf.UInt64Value -
M envoy.config.metrics.v3.HystrixSink
F num_buckets numBuckets 1 int64 s - -
M envoy.config.overload.v3.ResourceMonitor
F name name 1 string s - -
F typed_config typedConfig 3 message s google.protobuf.Any config_type
M envoy.config.overload.v3.ThresholdTrigger
F value value 1 double s - -
M envoy.config.overload.v3.ScaledTrigger
F scaling_threshold scalingThreshold 1 double s - -
F saturation_threshold saturationThreshold 2 double s - -
M envoy.config.overload.v3.Trigger
F name name 1 string s - -
F threshold threshold 2 message s envoy.config.overload.v3.ThresholdTrigger trigger_oneof
F scaled scaled 3 message s envoy.config.overload.v3.ScaledTrigger trigger_oneof
M envoy.config.overload.v3.ScaleTimersOverloadActionConfig
F timer_scale_factors timerScaleFactors 1 message r envoy.config.overload.v3.ScaleTimersOverloadActionConfig.ScaleTimer -
M envoy.config.overload.v3.ScaleTimersOverloadActionConfig.ScaleTimer
F timer timer 1 enum s envoy.config.overload.v3.ScaleTimersOverloadActionConfig.TimerType -
F min_timeout minTimeout 2 message s google.protobuf.Duration overload_adjust
F min_scale minScale 3 message s envoy.type.v3.Percent overload_adjust
E envoy.config.overload.v3.ScaleTimersOverloadActionConfig.TimerType UNSPECIFIED=0 HTTP_DOWNSTREAM_CONNECTION_IDLE=1 HTTP_DOWNSTREAM_STREAM_IDLE=2 TRANSPORT_SOCKET_CONNECT=3 HTTP_DOWNSTREAM_CONNECTION_MAX=4 HTTP_DOWNSTREAM_STREAM_FLUSH=5
M envoy.config.overload.v3.OverloadAction
F name name 1 string s - -
F triggers triggers 2 message r envoy.config.overload.v3.Trigger -
F typed_config typedConfig 3 message s google.protobuf.Any -
M envoy.config.overload.v3.LoadShedPoint
F name name 1 string s - -
F triggers triggers 2 message r envoy.config.overload.v3.Trigger -
M envoy.config.overload.v3.BufferFactoryConfig
F minimum_account_to_track_power_of_two minimumAccountToTrackPowerOfTwo 1 uint32 s - -
M envoy.config.overload.v3.OverloadManager
F refresh_interval refreshInterval 1 message s google.protobuf.Duration -
F resource_monitors resourceMonitors 2 message r envoy.config.overload.v3.ResourceMonitor -
F actions actions 3 message r envoy.config.overload.v3.OverloadAction -
F loadshed_points loadshedPoints 5 message r envoy.config.overload.v3.LoadShedPoint -
F buffer_factory_config bufferFactoryConfig 4 message s envoy.config.overload.v3.BufferFactoryConfig -
M envoy.config.trace.v3.Tracing
F http http 1 message s envoy.config.trace.v3.Tracing.Http -
M envoy.config.trace.v3.Tracing.Http
F name name 1 string s - -
F typed_config typedConfig 3 message s google.protobuf.Any config_type
M envoy.extensions.transport_sockets.tls.v3.TlsParameters
F tls_minimum_protocol_version tlsMinimumProtocolVersion 1 enum s envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol -
F tls_maximum_protocol_version tlsMaximumProtocolVersion 2 enum s envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol -
F cipher_suites cipherSuites 3 string r - -
F ecdh_curves ecdhCurves 4 string r - -
F signature_algorithms signatureAlgorithms 5 string r - -
F compliance_policies compliancePolicies 6 enum r envoy.extensions.transport_sockets.tls.v3.TlsParameters.CompliancePolicy -
E envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol TLS_AUTO=0 TLSv1_0=1 TLSv1_1=2 TLSv1_2=3 TLSv1_3=4
E envoy.extensions.transport_sockets.tls.v3.TlsParameters.CompliancePolicy FIPS_202205=0
M envoy.extensions.transport_sockets.tls.v3.PrivateKeyProvider
F provider_name providerName 1 string s - -
F typed_config typedConfig 3 message s google.protobuf.Any config_type
F fallback fallback 4 bool s - -
M envoy.extensions.transport_sockets.tls.v3.TlsCertificate
F certificate_chain certificateChain 1 message s envoy.config.core.v3.DataSource -
F private_key privateKey 2 message s envoy.config.core.v3.DataSource -
F pkcs12 pkcs12 8 message s envoy.config.core.v3.DataSource -
F watched_directory watchedDirectory 7 message s envoy.config.core.v3.WatchedDirectory -
F private_key_provider privateKeyProvider 6 message s envoy.extensions.transport_sockets.tls.v3.PrivateKeyProvider -
F password password 3 message s envoy.config.core.v3.DataSource -
F ocsp_staple ocspStaple 4 message s envoy.config.core.v3.DataSource -
F signed_certificate_timestamp signedCertificateTimestamp 5 message r envoy.config.core.v3.DataSource -
M envoy.extensions.transport_sockets.tls.v3.TlsSessionTicketKeys
F keys keys 1 message r envoy.config.core.v3.DataSource -
M envoy.extensions.transport_sockets.tls.v3.CertificateProviderPluginInstance
F instance_name instanceName 1 string s - -
F certificate_name certificateName 2 string s - -
M envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher
F san_type sanType 1 enum s envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher.SanType -
F matcher matcher 2 message s envoy.type.matcher.v3.StringMatcher -
F oid oid 3 string s - -
E envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher.SanType SAN_TYPE_UNSPECIFIED=0 EMAIL=1 DNS=2 URI=3 IP_ADDRESS=4 OTHER_NAME=5
M envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext
F trusted_ca trustedCa 1 message s envoy.config.core.v3.DataSource -
F ca_certificate_provider_instance caCertificateProviderInstance 13 message s envoy.extensions.transport_sockets.tls.v3.CertificateProviderPluginInstance -
F system_root_certs systemRootCerts 17 message s envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext.SystemRootCerts -
F watched_directory watchedDirectory 11 message s envoy.config.core.v3.WatchedDirectory -
F verify_certificate_spki verifyCertificateSpki 3 string r - -
F verify_certificate_hash verifyCertificateHash 2 string r - -
F match_typed_subject_alt_names matchTypedSubjectAltNames 15 message r envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher -
F match_subject_alt_names matchSubjectAltNames 9 message r envoy.type.matcher.v3.StringMatcher - deprecated
F require_signed_certificate_timestamp requireSignedCertificateTimestamp 6 message s google.protobuf.BoolValue -
F crl crl 7 message s envoy.config.core.v3.DataSource -
F allow_expired_certificate allowExpiredCertificate 8 bool s - -
F trust_chain_verification trustChainVerification 10 enum s envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext.TrustChainVerification -
F custom_validator_config customValidatorConfig 12 message s envoy.config.core.v3.TypedExtensionConfig -
F only_verify_leaf_cert_crl onlyVerifyLeafCertCrl 14 bool s - -
F max_verify_depth maxVerifyDepth 16 message s google.protobuf.UInt32Value -
M envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext.SystemRootCerts
E envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext.TrustChainVerification VERIFY_TRUST_CHAIN=0 ACCEPT_UNTRUSTED=1
M envoy.extensions.transport_sockets.tls.v3.GenericSecret
F secret secret 1 message s envoy.config.core.v3.DataSource -
F secrets secrets 2 message r envoy.extensions.transport_sockets.tls.v3.GenericSecret.SecretsEntry -
M envoy.extensions.transport_sockets.tls.v3.GenericSecret.SecretsEntry map
F key key 1 string s - -
F value value 2 message s envoy.config.core.v3.DataSource -
M envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig
F name name 1 string s - -
F sds_config sdsConfig 2 message s envoy.config.core.v3.ConfigSource -
M envoy.extensions.transport_sockets.tls.v3.Secret
F name name 1 string s - -
F tls_certificate tlsCertificate 2 message s envoy.extensions.transport_sockets.tls.v3.TlsCertificate type
F session_ticket_keys sessionTicketKeys 3 message s envoy.extensions.transport_sockets.tls.v3.TlsSessionTicketKeys type
F validation_context validationContext 4 message s envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext type
F generic_secret genericSecret 5 message s envoy.extensions.transport_sockets.tls.v3.GenericSecret type
M envoy.config.bootstrap.v3.Bootstrap
F node node 1 message s envoy.config.core.v3.Node -
F node_context_params nodeContextParams 26 string r - -
F static_resources staticResources 2 message s envoy.config.bootstrap.v3.Bootstrap.StaticResources -
F dynamic_resources dynamicResources 3 message s envoy.config.bootstrap.v3.Bootstrap.DynamicResources -
F cluster_manager clusterManager 4 message s envoy.config.bootstrap.v3.ClusterManager -
F hds_config hdsConfig 14 message s envoy.config.core.v3.ApiConfigSource -
F flags_path flagsPath 5 string s - -
F stats_sinks statsSinks 6 message r envoy.config.metrics.v3.StatsSink -
F deferred_stat_options deferredStatOptions 39 message s envoy.config.bootstrap.v3.Bootstrap.DeferredStatOptions -
F stats_config statsConfig 13 message s envoy.config.metrics.v3.StatsConfig -
F stats_flush_interval statsFlushInterval 7 message s google.protobuf.Duration -
F stats_flush_on_admin statsFlushOnAdmin 29 bool s - stats_flush
F stats_eviction_interval statsEvictionInterval 42 message s google.protobuf.Duration stats_eviction
F watchdog watchdog 8 message s envoy.config.bootstrap.v3.Watchdog - deprecated
F watchdogs watchdogs 27 message s envoy.config.bootstrap.v3.Watchdogs -
F tracing tracing 9 message s envoy.config.trace.v3.Tracing - deprecated
F layered_runtime layeredRuntime 17 message s envoy.config.bootstrap.v3.LayeredRuntime -
F admin admin 12 message s envoy.config.bootstrap.v3.Admin -
F overload_manager overloadManager 15 message s envoy.config.overload.v3.OverloadManager -
F enable_dispatcher_stats enableDispatcherStats 16 bool s - -
F header_prefix headerPrefix 18 string s - -
F stats_server_version_override statsServerVersionOverride 19 message s google.protobuf.UInt64Value -
F use_tcp_for_dns_lookups useTcpForDnsLookups 20 bool s - - deprecated
F dns_resolution_config dnsResolutionConfig 30 message s envoy.config.core.v3.DnsResolutionConfig - deprecated
F typed_dns_resolver_config typedDnsResolverConfig 31 message s envoy.config.core.v3.TypedExtensionConfig -
F bootstrap_extensions bootstrapExtensions 21 message r envoy.config.core.v3.TypedExtensionConfig -
F fatal_actions fatalActions 28 message r envoy.config.bootstrap.v3.FatalAction -
F config_sources configSources 22 message r envoy.config.core.v3.ConfigSource -
F default_config_source defaultConfigSource 23 message s envoy.config.core.v3.ConfigSource -
F default_socket_interface defaultSocketInterface 24 string s - -
F certificate_provider_instances certificateProviderInstances 25 message r envoy.config.bootstrap.v3.Bootstrap.CertificateProviderInstancesEntry -
F inline_headers inlineHeaders 32 message r envoy.config.bootstrap.v3.CustomInlineHeader -
F perf_tracing_file_path perfTracingFilePath 33 string s - -
F default_regex_engine defaultRegexEngine 34 message s envoy.config.core.v3.TypedExtensionConfig -
F xds_delegate_extension xdsDelegateExtension 35 message s envoy.config.core.v3.TypedExtensionConfig -
F xds_config_tracker_extension xdsConfigTrackerExtension 36 message s envoy.config.core.v3.TypedExtensionConfig -
F listener_manager listenerManager 37 message s envoy.config.core.v3.TypedExtensionConfig -
F application_log_config applicationLogConfig 38 message s envoy.config.bootstrap.v3.Bootstrap.ApplicationLogConfig -
F grpc_async_client_manager_config grpcAsyncClientManagerConfig 40 message s envoy.config.bootstrap.v3.Bootstrap.GrpcAsyncClientManagerConfig -
F memory_allocator_manager memoryAllocatorManager 41 message s envoy.config.bootstrap.v3.MemoryAllocatorManager -
M envoy.config.bootstrap.v3.Bootstrap.StaticResources
F listeners listeners 1 message r envoy.config.listener.v3.Listener -
F clusters clusters 2 message r envoy.config.cluster.v3.Cluster -
F secrets secrets 3 message r envoy.extensions.transport_sockets.tls.v3.Secret -
M envoy.config.bootstrap.v3.Bootstrap.DynamicResources
F lds_config ldsConfig 1 message s envoy.config.core.v3.ConfigSource -
F lds_resources_locator ldsResourcesLocator 5 string s - -
F cds_config cdsConfig 2 message s envoy.config.core.v3.ConfigSource -
F cds_resources_locator cdsResourcesLocator 6 string s - -
F ads_config adsConfig 3 message s envoy.config.core.v3.ApiConfigSource -
M envoy.config.bootstrap.v3.Bootstrap.ApplicationLogConfig
F log_format logFormat 1 message s envoy.config.bootstrap.v3.Bootstrap.ApplicationLogConfig.LogFormat -
M envoy.config.bootstrap.v3.Bootstrap.ApplicationLogConfig.LogFormat
F json_format jsonFormat 1 message s google.protobuf.Struct log_format
F text_format textFormat 2 string s - log_format
M envoy.config.bootstrap.v3.Bootstrap.DeferredStatOptions
F enable_deferred_creation_stats enableDeferredCreationStats 1 bool s - -
M envoy.config.bootstrap.v3.Bootstrap.GrpcAsyncClientManagerConfig
F max_cached_entry_idle_duration maxCachedEntryIdleDuration 1 message s google.protobuf.Duration -
M envoy.config.bootstrap.v3.Bootstrap.CertificateProviderInstancesEntry map
F key key 1 string s - -
F value value 2 message s envoy.config.core.v3.TypedExtensionConfig -
M envoy.config.bootstrap.v3.Admin
F access_log accessLog 5 message r envoy.config.accesslog.v3.AccessLog -
F access_log_path accessLogPath 1 string s - - deprecated
F profile_path profilePath 2 string s - -
F address address 3 message s envoy.config.core.v3.Address -
F socket_options socketOptions 4 message r envoy.config.core.v3.SocketOption -
F ignore_global_conn_limit ignoreGlobalConnLimit 6 bool s - -
F allow_paths allowPaths 7 message r envoy.type.matcher.v3.StringMatcher -
M envoy.config.bootstrap.v3.ClusterManager
F local_cluster_name localClusterName 1 string s - -
F outlier_detection outlierDetection 2 message s envoy.config.bootstrap.v3.ClusterManager.OutlierDetection -
F upstream_bind_config upstreamBindConfig 3 message s envoy.config.core.v3.BindConfig -
F load_stats_config loadStatsConfig 4 message s envoy.config.core.v3.ApiConfigSource -
F enable_deferred_cluster_creation enableDeferredClusterCreation 5 bool s - -
M envoy.config.bootstrap.v3.ClusterManager.OutlierDetection
F event_log_path eventLogPath 1 string s - -
F event_service eventService 2 message s envoy.config.core.v3.EventServiceConfig -
M envoy.config.bootstrap.v3.Watchdogs
F main_thread_watchdog mainThreadWatchdog 1 message s envoy.config.bootstrap.v3.Watchdog -
F worker_watchdog workerWatchdog 2 message s envoy.config.bootstrap.v3.Watchdog -
M envoy.config.bootstrap.v3.Watchdog
F actions actions 7 message r envoy.config.bootstrap.v3.Watchdog.WatchdogAction -
F miss_timeout missTimeout 1 message s google.protobuf.Duration -
F megamiss_timeout megamissTimeout 2 message s google.protobuf.Duration -
F kill_timeout killTimeout 3 message s google.protobuf.Duration -
F max_kill_timeout_jitter maxKillTimeoutJitter 6 message s google.protobuf.Duration -
F multikill_timeout multikillTimeout 4 message s google.protobuf.Duration -
F multikill_threshold multikillThreshold 5 message s envoy.type.v3.Percent -
M envoy.config.bootstrap.v3.Watchdog.WatchdogAction
F config config 1 message s envoy.config.core.v3.TypedExtensionConfig -
F event event 2 enum s envoy.config.bootstrap.v3.Watchdog.WatchdogAction.WatchdogEvent -
E envoy.config.bootstrap.v3.Watchdog.WatchdogAction.WatchdogEvent UNKNOWN=0 KILL=1 MULTIKILL=2 MEGAMISS=3 MISS=4
M envoy.config.bootstrap.v3.FatalAction
F config config 1 message s envoy.config.core.v3.TypedExtensionConfig -
M envoy.config.bootstrap.v3.Runtime
F symlink_root symlinkRoot 1 string s - -
F subdirectory subdirectory 2 string s - -
F override_subdirectory overrideSubdirectory 3 string s - -
F base base 4 message s google.protobuf.Struct -
M envoy.config.bootstrap.v3.RuntimeLayer
F name name 1 string s - -
F static_layer staticLayer 2 message s google.protobuf.Struct layer_specifier
F disk_layer diskLayer 3 message s envoy.config.bootstrap.v3.RuntimeLayer.DiskLayer layer_specifier
F admin_layer adminLayer 4 message s envoy.config.bootstrap.v3.RuntimeLayer.AdminLayer layer_specifier
F rtds_layer rtdsLayer 5 message s envoy.config.bootstrap.v3.RuntimeLayer.RtdsLayer layer_specifier
M envoy.config.bootstrap.v3.RuntimeLayer.DiskLayer
F symlink_root symlinkRoot 1 string s - -
F subdirectory subdirectory 3 string s - -
F append_service_cluster appendServiceCluster 2 bool s - -
M envoy.config.bootstrap.v3.RuntimeLayer.AdminLayer
M envoy.config.bootstrap.v3.RuntimeLayer.RtdsLayer
F name name 1 string s - -
F rtds_config rtdsConfig 2 message s envoy.config.core.v3.ConfigSource -
M envoy.config.bootstrap.v3.LayeredRuntime
F layers layers 1 message r envoy.config.bootstrap.v3.RuntimeLayer -
M envoy.config.bootstrap.v3.CustomInlineHeader
F inline_header_name inlineHeaderName 1 string s - -
F inline_header_type inlineHeaderType 2 enum s envoy.config.bootstrap.v3.CustomInlineHeader.InlineHeaderType -
E envoy.config.bootstrap.v3.CustomInlineHeader.InlineHeaderType REQUEST_HEADER=0 REQUEST_TRAILER=1 RESPONSE_HEADER=2 RESPONSE_TRAILER=3
M envoy.config.bootstrap.v3.MemoryAllocatorManager
F bytes_to_release bytesToRelease 1 uint64 s - -
F memory_release_interval memoryReleaseInterval 2 message s google.protobuf.Duration -
M envoy.config.route.v3.RouteConfiguration
F name name 1 string s - -
F virtual_hosts virtualHosts 2 message r envoy.config.route.v3.VirtualHost -
F vhds vhds 9 message s envoy.config.route.v3.Vhds -
F internal_only_headers internalOnlyHeaders 3 string r - -
F response_headers_to_add responseHeadersToAdd 4 message r envoy.config.core.v3.HeaderValueOption -
F response_headers_to_remove responseHeadersToRemove 5 string r - -
F request_headers_to_add requestHeadersToAdd 6 message r envoy.config.core.v3.HeaderValueOption -
F request_headers_to_remove requestHeadersToRemove 8 string r - -
F most_specific_header_mutations_wins mostSpecificHeaderMutationsWins 10 bool s - -
F validate_clusters validateClusters 7 message s google.protobuf.BoolValue -
F max_direct_response_body_size_bytes maxDirectResponseBodySizeBytes 11 message s google.protobuf.UInt32Value -
F cluster_specifier_plugins clusterSpecifierPlugins 12 message r envoy.config.route.v3.ClusterSpecifierPlugin -
F request_mirror_policies requestMirrorPolicies 13 message r envoy.config.route.v3.RouteAction.RequestMirrorPolicy -
F ignore_port_in_host_matching ignorePortInHostMatching 14 bool s - -
F vhost_header vhostHeader 18 string s - -
F ignore_path_parameters_in_path_matching ignorePathParametersInPathMatching 15 bool s - -
F typed_per_filter_config typedPerFilterConfig 16 message r envoy.config.route.v3.RouteConfiguration.TypedPerFilterConfigEntry -
F metadata metadata 17 message s envoy.config.core.v3.Metadata -
M envoy.config.route.v3.RouteConfiguration.TypedPerFilterConfigEntry map
F key key 1 string s - -
F value value 2 message s google.protobuf.Any -
M envoy.config.route.v3.Vhds
F config_source configSource 1 message s envoy.config.core.v3.ConfigSource -
M envoy.config.route.v3.ScopedRouteConfiguration
F on_demand onDemand 4 bool s - -
F name name 1 string s - -
F route_configuration_name routeConfigurationName 2 string s - -
F route_configuration routeConfiguration 5 message s envoy.config.route.v3.RouteConfiguration -
F key key 3 message s envoy.config.route.v3.ScopedRouteConfiguration.Key -
M envoy.config.route.v3.ScopedRouteConfiguration.Key
F fragments fragments 1 message r envoy.config.route.v3.ScopedRouteConfiguration.Key.Fragment -
M envoy.config.route.v3.ScopedRouteConfiguration.Key.Fragment
F string_key stringKey 1 string s - type
M envoy.type.http.v3.PathTransformation
F operations operations 1 message r envoy.type.http.v3.PathTransformation.Operation -
M envoy.type.http.v3.PathTransformation.Operation
F normalize_path_rfc_3986 normalizePathRfc3986 2 message s envoy.type.http.v3.PathTransformation.Operation.NormalizePathRFC3986 operation_specifier
F merge_slashes mergeSlashes 3 message s envoy.type.http.v3.PathTransformation.Operation.MergeSlashes operation_specifier
M envoy.type.http.v3.PathTransformation.Operation.NormalizePathRFC3986
M envoy.type.http.v3.PathTransformation.Operation.MergeSlashes
M envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
F codec_type codecType 1 enum s envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.CodecType -
F stat_prefix statPrefix 2 string s - -
F rds rds 3 message s envoy.extensions.filters.network.http_connection_manager.v3.Rds route_specifier
F route_config routeConfig 4 message s envoy.config.route.v3.RouteConfiguration route_specifier
F scoped_routes scopedRoutes 31 message s envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes route_specifier
F http_filters httpFilters 5 message r envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter -
F add_user_agent addUserAgent 6 message s google.protobuf.BoolValue -
F tracing tracing 7 message s envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.Tracing -
F common_http_protocol_options commonHttpProtocolOptions 35 message s envoy.config.core.v3.HttpProtocolOptions -
F http1_safe_max_connection_duration http1SafeMaxConnectionDuration 58 bool s - -
F http_protocol_options httpProtocolOptions 8 message s envoy.config.core.v3.Http1ProtocolOptions -
F http2_protocol_options http2ProtocolOptions 9 message s envoy.config.core.v3.Http2ProtocolOptions -
F http3_protocol_options http3ProtocolOptions 44 message s envoy.config.core.v3.Http3ProtocolOptions -
F server_name serverName 10 string s - -
F server_header_transformation serverHeaderTransformation 34 enum s envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ServerHeaderTransformation -
F scheme_header_transformation schemeHeaderTransformation 48 message s envoy.config.core.v3.SchemeHeaderTransformation -
F max_request_headers_kb maxRequestHeadersKb 29 message s google.protobuf.UInt32Value -
F stream_idle_timeout streamIdleTimeout 24 message s google.protobuf.Duration -
F stream_flush_timeout streamFlushTimeout 59 message s google.protobuf.Duration -
F request_timeout requestTimeout 28 message s google.protobuf.Duration -
F request_headers_timeout requestHeadersTimeout 41 message s google.protobuf.Duration -
F drain_timeout drainTimeout 12 message s google.protobuf.Duration -
F delayed_close_timeout delayedCloseTimeout 26 message s google.protobuf.Duration -
F access_log accessLog 13 message r envoy.config.accesslog.v3.AccessLog -
F access_log_flush_interval accessLogFlushInterval 54 message s google.protobuf.Duration - deprecated
F flush_access_log_on_new_request flushAccessLogOnNewRequest 55 bool s - - deprecated
F access_log_options accessLogOptions 56 message s envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.HcmAccessLogOptions -
F use_remote_address useRemoteAddress 14 message s google.protobuf.BoolValue -
F xff_num_trusted_hops xffNumTrustedHops 19 uint32 s - -
F original_ip_detection_extensions originalIpDetectionExtensions 46 message r envoy.config.core.v3.TypedExtensionConfig -
F early_header_mutation_extensions earlyHeaderMutationExtensions 52 message r envoy.config.core.v3.TypedExtensionConfig -
F internal_address_config internalAddressConfig 25 message s envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.InternalAddressConfig -
F skip_xff_append skipXffAppend 21 bool s - -
F via via 22 string s - -
F generate_request_id generateRequestId 15 message s google.protobuf.BoolValue -
F preserve_external_request_id preserveExternalRequestId 32 bool s - -
F always_set_request_id_in_response alwaysSetRequestIdInResponse 37 bool s - -
F forward_client_cert_details forwardClientCertDetails 16 enum s envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ForwardClientCertDetails -
F set_current_client_cert_details setCurrentClientCertDetails 17 message s envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.SetCurrentClientCertDetails -
F forward_client_cert_matcher forwardClientCertMatcher 60 message s xds.type.matcher.v3.Matcher -
F proxy_100_continue proxy100Continue 18 bool s - -
F represent_ipv4_remote_address_as_ipv4_mapped_ipv6 representIpv4RemoteAddressAsIpv4MappedIpv6 20 bool s - -
F upgrade_configs upgradeConfigs 23 message r envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.UpgradeConfig -
F normalize_path normalizePath 30 message s google.protobuf.BoolValue -
F merge_slashes mergeSlashes 33 bool s - -
F path_with_escaped_slashes_action pathWithEscapedSlashesAction 45 enum s envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.PathWithEscapedSlashesAction -
F request_id_extension requestIdExtension 36 message s envoy.extensions.filters.network.http_connection_manager.v3.RequestIDExtension -
F local_reply_config localReplyConfig 38 message s envoy.extensions.filters.network.http_connection_manager.v3.LocalReplyConfig -
F strip_matching_host_port stripMatchingHostPort 39 bool s - -
F strip_any_host_port stripAnyHostPort 42 bool s - strip_port_mode
F stream_error_on_invalid_http_message streamErrorOnInvalidHttpMessage 40 message s google.protobuf.BoolValue -
F path_normalization_options pathNormalizationOptions 43 message s envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.PathNormalizationOptions -
F strip_trailing_host_dot stripTrailingHostDot 47 bool s - -
F proxy_status_config proxyStatusConfig 49 message s envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ProxyStatusConfig -
F typed_header_validation_config typedHeaderValidationConfig 50 message s envoy.config.core.v3.TypedExtensionConfig -
F append_x_forwarded_port appendXForwardedPort 51 bool s - -
F append_local_overload appendLocalOverload 57 bool s - -
F add_proxy_protocol_connection_state addProxyProtocolConnectionState 53 message s google.protobuf.BoolValue -
M envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.Tracing
F client_sampling clientSampling 3 message s envoy.type.v3.Percent -
F random_sampling randomSampling 4 message s envoy.type.v3.Percent -
F overall_sampling overallSampling 5 message s envoy.type.v3.Percent -
F verbose verbose 6 bool s - -
F max_path_tag_length maxPathTagLength 7 message s google.protobuf.UInt32Value -
F custom_tags customTags 8 message r envoy.type.tracing.v3.CustomTag -
F provider provider 9 message s envoy.config.trace.v3.Tracing.Http -
F spawn_upstream_span spawnUpstreamSpan 10 message s google.protobuf.BoolValue -
F operation operation 11 string s - -
F upstream_operation upstreamOperation 12 string s - -
E envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.Tracing.OperationName INGRESS=0 EGRESS=1
M envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.InternalAddressConfig
F unix_sockets unixSockets 1 bool s - -
F cidr_ranges cidrRanges 2 message r envoy.config.core.v3.CidrRange -
M envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.SetCurrentClientCertDetails
F subject subject 1 message s google.protobuf.BoolValue -
F cert cert 3 bool s - -
F chain chain 6 bool s - -
F dns dns 4 bool s - -
F uri uri 5 bool s - -
M envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ForwardClientCertConfig
F forward_client_cert_details forwardClientCertDetails 1 enum s envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ForwardClientCertDetails -
F set_current_client_cert_details setCurrentClientCertDetails 2 message s envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.SetCurrentClientCertDetails -
M envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.UpgradeConfig
F upgrade_type upgradeType 1 string s - -
F filters filters 2 message r envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter -
F enabled enabled 3 message s google.protobuf.BoolValue -
M envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.PathNormalizationOptions
F forwarding_transformation forwardingTransformation 1 message s envoy.type.http.v3.PathTransformation -
F http_filter_transformation httpFilterTransformation 2 message s envoy.type.http.v3.PathTransformation -
M envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ProxyStatusConfig
F remove_details removeDetails 1 bool s - -
F remove_connection_termination_details removeConnectionTerminationDetails 2 bool s - -
F remove_response_flags removeResponseFlags 3 bool s - -
F set_recommended_response_code setRecommendedResponseCode 4 bool s - -
F use_node_id useNodeId 5 bool s - proxy_name
F literal_proxy_name literalProxyName 6 string s - proxy_name
M envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.HcmAccessLogOptions
F access_log_flush_interval accessLogFlushInterval 1 message s google.protobuf.Duration -
F flush_access_log_on_new_request flushAccessLogOnNewRequest 2 bool s - -
F flush_log_on_tunnel_successfully_established flushLogOnTunnelSuccessfullyEstablished 3 bool s - -
E envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.CodecType AUTO=0 HTTP1=1 HTTP2=2 HTTP3=3
E envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ServerHeaderTransformation OVERWRITE=0 APPEND_IF_ABSENT=1 PASS_THROUGH=2
E envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ForwardClientCertDetails SANITIZE=0 FORWARD_ONLY=1 APPEND_FORWARD=2 SANITIZE_SET=3 ALWAYS_FORWARD_ONLY=4
E envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.PathWithEscapedSlashesAction IMPLEMENTATION_SPECIFIC_DEFAULT=0 KEEP_UNCHANGED=1 REJECT_REQUEST=2 UNESCAPE_AND_REDIRECT=3 UNESCAPE_AND_FORWARD=4
M envoy.extensions.filters.network.http_connection_manager.v3.LocalReplyConfig
F mappers mappers 1 message r envoy.extensions.filters.network.http_connection_manager.v3.ResponseMapper -
F body_format bodyFormat 2 message s envoy.config.core.v3.SubstitutionFormatString -
M envoy.extensions.filters.network.http_connection_manager.v3.ResponseMapper
F filter filter 1 message s envoy.config.accesslog.v3.AccessLogFilter -
F status_code statusCode 2 message s google.protobuf.UInt32Value -
F body body 3 message s envoy.config.core.v3.DataSource -
F body_format_override bodyFormatOverride 4 message s envoy.config.core.v3.SubstitutionFormatString -
F headers_to_add headersToAdd 5 message r envoy.config.core.v3.HeaderValueOption -
M envoy.extensions.filters.network.http_connection_manager.v3.Rds
F config_source configSource 1 message s envoy.config.core.v3.ConfigSource -
F route_config_name routeConfigName 2 string s - -
M envoy.extensions.filters.network.http_connection_manager.v3.ScopedRouteConfigurationsList
F scoped_route_configurations scopedRouteConfigurations 1 message r envoy.config.route.v3.ScopedRouteConfiguration -
M envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes
F name name 1 string s - -
F scope_key_builder scopeKeyBuilder 2 message s envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes.ScopeKeyBuilder -
F rds_config_source rdsConfigSource 3 message s envoy.config.core.v3.ConfigSource -
F scoped_route_configurations_list scopedRouteConfigurationsList 4 message s envoy.extensions.filters.network.http_connection_manager.v3.ScopedRouteConfigurationsList config_specifier
F scoped_rds scopedRds 5 message s envoy.extensions.filters.network.http_connection_manager.v3.ScopedRds config_specifier
M envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes.ScopeKeyBuilder
F fragments fragments 1 message r envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder -
M envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder
F header_value_extractor headerValueExtractor 1 message s envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder.HeaderValueExtractor type
M envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder.HeaderValueExtractor
F name name 1 string s - -
F element_separator elementSeparator 2 string s - -
F index index 3 uint32 s - extract_type
F element element 4 message s envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder.HeaderValueExtractor.KvElement extract_type
M envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder.HeaderValueExtractor.KvElement
F separator separator 1 string s - -
F key key 2 string s - -
M envoy.extensions.filters.network.http_connection_manager.v3.ScopedRds
F scoped_rds_config_source scopedRdsConfigSource 1 message s envoy.config.core.v3.ConfigSource -
F srds_resources_locator srdsResourcesLocator 2 string s - -
M envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
F name name 1 string s - -
F typed_config typedConfig 4 message s google.protobuf.Any config_type
F config_discovery configDiscovery 5 message s envoy.config.core.v3.ExtensionConfigSource config_type
F is_optional isOptional 6 bool s - -
F disabled disabled 7 bool s - -
M envoy.extensions.filters.network.http_connection_manager.v3.RequestIDExtension
F typed_config typedConfig 1 message s google.protobuf.Any -
M envoy.extensions.filters.network.http_connection_manager.v3.EnvoyMobileHttpConnectionManager
F config config 1 message s envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager -
M envoy.extensions.filters.http.router.v3.Router
F dynamic_stats dynamicStats 1 message s google.protobuf.BoolValue -
F start_child_span startChildSpan 2 bool s - - deprecated
F upstream_log upstreamLog 3 message r envoy.config.accesslog.v3.AccessLog -
F upstream_log_options upstreamLogOptions 9 message s envoy.extensions.filters.http.router.v3.Router.UpstreamAccessLogOptions -
F suppress_envoy_headers suppressEnvoyHeaders 4 bool s - -
F strict_check_headers strictCheckHeaders 5 string r - -
F respect_expected_rq_timeout respectExpectedRqTimeout 6 bool s - -
F suppress_grpc_request_failure_code_stats suppressGrpcRequestFailureCodeStats 7 bool s - -
F upstream_http_filters upstreamHttpFilters 8 message r envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter -
M envoy.extensions.filters.http.router.v3.Router.UpstreamAccessLogOptions
F flush_upstream_log_on_upstream_stream flushUpstreamLogOnUpstreamStream 1 bool s - -
F upstream_log_flush_interval upstreamLogFlushInterval 2 message s google.protobuf.Duration -
M envoy.extensions.filters.http.health_check.v3.HealthCheck
F pass_through_mode passThroughMode 1 message s google.protobuf.BoolValue -
F cache_time cacheTime 3 message s google.protobuf.Duration -
F cluster_min_healthy_percentages clusterMinHealthyPercentages 4 message r envoy.extensions.filters.http.health_check.v3.HealthCheck.ClusterMinHealthyPercentagesEntry -
F headers headers 5 message r envoy.config.route.v3.HeaderMatcher -
M envoy.extensions.filters.http.health_check.v3.HealthCheck.ClusterMinHealthyPercentagesEntry map
F key key 1 string s - -
F value value 2 message s envoy.type.v3.Percent -
M envoy.type.v3.HashPolicy
F source_ip sourceIp 1 message s envoy.type.v3.HashPolicy.SourceIp policy_specifier
F filter_state filterState 2 message s envoy.type.v3.HashPolicy.FilterState policy_specifier
M envoy.type.v3.HashPolicy.SourceIp
M envoy.type.v3.HashPolicy.FilterState
F key key 1 string s - -
M envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
F stat_prefix statPrefix 1 string s - -
F cluster cluster 2 string s - cluster_specifier
F weighted_clusters weightedClusters 10 message s envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster cluster_specifier
F on_demand onDemand 14 message s envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.OnDemand -
F metadata_match metadataMatch 9 message s envoy.config.core.v3.Metadata -
F idle_timeout idleTimeout 8 message s google.protobuf.Duration -
F downstream_idle_timeout downstreamIdleTimeout 3 message s google.protobuf.Duration -
F upstream_idle_timeout upstreamIdleTimeout 4 message s google.protobuf.Duration -
F access_log accessLog 5 message r envoy.config.accesslog.v3.AccessLog -
F max_connect_attempts maxConnectAttempts 7 message s google.protobuf.UInt32Value -
F backoff_options backoffOptions 18 message s envoy.config.core.v3.BackoffStrategy -
F hash_policy hashPolicy 11 message r envoy.type.v3.HashPolicy -
F tunneling_config tunnelingConfig 12 message s envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.TunnelingConfig -
F max_downstream_connection_duration maxDownstreamConnectionDuration 13 message s google.protobuf.Duration -
F max_downstream_connection_duration_jitter_percentage maxDownstreamConnectionDurationJitterPercentage 20 message s envoy.type.v3.Percent -
F access_log_flush_interval accessLogFlushInterval 15 message s google.protobuf.Duration - deprecated
F flush_access_log_on_connected flushAccessLogOnConnected 16 bool s - - deprecated
F access_log_options accessLogOptions 17 message s envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.TcpAccessLogOptions -
F proxy_protocol_tlvs proxyProtocolTlvs 19 message r envoy.config.core.v3.TlvEntry -
F upstream_connect_mode upstreamConnectMode 21 enum s envoy.extensions.filters.network.tcp_proxy.v3.UpstreamConnectMode -
F max_early_data_bytes maxEarlyDataBytes 22 message s google.protobuf.UInt32Value -
M envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster
F clusters clusters 1 message r envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight -
M envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight
F name name 1 string s - -
F weight weight 2 uint32 s - -
F metadata_match metadataMatch 3 message s envoy.config.core.v3.Metadata -
M envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.TunnelingConfig
F hostname hostname 1 string s - -
F use_post usePost 2 bool s - -
F headers_to_add headersToAdd 3 message r envoy.config.core.v3.HeaderValueOption -
F propagate_response_headers propagateResponseHeaders 4 bool s - -
F post_path postPath 5 string s - -
F propagate_response_trailers propagateResponseTrailers 6 bool s - -
F request_id_extension requestIdExtension 7 message s envoy.extensions.filters.network.http_connection_manager.v3.RequestIDExtension -
F request_id_header requestIdHeader 8 string s - -
F request_id_metadata_key requestIdMetadataKey 9 string s - -
M envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.OnDemand
F odcds_config odcdsConfig 1 message s envoy.config.core.v3.ConfigSource -
F resources_locator resourcesLocator 2 string s - -
F timeout timeout 3 message s google.protobuf.Duration -
M envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.TcpAccessLogOptions
F access_log_flush_interval accessLogFlushInterval 1 message s google.protobuf.Duration -
F flush_access_log_on_connected flushAccessLogOnConnected 2 bool s - -
E envoy.extensions.filters.network.tcp_proxy.v3.UpstreamConnectMode IMMEDIATE=0 ON_DOWNSTREAM_DATA=1 ON_DOWNSTREAM_TLS_HANDSHAKE=2
M envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
F common_tls_context commonTlsContext 1 message s envoy.extensions.transport_sockets.tls.v3.CommonTlsContext -
F sni sni 2 string s - -
F auto_host_sni autoHostSni 6 bool s - -
F auto_sni_san_validation autoSniSanValidation 7 bool s - -
F allow_renegotiation allowRenegotiation 3 bool s - -
F max_session_keys maxSessionKeys 4 message s google.protobuf.UInt32Value -
F enforce_rsa_key_usage enforceRsaKeyUsage 5 message s google.protobuf.BoolValue -
M envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
F common_tls_context commonTlsContext 1 message s envoy.extensions.transport_sockets.tls.v3.CommonTlsContext -
F require_client_certificate requireClientCertificate 2 message s google.protobuf.BoolValue -
F require_sni requireSni 3 message s google.protobuf.BoolValue -
F session_ticket_keys sessionTicketKeys 4 message s envoy.extensions.transport_sockets.tls.v3.TlsSessionTicketKeys session_ticket_keys_type
F session_ticket_keys_sds_secret_config sessionTicketKeysSdsSecretConfig 5 message s envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig session_ticket_keys_type
F disable_stateless_session_resumption disableStatelessSessionResumption 7 bool s - session_ticket_keys_type
F disable_stateful_session_resumption disableStatefulSessionResumption 10 bool s - -
F session_timeout sessionTimeout 6 message s google.protobuf.Duration -
F ocsp_staple_policy ocspStaplePolicy 8 enum s envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.OcspStaplePolicy -
F full_scan_certs_on_sni_mismatch fullScanCertsOnSniMismatch 9 message s google.protobuf.BoolValue -
F prefer_client_ciphers preferClientCiphers 11 bool s - -
E envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.OcspStaplePolicy LENIENT_STAPLING=0 STRICT_STAPLING=1 MUST_STAPLE=2
M envoy.extensions.transport_sockets.tls.v3.TlsKeyLog
F path path 1 string s - -
F local_address_range localAddressRange 2 message r envoy.config.core.v3.CidrRange -
F remote_address_range remoteAddressRange 3 message r envoy.config.core.v3.CidrRange -
M envoy.extensions.transport_sockets.tls.v3.CommonTlsContext
F tls_params tlsParams 1 message s envoy.extensions.transport_sockets.tls.v3.TlsParameters -
F tls_certificates tlsCertificates 2 message r envoy.extensions.transport_sockets.tls.v3.TlsCertificate -
F tls_certificate_sds_secret_configs tlsCertificateSdsSecretConfigs 6 message r envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig -
F tls_certificate_provider_instance tlsCertificateProviderInstance 14 message s envoy.extensions.transport_sockets.tls.v3.CertificateProviderPluginInstance -
F custom_tls_certificate_selector customTlsCertificateSelector 16 message s envoy.config.core.v3.TypedExtensionConfig -
F tls_certificate_certificate_provider tlsCertificateCertificateProvider 9 message s envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CertificateProvider - deprecated
F tls_certificate_certificate_provider_instance tlsCertificateCertificateProviderInstance 11 message s envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CertificateProviderInstance - deprecated
F validation_context validationContext 3 message s envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext validation_context_type
F validation_context_sds_secret_config validationContextSdsSecretConfig 7 message s envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig validation_context_type
F combined_validation_context combinedValidationContext 8 message s envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CombinedCertificateValidationContext validation_context_type
F validation_context_certificate_provider validationContextCertificateProvider 10 message s envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CertificateProvider validation_context_type deprecated
F validation_context_certificate_provider_instance validationContextCertificateProviderInstance 12 message s envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CertificateProviderInstance validation_context_type deprecated
F alpn_protocols alpnProtocols 4 string r - -
F custom_handshaker customHandshaker 13 message s envoy.config.core.v3.TypedExtensionConfig -
F key_log keyLog 15 message s envoy.extensions.transport_sockets.tls.v3.TlsKeyLog -
M envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CertificateProvider
F name name 1 string s - -
F typed_config typedConfig 2 message s envoy.config.core.v3.TypedExtensionConfig config
M envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CertificateProviderInstance
F instance_name instanceName 1 string s - -
F certificate_name certificateName 2 string s - -
M envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CombinedCertificateValidationContext
F default_validation_context defaultValidationContext 1 message s envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext -
F validation_context_sds_secret_config validationContextSdsSecretConfig 2 message s envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig -
F validation_context_certificate_provider validationContextCertificateProvider 3 message s envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CertificateProvider - deprecated
F validation_context_certificate_provider_instance validationContextCertificateProviderInstance 4 message s envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CertificateProviderInstance - deprecated
M envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer
M envoy.config.core.v3.CelExpressionConfig
F enable_string_conversion enableStringConversion 1 bool s - -
F enable_string_concat enableStringConcat 2 bool s - -
F enable_string_functions enableStringFunctions 3 bool s - -
M envoy.type.matcher.v3.PathMatcher
F path path 1 message s envoy.type.matcher.v3.StringMatcher rule
M google.api.expr.v1alpha1.ParsedExpr
F expr expr 2 message s google.api.expr.v1alpha1.Expr -
F source_info sourceInfo 3 message s google.api.expr.v1alpha1.SourceInfo -
M google.api.expr.v1alpha1.Expr
F id id 2 int64 s - -
F const_expr constExpr 3 message s google.api.expr.v1alpha1.Constant expr_kind
F ident_expr identExpr 4 message s google.api.expr.v1alpha1.Expr.Ident expr_kind
F select_expr selectExpr 5 message s google.api.expr.v1alpha1.Expr.Select expr_kind
F call_expr callExpr 6 message s google.api.expr.v1alpha1.Expr.Call expr_kind
F list_expr listExpr 7 message s google.api.expr.v1alpha1.Expr.CreateList expr_kind
F struct_expr structExpr 8 message s google.api.expr.v1alpha1.Expr.CreateStruct expr_kind
F comprehension_expr comprehensionExpr 9 message s google.api.expr.v1alpha1.Expr.Comprehension expr_kind
M google.api.expr.v1alpha1.Expr.Ident
F name name 1 string s - -
M google.api.expr.v1alpha1.Expr.Select
F operand operand 1 message s google.api.expr.v1alpha1.Expr -
F field field 2 string s - -
F test_only testOnly 3 bool s - -
M google.api.expr.v1alpha1.Expr.Call
F target target 1 message s google.api.expr.v1alpha1.Expr -
F function function 2 string s - -
F args args 3 message r google.api.expr.v1alpha1.Expr -
M google.api.expr.v1alpha1.Expr.CreateList
F elements elements 1 message r google.api.expr.v1alpha1.Expr -
F optional_indices optionalIndices 2 int32 r - -
M google.api.expr.v1alpha1.Expr.CreateStruct
F message_name messageName 1 string s - -
F entries entries 2 message r google.api.expr.v1alpha1.Expr.CreateStruct.Entry -
M google.api.expr.v1alpha1.Expr.CreateStruct.Entry
F id id 1 int64 s - -
F field_key fieldKey 2 string s - key_kind
F map_key mapKey 3 message s google.api.expr.v1alpha1.Expr key_kind
F value value 4 message s google.api.expr.v1alpha1.Expr -
F optional_entry optionalEntry 5 bool s - -
M google.api.expr.v1alpha1.Expr.Comprehension
F iter_var iterVar 1 string s - -
F iter_var2 iterVar2 8 string s - -
F iter_range iterRange 2 message s google.api.expr.v1alpha1.Expr -
F accu_var accuVar 3 string s - -
F accu_init accuInit 4 message s google.api.expr.v1alpha1.Expr -
F loop_condition loopCondition 5 message s google.api.expr.v1alpha1.Expr -
F loop_step loopStep 6 message s google.api.expr.v1alpha1.Expr -
F result result 7 message s google.api.expr.v1alpha1.Expr -
M google.api.expr.v1alpha1.Constant
F null_value nullValue 1 enum s google.protobuf.NullValue constant_kind
F bool_value boolValue 2 bool s - constant_kind
F int64_value int64Value 3 int64 s - constant_kind
F uint64_value uint64Value 4 uint64 s - constant_kind
F double_value doubleValue 5 double s - constant_kind
F string_value stringValue 6 string s - constant_kind
F bytes_value bytesValue 7 bytes s - constant_kind
F duration_value durationValue 8 message s google.protobuf.Duration constant_kind deprecated
F timestamp_value timestampValue 9 message s google.protobuf.Timestamp constant_kind deprecated
M google.api.expr.v1alpha1.SourceInfo
F syntax_version syntaxVersion 1 string s - -
F location location 2 string s - -
F line_offsets lineOffsets 3 int32 r - -
F positions positions 4 message r google.api.expr.v1alpha1.SourceInfo.PositionsEntry -
F macro_calls macroCalls 5 message r google.api.expr.v1alpha1.SourceInfo.MacroCallsEntry -
F extensions extensions 6 message r google.api.expr.v1alpha1.SourceInfo.Extension -
M google.api.expr.v1alpha1.SourceInfo.Extension
F id id 1 string s - -
F affected_components affectedComponents 2 enum r google.api.expr.v1alpha1.SourceInfo.Extension.Component -
F version version 3 message s google.api.expr.v1alpha1.SourceInfo.Extension.Version -
M google.api.expr.v1alpha1.SourceInfo.Extension.Version
F major major 1 int64 s - -
F minor minor 2 int64 s - -
E google.api.expr.v1alpha1.SourceInfo.Extension.Component COMPONENT_UNSPECIFIED=0 COMPONENT_PARSER=1 COMPONENT_TYPE_CHECKER=2 COMPONENT_RUNTIME=3
M google.api.expr.v1alpha1.SourceInfo.PositionsEntry map
F key key 1 int64 s - -
F value value 2 int32 s - -
M google.api.expr.v1alpha1.SourceInfo.MacroCallsEntry map
F key key 1 int64 s - -
F value value 2 message s google.api.expr.v1alpha1.Expr -
M google.api.expr.v1alpha1.SourcePosition
F location location 1 string s - -
F offset offset 2 int32 s - -
F line line 3 int32 s - -
F column column 4 int32 s - -
M google.api.expr.v1alpha1.CheckedExpr
F reference_map referenceMap 2 message r google.api.expr.v1alpha1.CheckedExpr.ReferenceMapEntry -
F type_map typeMap 3 message r google.api.expr.v1alpha1.CheckedExpr.TypeMapEntry -
F source_info sourceInfo 5 message s google.api.expr.v1alpha1.SourceInfo -
F expr_version exprVersion 6 string s - -
F expr expr 4 message s google.api.expr.v1alpha1.Expr -
M google.api.expr.v1alpha1.CheckedExpr.ReferenceMapEntry map
F key key 1 int64 s - -
F value value 2 message s google.api.expr.v1alpha1.Reference -
M google.api.expr.v1alpha1.CheckedExpr.TypeMapEntry map
F key key 1 int64 s - -
F value value 2 message s google.api.expr.v1alpha1.Type -
M google.api.expr.v1alpha1.Type
F dyn dyn 1 message s google.protobuf.Empty type_kind
F null null 2 enum s google.protobuf.NullValue type_kind
F primitive primitive 3 enum s google.api.expr.v1alpha1.Type.PrimitiveType type_kind
F wrapper wrapper 4 enum s google.api.expr.v1alpha1.Type.PrimitiveType type_kind
F well_known wellKnown 5 enum s google.api.expr.v1alpha1.Type.WellKnownType type_kind
F list_type listType 6 message s google.api.expr.v1alpha1.Type.ListType type_kind
F map_type mapType 7 message s google.api.expr.v1alpha1.Type.MapType type_kind
F function function 8 message s google.api.expr.v1alpha1.Type.FunctionType type_kind
F message_type messageType 9 string s - type_kind
F type_param typeParam 10 string s - type_kind
F type type 11 message s google.api.expr.v1alpha1.Type type_kind
F error error 12 message s google.protobuf.Empty type_kind
F abstract_type abstractType 14 message s google.api.expr.v1alpha1.Type.AbstractType type_kind
M google.api.expr.v1alpha1.Type.ListType
F elem_type elemType 1 message s google.api.expr.v1alpha1.Type -
M google.api.expr.v1alpha1.Type.MapType
F key_type keyType 1 message s google.api.expr.v1alpha1.Type -
F value_type valueType 2 message s google.api.expr.v1alpha1.Type -
M google.api.expr.v1alpha1.Type.FunctionType
F result_type resultType 1 message s google.api.expr.v1alpha1.Type -
F arg_types argTypes 2 message r google.api.expr.v1alpha1.Type -
M google.api.expr.v1alpha1.Type.AbstractType
F name name 1 string s - -
F parameter_types parameterTypes 2 message r google.api.expr.v1alpha1.Type -
E google.api.expr.v1alpha1.Type.PrimitiveType PRIMITIVE_TYPE_UNSPECIFIED=0 BOOL=1 INT64=2 UINT64=3 DOUBLE=4 STRING=5 BYTES=6
E google.api.expr.v1alpha1.Type.WellKnownType WELL_KNOWN_TYPE_UNSPECIFIED=0 ANY=1 TIMESTAMP=2 DURATION=3
M google.api.expr.v1alpha1.Decl
F name name 1 string s - -
F ident ident 2 message s google.api.expr.v1alpha1.Decl.IdentDecl decl_kind
F function function 3 message s google.api.expr.v1alpha1.Decl.FunctionDecl decl_kind
M google.api.expr.v1alpha1.Decl.IdentDecl
F type type 1 message s google.api.expr.v1alpha1.Type -
F value value 2 message s google.api.expr.v1alpha1.Constant -
F doc doc 3 string s - -
M google.api.expr.v1alpha1.Decl.FunctionDecl
F overloads overloads 1 message r google.api.expr.v1alpha1.Decl.FunctionDecl.Overload -
M google.api.expr.v1alpha1.Decl.FunctionDecl.Overload
F overload_id overloadId 1 string s - -
F params params 2 message r google.api.expr.v1alpha1.Type -
F type_params typeParams 3 string r - -
F result_type resultType 4 message s google.api.expr.v1alpha1.Type -
F is_instance_function isInstanceFunction 5 bool s - -
F doc doc 6 string s - -
M google.api.expr.v1alpha1.Reference
F name name 1 string s - -
F overload_id overloadId 3 string r - -
F value value 4 message s google.api.expr.v1alpha1.Constant -
M envoy.config.rbac.v3.RBAC
F action action 1 enum s envoy.config.rbac.v3.RBAC.Action -
F policies policies 2 message r envoy.config.rbac.v3.RBAC.PoliciesEntry -
F audit_logging_options auditLoggingOptions 3 message s envoy.config.rbac.v3.RBAC.AuditLoggingOptions -
M envoy.config.rbac.v3.RBAC.AuditLoggingOptions
F audit_condition auditCondition 1 enum s envoy.config.rbac.v3.RBAC.AuditLoggingOptions.AuditCondition -
F logger_configs loggerConfigs 2 message r envoy.config.rbac.v3.RBAC.AuditLoggingOptions.AuditLoggerConfig -
M envoy.config.rbac.v3.RBAC.AuditLoggingOptions.AuditLoggerConfig
F audit_logger auditLogger 1 message s envoy.config.core.v3.TypedExtensionConfig -
F is_optional isOptional 2 bool s - -
E envoy.config.rbac.v3.RBAC.AuditLoggingOptions.AuditCondition NONE=0 ON_DENY=1 ON_ALLOW=2 ON_DENY_AND_ALLOW=3
M envoy.config.rbac.v3.RBAC.PoliciesEntry map
F key key 1 string s - -
F value value 2 message s envoy.config.rbac.v3.Policy -
E envoy.config.rbac.v3.RBAC.Action ALLOW=0 DENY=1 LOG=2
M envoy.config.rbac.v3.Policy
F permissions permissions 1 message r envoy.config.rbac.v3.Permission -
F principals principals 2 message r envoy.config.rbac.v3.Principal -
F condition condition 3 message s google.api.expr.v1alpha1.Expr -
F checked_condition checkedCondition 4 message s google.api.expr.v1alpha1.CheckedExpr -
F cel_config celConfig 5 message s envoy.config.core.v3.CelExpressionConfig -
M envoy.config.rbac.v3.SourcedMetadata
F metadata_matcher metadataMatcher 1 message s envoy.type.matcher.v3.MetadataMatcher -
F metadata_source metadataSource 2 enum s envoy.config.rbac.v3.MetadataSource -
M envoy.config.rbac.v3.Permission
F and_rules andRules 1 message s envoy.config.rbac.v3.Permission.Set rule
F or_rules orRules 2 message s envoy.config.rbac.v3.Permission.Set rule
F any any 3 bool s - rule
F header header 4 message s envoy.config.route.v3.HeaderMatcher rule
F url_path urlPath 10 message s envoy.type.matcher.v3.PathMatcher rule
F destination_ip destinationIp 5 message s envoy.config.core.v3.CidrRange rule
F destination_port destinationPort 6 uint32 s - rule
F destination_port_range destinationPortRange 11 message s envoy.type.v3.Int32Range rule
F metadata metadata 7 message s envoy.type.matcher.v3.MetadataMatcher rule deprecated
F not_rule notRule 8 message s envoy.config.rbac.v3.Permission rule
F requested_server_name requestedServerName 9 message s envoy.type.matcher.v3.StringMatcher rule
F matcher matcher 12 message s envoy.config.core.v3.TypedExtensionConfig rule
F uri_template uriTemplate 13 message s envoy.config.core.v3.TypedExtensionConfig rule
F sourced_metadata sourcedMetadata 14 message s envoy.config.rbac.v3.SourcedMetadata rule
M envoy.config.rbac.v3.Permission.Set
F rules rules 1 message r envoy.config.rbac.v3.Permission -
M envoy.config.rbac.v3.Principal
F and_ids andIds 1 message s envoy.config.rbac.v3.Principal.Set identifier
F or_ids orIds 2 message s envoy.config.rbac.v3.Principal.Set identifier
F any any 3 bool s - identifier
F authenticated authenticated 4 message s envoy.config.rbac.v3.Principal.Authenticated identifier
F source_ip sourceIp 5 message s envoy.config.core.v3.CidrRange identifier deprecated
F direct_remote_ip directRemoteIp 10 message s envoy.config.core.v3.CidrRange identifier
F remote_ip remoteIp 11 message s envoy.config.core.v3.CidrRange identifier
F header header 6 message s envoy.config.route.v3.HeaderMatcher identifier
F url_path urlPath 9 message s envoy.type.matcher.v3.PathMatcher identifier
F metadata metadata 7 message s envoy.type.matcher.v3.MetadataMatcher identifier deprecated
F filter_state filterState 12 message s envoy.type.matcher.v3.FilterStateMatcher identifier
F not_id notId 8 message s envoy.config.rbac.v3.Principal identifier
F sourced_metadata sourcedMetadata 13 message s envoy.config.rbac.v3.SourcedMetadata identifier
F custom custom 14 message s envoy.config.core.v3.TypedExtensionConfig identifier
M envoy.config.rbac.v3.Principal.Set
F ids ids 1 message r envoy.config.rbac.v3.Principal -
M envoy.config.rbac.v3.Principal.Authenticated
F principal_name principalName 2 message s envoy.type.matcher.v3.StringMatcher -
M envoy.config.rbac.v3.Action
F name name 1 string s - -
F action action 2 enum s envoy.config.rbac.v3.RBAC.Action -
E envoy.config.rbac.v3.MetadataSource DYNAMIC=0 ROUTE=1
M envoy.extensions.filters.network.rbac.v3.RBAC
F rules rules 1 message s envoy.config.rbac.v3.RBAC -
F matcher matcher 6 message s xds.type.matcher.v3.Matcher -
F shadow_rules shadowRules 2 message s envoy.config.rbac.v3.RBAC -
F shadow_matcher shadowMatcher 7 message s xds.type.matcher.v3.Matcher -
F shadow_rules_stat_prefix shadowRulesStatPrefix 5 string s - -
F stat_prefix statPrefix 3 string s - -
F enforcement_type enforcementType 4 enum s envoy.extensions.filters.network.rbac.v3.RBAC.EnforcementType -
F delay_deny delayDeny 8 message s google.protobuf.Duration -
E envoy.extensions.filters.network.rbac.v3.RBAC.EnforcementType ONE_TIME_ON_FIRST_BYTE=0 CONTINUOUS=1
M envoy.extensions.filters.http.rbac.v3.RBAC
F rules rules 1 message s envoy.config.rbac.v3.RBAC -
F rules_stat_prefix rulesStatPrefix 6 string s - -
F matcher matcher 4 message s xds.type.matcher.v3.Matcher -
F shadow_rules shadowRules 2 message s envoy.config.rbac.v3.RBAC -
F shadow_matcher shadowMatcher 5 message s xds.type.matcher.v3.Matcher -
F shadow_rules_stat_prefix shadowRulesStatPrefix 3 string s - -
F track_per_rule_stats trackPerRuleStats 7 bool s - -
M envoy.extensions.filters.http.rbac.v3.RBACPerRoute
F rbac rbac 2 message s envoy.extensions.filters.http.rbac.v3.RBAC -
M envoy.extensions.filters.common.fault.v3.FaultDelay
F fixed_delay fixedDelay 3 message s google.protobuf.Duration fault_delay_secifier
F header_delay headerDelay 5 message s envoy.extensions.filters.common.fault.v3.FaultDelay.HeaderDelay fault_delay_secifier
F percentage percentage 4 message s envoy.type.v3.FractionalPercent -
M envoy.extensions.filters.common.fault.v3.FaultDelay.HeaderDelay
E envoy.extensions.filters.common.fault.v3.FaultDelay.FaultDelayType FIXED=0
M envoy.extensions.filters.common.fault.v3.FaultRateLimit
F fixed_limit fixedLimit 1 message s envoy.extensions.filters.common.fault.v3.FaultRateLimit.FixedLimit limit_type
F header_limit headerLimit 3 message s envoy.extensions.filters.common.fault.v3.FaultRateLimit.HeaderLimit limit_type
F percentage percentage 2 message s envoy.type.v3.FractionalPercent -
M envoy.extensions.filters.common.fault.v3.FaultRateLimit.FixedLimit
F limit_kbps limitKbps 1 uint64 s - -
M envoy.extensions.filters.common.fault.v3.FaultRateLimit.HeaderLimit
M envoy.extensions.filters.http.fault.v3.FaultAbort
F http_status httpStatus 2 uint32 s - error_type
F grpc_status grpcStatus 5 uint32 s - error_type
F header_abort headerAbort 4 message s envoy.extensions.filters.http.fault.v3.FaultAbort.HeaderAbort error_type
F percentage percentage 3 message s envoy.type.v3.FractionalPercent -
M envoy.extensions.filters.http.fault.v3.FaultAbort.HeaderAbort
M envoy.extensions.filters.http.fault.v3.HTTPFault
F delay delay 1 message s envoy.extensions.filters.common.fault.v3.FaultDelay -
F abort abort 2 message s envoy.extensions.filters.http.fault.v3.FaultAbort -
F upstream_cluster upstreamCluster 3 string s - -
F headers headers 4 message r envoy.config.route.v3.HeaderMatcher -
F downstream_nodes downstreamNodes 5 string r - -
F max_active_faults maxActiveFaults 6 message s google.protobuf.UInt32Value -
F response_rate_limit responseRateLimit 7 message s envoy.extensions.filters.common.fault.v3.FaultRateLimit -
F delay_percent_runtime delayPercentRuntime 8 string s - -
F abort_percent_runtime abortPercentRuntime 9 string s - -
F delay_duration_runtime delayDurationRuntime 10 string s - -
F abort_http_status_runtime abortHttpStatusRuntime 11 string s - -
F max_active_faults_runtime maxActiveFaultsRuntime 12 string s - -
F response_rate_limit_percent_runtime responseRateLimitPercentRuntime 13 string s - -
F abort_grpc_status_runtime abortGrpcStatusRuntime 14 string s - -
F disable_downstream_cluster_stats disableDownstreamClusterStats 15 bool s - -
F filter_metadata filterMetadata 16 message s google.protobuf.Struct -
E envoy.type.v3.RateLimitUnit UNKNOWN=0 SECOND=1 MINUTE=2 HOUR=3 DAY=4 MONTH=5 YEAR=6
M envoy.type.v3.TokenBucket
F max_tokens maxTokens 1 uint32 s - -
F tokens_per_fill tokensPerFill 2 message s google.protobuf.UInt32Value -
F fill_interval fillInterval 3 message s google.protobuf.Duration -
M envoy.extensions.common.ratelimit.v3.RateLimitDescriptor
F entries entries 1 message r envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry -
F limit limit 2 message s envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.RateLimitOverride -
F hits_addend hitsAddend 3 message s google.protobuf.UInt64Value -
M envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry
F key key 1 string s - -
F value value 2 string s - -
M envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.RateLimitOverride
F requests_per_unit requestsPerUnit 1 uint32 s - -
F unit unit 2 enum s envoy.type.v3.RateLimitUnit -
M envoy.extensions.common.ratelimit.v3.LocalRateLimitDescriptor
F entries entries 1 message r envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry -
F token_bucket tokenBucket 2 message s envoy.type.v3.TokenBucket -
M envoy.extensions.common.ratelimit.v3.LocalClusterRateLimit
E envoy.extensions.common.ratelimit.v3.XRateLimitHeadersRFCVersion OFF=0 DRAFT_VERSION_03=1
E envoy.extensions.common.ratelimit.v3.VhRateLimitsOptions OVERRIDE=0 INCLUDE=1 IGNORE=2
M envoy.type.v3.HttpStatus
F code code 1 enum s envoy.type.v3.StatusCode -
E envoy.type.v3.StatusCode Empty=0 Continue=100 OK=200 Created=201 Accepted=202 NonAuthoritativeInformation=203 NoContent=204 ResetContent=205 PartialContent=206 MultiStatus=207 AlreadyReported=208 IMUsed=226 MultipleChoices=300 MovedPermanently=301 Found=302 SeeOther=303 NotModified=304 UseProxy=305 TemporaryRedirect=307 PermanentRedirect=308 BadRequest=400 Unauthorized=401 PaymentRequired=402 Forbidden=403 NotFound=404 MethodNotAllowed=405 NotAcceptable=406 ProxyAuthenticationRequired=407 RequestTimeout=408 Conflict=409 Gone=410 LengthRequired=411 PreconditionFailed=412 PayloadTooLarge=413 URITooLong=414 UnsupportedMediaType=415 RangeNotSatisfiable=416 ExpectationFailed=417 MisdirectedRequest=421 UnprocessableEntity=422 Locked=423 FailedDependency=424 UpgradeRequired=426 PreconditionRequired=428 TooManyRequests=429 RequestHeaderFieldsTooLarge=431 InternalServerError=500 NotImplemented=501 BadGateway=502 ServiceUnavailable=503 GatewayTimeout=504 HTTPVersionNotSupported=505 VariantAlsoNegotiates=506 InsufficientStorage=507 LoopDetected=508 NotExtended=510 NetworkAuthenticationRequired=511
M envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
F stat_prefix statPrefix 1 string s - -
F status status 2 message s envoy.type.v3.HttpStatus -
F token_bucket tokenBucket 3 message s envoy.type.v3.TokenBucket -
F filter_enabled filterEnabled 4 message s envoy.config.core.v3.RuntimeFractionalPercent -
F filter_enforced filterEnforced 5 message s envoy.config.core.v3.RuntimeFractionalPercent -
F request_headers_to_add_when_not_enforced requestHeadersToAddWhenNotEnforced 10 message r envoy.config.core.v3.HeaderValueOption -
F response_headers_to_add responseHeadersToAdd 6 message r envoy.config.core.v3.HeaderValueOption -
F descriptors descriptors 8 message r envoy.extensions.common.ratelimit.v3.LocalRateLimitDescriptor -
F stage stage 9 uint32 s - -
F local_rate_limit_per_downstream_connection localRateLimitPerDownstreamConnection 11 bool s - -
F local_cluster_rate_limit localClusterRateLimit 16 message s envoy.extensions.common.ratelimit.v3.LocalClusterRateLimit -
F enable_x_ratelimit_headers enableXRatelimitHeaders 12 enum s envoy.extensions.common.ratelimit.v3.XRateLimitHeadersRFCVersion -
F vh_rate_limits vhRateLimits 13 enum s envoy.extensions.common.ratelimit.v3.VhRateLimitsOptions -
F always_consume_default_token_bucket alwaysConsumeDefaultTokenBucket 14 message s google.protobuf.BoolValue -
F rate_limited_as_resource_exhausted rateLimitedAsResourceExhausted 15 bool s - -
F rate_limits rateLimits 17 message r envoy.config.route.v3.RateLimit -
F max_dynamic_descriptors maxDynamicDescriptors 18 message s google.protobuf.UInt32Value -
M envoy.extensions.filters.listener.original_dst.v3.OriginalDst
M envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector
F enable_ja3_fingerprinting enableJa3Fingerprinting 1 message s google.protobuf.BoolValue -
F enable_ja4_fingerprinting enableJa4Fingerprinting 3 message s google.protobuf.BoolValue -
F initial_read_buffer_size initialReadBufferSize 2 message s google.protobuf.UInt32Value -
F close_connection_on_client_hello_parsing_errors closeConnectionOnClientHelloParsingErrors 4 bool s - -
F max_client_hello_size maxClientHelloSize 5 message s google.protobuf.UInt32Value -
M envoy.extensions.filters.listener.http_inspector.v3.HttpInspector
M envoy.config.common.matcher.v3.Matcher
F matcher_list matcherList 1 message s envoy.config.common.matcher.v3.Matcher.MatcherList matcher_type
F matcher_tree matcherTree 2 message s envoy.config.common.matcher.v3.Matcher.MatcherTree matcher_type
F on_no_match onNoMatch 3 message s envoy.config.common.matcher.v3.Matcher.OnMatch -
M envoy.config.common.matcher.v3.Matcher.OnMatch
F matcher matcher 1 message s envoy.config.common.matcher.v3.Matcher on_match
F action action 2 message s envoy.config.core.v3.TypedExtensionConfig on_match
F keep_matching keepMatching 3 bool s - -
M envoy.config.common.matcher.v3.Matcher.MatcherList
F matchers matchers 1 message r envoy.config.common.matcher.v3.Matcher.MatcherList.FieldMatcher -
M envoy.config.common.matcher.v3.Matcher.MatcherList.Predicate
F single_predicate singlePredicate 1 message s envoy.config.common.matcher.v3.Matcher.MatcherList.Predicate.SinglePredicate match_type
F or_matcher orMatcher 2 message s envoy.config.common.matcher.v3.Matcher.MatcherList.Predicate.PredicateList match_type
F and_matcher andMatcher 3 message s envoy.config.common.matcher.v3.Matcher.MatcherList.Predicate.PredicateList match_type
F not_matcher notMatcher 4 message s envoy.config.common.matcher.v3.Matcher.MatcherList.Predicate match_type
M envoy.config.common.matcher.v3.Matcher.MatcherList.Predicate.SinglePredicate
F input input 1 message s envoy.config.core.v3.TypedExtensionConfig -
F value_match valueMatch 2 message s envoy.type.matcher.v3.StringMatcher matcher
F custom_match customMatch 3 message s envoy.config.core.v3.TypedExtensionConfig matcher
M envoy.config.common.matcher.v3.Matcher.MatcherList.Predicate.PredicateList
F predicate predicate 1 message r envoy.config.common.matcher.v3.Matcher.MatcherList.Predicate -
M envoy.config.common.matcher.v3.Matcher.MatcherList.FieldMatcher
F predicate predicate 1 message s envoy.config.common.matcher.v3.Matcher.MatcherList.Predicate -
F on_match onMatch 2 message s envoy.config.common.matcher.v3.Matcher.OnMatch -
M envoy.config.common.matcher.v3.Matcher.MatcherTree
F input input 1 message s envoy.config.core.v3.TypedExtensionConfig -
F exact_match_map exactMatchMap 2 message s envoy.config.common.matcher.v3.Matcher.MatcherTree.MatchMap tree_type
F prefix_match_map prefixMatchMap 3 message s envoy.config.common.matcher.v3.Matcher.MatcherTree.MatchMap tree_type
F custom_match customMatch 4 message s envoy.config.core.v3.TypedExtensionConfig tree_type
M envoy.config.common.matcher.v3.Matcher.MatcherTree.MatchMap
F map map 1 message r envoy.config.common.matcher.v3.Matcher.MatcherTree.MatchMap.MapEntry -
M envoy.config.common.matcher.v3.Matcher.MatcherTree.MatchMap.MapEntry map
F key key 1 string s - -
F value value 2 message s envoy.config.common.matcher.v3.Matcher.OnMatch -
M envoy.config.common.matcher.v3.MatchPredicate
F or_match orMatch 1 message s envoy.config.common.matcher.v3.MatchPredicate.MatchSet rule
F and_match andMatch 2 message s envoy.config.common.matcher.v3.MatchPredicate.MatchSet rule
F not_match notMatch 3 message s envoy.config.common.matcher.v3.MatchPredicate rule
F any_match anyMatch 4 bool s - rule
F http_request_headers_match httpRequestHeadersMatch 5 message s envoy.config.common.matcher.v3.HttpHeadersMatch rule
F http_request_trailers_match httpRequestTrailersMatch 6 message s envoy.config.common.matcher.v3.HttpHeadersMatch rule
F http_response_headers_match httpResponseHeadersMatch 7 message s envoy.config.common.matcher.v3.HttpHeadersMatch rule
F http_response_trailers_match httpResponseTrailersMatch 8 message s envoy.config.common.matcher.v3.HttpHeadersMatch rule
F http_request_generic_body_match httpRequestGenericBodyMatch 9 message s envoy.config.common.matcher.v3.HttpGenericBodyMatch rule
F http_response_generic_body_match httpResponseGenericBodyMatch 10 message s envoy.config.common.matcher.v3.HttpGenericBodyMatch rule
M envoy.config.common.matcher.v3.MatchPredicate.MatchSet
F rules rules 1 message r envoy.config.common.matcher.v3.MatchPredicate -
M envoy.config.common.matcher.v3.HttpHeadersMatch
F headers headers 1 message r envoy.config.route.v3.HeaderMatcher -
M envoy.config.common.matcher.v3.HttpGenericBodyMatch
F bytes_limit bytesLimit 1 uint32 s - -
F patterns patterns 2 message r envoy.config.common.matcher.v3.HttpGenericBodyMatch.GenericTextMatch -
M envoy.config.common.matcher.v3.HttpGenericBodyMatch.GenericTextMatch
F string_match stringMatch 1 string s - rule
F binary_match binaryMatch 2 bytes s - rule
M envoy.extensions.upstreams.http.v3.HttpProtocolOptions
F common_http_protocol_options commonHttpProtocolOptions 1 message s envoy.config.core.v3.HttpProtocolOptions -
F upstream_http_protocol_options upstreamHttpProtocolOptions 2 message s envoy.config.core.v3.UpstreamHttpProtocolOptions -
F explicit_http_config explicitHttpConfig 3 message s envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig upstream_protocol_options
F use_downstream_protocol_config useDownstreamProtocolConfig 4 message s envoy.extensions.upstreams.http.v3.HttpProtocolOptions.UseDownstreamHttpConfig upstream_protocol_options
F auto_config autoConfig 5 message s envoy.extensions.upstreams.http.v3.HttpProtocolOptions.AutoHttpConfig upstream_protocol_options
F http_filters httpFilters 6 message r envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter -
F header_validation_config headerValidationConfig 7 message s envoy.config.core.v3.TypedExtensionConfig -
F outlier_detection outlierDetection 8 message s envoy.extensions.upstreams.http.v3.HttpProtocolOptions.OutlierDetection -
F request_mirror_policies requestMirrorPolicies 9 message r envoy.config.route.v3.RouteAction.RequestMirrorPolicy -
F hash_policy hashPolicy 10 message r envoy.config.route.v3.RouteAction.HashPolicy -
F retry_policy retryPolicy 11 message s envoy.config.route.v3.RetryPolicy -
M envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig
F http_protocol_options httpProtocolOptions 1 message s envoy.config.core.v3.Http1ProtocolOptions protocol_config
F http2_protocol_options http2ProtocolOptions 2 message s envoy.config.core.v3.Http2ProtocolOptions protocol_config
F http3_protocol_options http3ProtocolOptions 3 message s envoy.config.core.v3.Http3ProtocolOptions protocol_config
M envoy.extensions.upstreams.http.v3.HttpProtocolOptions.UseDownstreamHttpConfig
F http_protocol_options httpProtocolOptions 1 message s envoy.config.core.v3.Http1ProtocolOptions -
F http2_protocol_options http2ProtocolOptions 2 message s envoy.config.core.v3.Http2ProtocolOptions -
F http3_protocol_options http3ProtocolOptions 3 message s envoy.config.core.v3.Http3ProtocolOptions -
M envoy.extensions.upstreams.http.v3.HttpProtocolOptions.AutoHttpConfig
F http_protocol_options httpProtocolOptions 1 message s envoy.config.core.v3.Http1ProtocolOptions -
F http2_protocol_options http2ProtocolOptions 2 message s envoy.config.core.v3.Http2ProtocolOptions -
F http3_protocol_options http3ProtocolOptions 3 message s envoy.config.core.v3.Http3ProtocolOptions -
F alternate_protocols_cache_options alternateProtocolsCacheOptions 4 message s envoy.config.core.v3.AlternateProtocolsCacheOptions -
M envoy.extensions.upstreams.http.v3.HttpProtocolOptions.OutlierDetection
F error_matcher errorMatcher 1 message s envoy.config.common.matcher.v3.MatchPredicate -
M envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions
F idle_timeout idleTimeout 1 message s google.protobuf.Duration -
M envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate
M envoy.extensions.access_loggers.file.v3.FileAccessLog
F path path 1 string s - -
F format format 2 string s - access_log_format deprecated
F json_format jsonFormat 3 message s google.protobuf.Struct access_log_format deprecated
F typed_json_format typedJsonFormat 4 message s google.protobuf.Struct access_log_format deprecated
F log_format logFormat 5 message s envoy.config.core.v3.SubstitutionFormatString access_log_format
M envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
F log_format logFormat 1 message s envoy.config.core.v3.SubstitutionFormatString access_log_format
M envoy.extensions.access_loggers.stream.v3.StderrAccessLog
F log_format logFormat 1 message s envoy.config.core.v3.SubstitutionFormatString access_log_format
M google.rpc.Status
F code code 1 int32 s - -
F message message 2 string s - -
F details details 3 message r google.protobuf.Any -
M envoy.service.discovery.v3.ResourceLocator
F name name 1 string s - -
F dynamic_parameters dynamicParameters 2 message r envoy.service.discovery.v3.ResourceLocator.DynamicParametersEntry -
M envoy.service.discovery.v3.ResourceLocator.DynamicParametersEntry map
F key key 1 string s - -
F value value 2 string s - -
M envoy.service.discovery.v3.ResourceName
F name name 1 string s - -
F dynamic_parameter_constraints dynamicParameterConstraints 2 message s envoy.service.discovery.v3.DynamicParameterConstraints -
M envoy.service.discovery.v3.ResourceError
F resource_name resourceName 1 message s envoy.service.discovery.v3.ResourceName -
F error_detail errorDetail 2 message s google.rpc.Status -
M envoy.service.discovery.v3.DiscoveryRequest
F version_info versionInfo 1 string s - -
F node node 2 message s envoy.config.core.v3.Node -
F resource_names resourceNames 3 string r - -
F resource_locators resourceLocators 7 message r envoy.service.discovery.v3.ResourceLocator -
F type_url typeUrl 4 string s - -
F response_nonce responseNonce 5 string s - -
F error_detail errorDetail 6 message s google.rpc.Status -
M envoy.service.discovery.v3.DiscoveryResponse
F version_info versionInfo 1 string s - -
F resources resources 2 message r google.protobuf.Any -
F canary canary 3 bool s - -
F type_url typeUrl 4 string s - -
F nonce nonce 5 string s - -
F control_plane controlPlane 6 message s envoy.config.core.v3.ControlPlane -
F resource_errors resourceErrors 7 message r envoy.service.discovery.v3.ResourceError -
M envoy.service.discovery.v3.DeltaDiscoveryRequest
F node node 1 message s envoy.config.core.v3.Node -
F type_url typeUrl 2 string s - -
F resource_names_subscribe resourceNamesSubscribe 3 string r - -
F resource_names_unsubscribe resourceNamesUnsubscribe 4 string r - -
F resource_locators_subscribe resourceLocatorsSubscribe 8 message r envoy.service.discovery.v3.ResourceLocator -
F resource_locators_unsubscribe resourceLocatorsUnsubscribe 9 message r envoy.service.discovery.v3.ResourceLocator -
F initial_resource_versions initialResourceVersions 5 message r envoy.service.discovery.v3.DeltaDiscoveryRequest.InitialResourceVersionsEntry -
F response_nonce responseNonce 6 string s - -
F error_detail errorDetail 7 message s google.rpc.Status -
M envoy.service.discovery.v3.DeltaDiscoveryRequest.InitialResourceVersionsEntry map
F key key 1 string s - -
F value value 2 string s - -
M envoy.service.discovery.v3.DeltaDiscoveryResponse
F system_version_info systemVersionInfo 1 string s - -
F resources resources 2 message r envoy.service.discovery.v3.Resource -
F type_url typeUrl 4 string s - -
F removed_resources removedResources 6 string r - -
F removed_resource_names removedResourceNames 8 message r envoy.service.discovery.v3.ResourceName -
F nonce nonce 5 string s - -
F control_plane controlPlane 7 message s envoy.config.core.v3.ControlPlane -
F resource_errors resourceErrors 9 message r envoy.service.discovery.v3.ResourceError -
M envoy.service.discovery.v3.DynamicParameterConstraints
F constraint constraint 1 message s envoy.service.discovery.v3.DynamicParameterConstraints.SingleConstraint type
F or_constraints orConstraints 2 message s envoy.service.discovery.v3.DynamicParameterConstraints.ConstraintList type
F and_constraints andConstraints 3 message s envoy.service.discovery.v3.DynamicParameterConstraints.ConstraintList type
F not_constraints notConstraints 4 message s envoy.service.discovery.v3.DynamicParameterConstraints type
M envoy.service.discovery.v3.DynamicParameterConstraints.SingleConstraint
F key key 1 string s - -
F value value 2 string s - constraint_type
F exists exists 3 message s envoy.service.discovery.v3.DynamicParameterConstraints.SingleConstraint.Exists constraint_type
M envoy.service.discovery.v3.DynamicParameterConstraints.SingleConstraint.Exists
M envoy.service.discovery.v3.DynamicParameterConstraints.ConstraintList
F constraints constraints 1 message r envoy.service.discovery.v3.DynamicParameterConstraints -
M envoy.service.discovery.v3.Resource
F name name 3 string s - -
F resource_name resourceName 8 message s envoy.service.discovery.v3.ResourceName -
F aliases aliases 4 string r - -
F version version 1 string s - -
F resource resource 2 message s google.protobuf.Any -
F ttl ttl 6 message s google.protobuf.Duration -
F cache_control cacheControl 7 message s envoy.service.discovery.v3.Resource.CacheControl -
F metadata metadata 9 message s envoy.config.core.v3.Metadata -
M envoy.service.discovery.v3.Resource.CacheControl
F do_not_cache doNotCache 1 bool s - -
M envoy.service.discovery.v3.AdsDummy
"""
