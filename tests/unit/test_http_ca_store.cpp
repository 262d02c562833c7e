// The shared CA store: a PEM bundle is loaded from memory (every certificate of it), rebuilt when
// the file changes, and a file that is not a readable regular file gives an empty store at once.
#include <coder_dns_doctor/http/ca_store.hpp>

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

using namespace coder_dns_doctor;
namespace fs = std::filesystem;

namespace {

using coder_dns_doctor::testing::TempDir;

// A self-signed certificate for CN=`name`, as PEM (an EC key: quick to make).
std::string self_signed_pem(const std::string& name) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  REQUIRE(key != nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert, subject);
  REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  X509_free(cert);
  EVP_PKEY_free(key);
  return pem;
}

int certificates_in(void* store) {
  REQUIRE(store != nullptr);
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(static_cast<X509_STORE*>(store));
  int count = 0;
  for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i)
    if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objects, i)) == X509_LU_X509)
      ++count;
  return count;
}

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

} // namespace

TEST_SUITE("http::ca_store") {
  TEST_CASE("every certificate of a PEM bundle is loaded; a changed file is loaded again") {
    TempDir dir("cdd-ca-store");
    fs::path bundle = dir.path / "bundle.pem";
    // as in distribution bundles: text between the certificates
    write(bundle, "# first\n" + self_signed_pem("one.test") + "\n# second\n" + self_signed_pem("two.test"));
    void* store = http::shared_ca_store(bundle.string());
    CHECK(certificates_in(store) == 2);
    CHECK(http::shared_ca_store(bundle.string()) == store); // unchanged file: the cached store

    std::ofstream(bundle, std::ios::binary | std::ios::app) << self_signed_pem("three.test");
    void* rebuilt = http::shared_ca_store(bundle.string());
    CHECK(certificates_in(rebuilt) == 3);
  }

  TEST_CASE("a FIFO, a device, a directory, a missing or a too large file give an empty store at once") {
    TempDir dir("cdd-ca-store");
    fs::path fifo = dir.path / "fifo.pem";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    fs::path large = dir.path / "large.pem";
    std::string pem = self_signed_pem("large.test");
    std::string bytes;
    while (bytes.size() <= (4U << 20))
      bytes += pem; // valid PEM, only too much of it
    write(large, bytes);
    ::alarm(10); // a blocking read would hang the test binary: end it instead
    auto start = std::chrono::steady_clock::now();
    for (const fs::path& path : {fifo, fs::path("/dev/zero"), dir.path, dir.path / "absent.pem", large}) {
      CAPTURE(path.string());
      CHECK(certificates_in(http::shared_ca_store(path.string())) == 0);
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    ::alarm(0);
  }
}
