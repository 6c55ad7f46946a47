#pragma once
// Opening a connection to one etcd member, blocking on a private io_context: TCP, then
// for https:// endpoints a TLS handshake that checks etcd's certificate.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "cluster/etcd_stream.hpp"
#include "common/host_port.hpp"
#include "routing/config.hpp"

namespace ignite::cluster {

// The TLS client context of `spec` (state.etcd.tls): etcd's certificate must chain to
// ca_file; a client certificate is presented if one is configured. Null when the
// endpoints are plain http. Throws routing::state_error naming the key of a file that
// cannot be read or used.
std::unique_ptr<boost::asio::ssl::context> etcd_tls_context(const routing::etcd_spec& spec);

// Resolves and connects `stream` (emplaced on `ioc`) to `member` within `timeout`, running
// `ioc` until done; the caller owns `ioc` and runs nothing else on it meanwhile. With
// `tls`, the handshake follows (within the same timeout) and the certificate must chain
// to the context's CA and name `member`'s host (DNS name or IP address). Returns "" once
// connected; on failure `stream` is empty and the answer says why ("connection refused",
// "TLS handshake: certificate verify failed: unable to get local issuer certificate").
std::string dial(boost::asio::io_context& ioc, std::optional<etcd_stream>& stream, const common::host_port& member,
                 std::chrono::milliseconds timeout, boost::asio::ssl::context* tls);

}  // namespace ignite::cluster
