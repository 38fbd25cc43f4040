// Test PKI for TLS tests: made once per process with the openssl command line in a temporary folder.
#include "support/test_pki.hpp"

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace qix::test {

namespace {
void run(const std::string& cmd) {
  std::string full = cmd + " >/dev/null 2>&1";
  // NOLINTNEXTLINE(concurrency-mt-unsafe): one at a time (static init); no thread forks or uses signals
  if (std::system(full.c_str()) != 0) throw std::runtime_error("test PKI: command failed: " + cmd);
}
}  // namespace

const TestPki& TestPki::get() {
  static const TestPki pki = [] {
    TestPki p;
    auto base = std::filesystem::temp_directory_path() / ("qix-pki-" + std::to_string(::getpid()));
    std::filesystem::create_directories(base);
    p.dir = base.string();
    auto f = [&](const char* name) { return (base / name).string(); };
    p.ca_cert = f("ca.pem");
    p.ca_key = f("ca.key");
    p.server_cert = f("server.pem");
    p.server_key = f("server.key");
    p.wrong_host_cert = f("wrong.pem");
    p.wrong_host_key = f("wrong.key");
    p.client_cert = f("client.pem");
    p.client_key = f("client_key.pem");
    p.other_ca_cert = f("other-ca.pem");
    p.rogue_client_cert = f("rogue.pem");
    p.rogue_client_key = f("rogue.key");
    const std::string d = p.dir;
    auto ca = [&](const std::string& cert, const std::string& key, const std::string& cn) {
      run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=" + cn + "' -keyout " + key +
          " -out " + cert +
          " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
    };
    auto leaf = [&](const std::string& cert, const std::string& key, const std::string& cn,
                    const std::string& ext, const std::string& issuer_cert, const std::string& issuer_key) {
      std::string csr = cert + ".csr", extf = cert + ".ext";
      run("openssl req -newkey rsa:2048 -nodes -subj '/CN=" + cn + "' -keyout " + key + " -out " + csr);
      run("sh -c \"printf '" + ext + "\\n' > " + extf + "\"");
      run("openssl x509 -req -in " + csr + " -CA " + issuer_cert + " -CAkey " + issuer_key +
          " -CAcreateserial -days 2 -out " + cert + " -extfile " + extf);
    };
    ca(p.ca_cert, p.ca_key, "libqix test CA");
    ca(p.other_ca_cert, d + "/other-ca.key", "unrelated CA");
    leaf(p.server_cert, p.server_key, "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1", p.ca_cert,
         p.ca_key);
    leaf(p.wrong_host_cert, p.wrong_host_key, "other.example", "subjectAltName=DNS:other.example", p.ca_cert,
         p.ca_key);
    leaf(p.client_cert, p.client_key, "qix-client", "extendedKeyUsage=clientAuth", p.ca_cert, p.ca_key);
    leaf(p.rogue_client_cert, p.rogue_client_key, "rogue", "extendedKeyUsage=clientAuth", p.other_ca_cert,
         d + "/other-ca.key");
    return p;
  }();
  return pki;
}

}  // namespace qix::test
