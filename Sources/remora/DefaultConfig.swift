/// The bootstrap Remora runs when started without `-c`: an admin server on
/// 127.0.0.1:9901, and a TCP proxy on 127.0.0.1:10000 whose upstream is
/// that admin server, so `curl http://127.0.0.1:10000/server_info` goes
/// through the proxy to something real on any machine.
enum DefaultConfig {
    static let yaml = """
    node:
      id: remora-default
      cluster: remora
    admin:
      address:
        socket_address: {address: 127.0.0.1, port_value: 9901}
    static_resources:
      listeners:
      - name: default_tcp
        address:
          socket_address: {address: 127.0.0.1, port_value: 10000}
        filter_chains:
        - filters:
          - name: envoy.filters.network.tcp_proxy
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
              stat_prefix: default_tcp
              cluster: admin
      clusters:
      - name: admin
        type: STATIC
        connect_timeout: 1s
        load_assignment:
          cluster_name: admin
          endpoints:
          - lb_endpoints:
            - endpoint:
                address:
                  socket_address: {address: 127.0.0.1, port_value: 9901}
    """
}
