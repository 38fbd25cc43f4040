// Test PKI for TLS tests (see test_pki.cpp).
#pragma once

#include <string>

namespace qix::test {

/// Test PKI made with the openssl command line in a temporary folder: a CA, a server certificate for
/// localhost/127.0.0.1, a server certificate for another name, a client certificate, and a second CA.
struct TestPki {
  std::string dir;
  std::string ca_cert, ca_key;
  std::string server_cert, server_key;              // CN=localhost, SAN DNS:localhost, IP:127.0.0.1
  std::string wrong_host_cert, wrong_host_key;      // SAN DNS:other.example only
  std::string client_cert, client_key;              // signed by ca
  std::string other_ca_cert;                        // an unrelated CA
  std::string rogue_client_cert, rogue_client_key;  // signed by the unrelated CA
  /// Creates everything (once per process); throws on failure.
  static const TestPki& get();
};

}  // namespace qix::test
