#include <coder_dns_doctor/http/ca_store.hpp>
#include <coder_dns_doctor/util/bounded_read.hpp>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <climits>
#include <expected>
#include <map>
#include <mutex>
#include <tuple>

namespace coder_dns_doctor::http {
namespace {

struct CachedStore {
  X509_STORE* store = nullptr;
  std::tuple<long, long, long> version;      // size, mtime seconds, mtime nanoseconds
  std::expected<void, util::FileError> read; // how reading the file went when the store was built
};

std::tuple<long, long, long> file_version(const std::string& path) {
  struct stat info {};
  if (path.empty() || stat(path.c_str(), &info) != 0)
    return {-1, 0, 0};
  return {static_cast<long>(info.st_size), static_cast<long>(info.st_mtim.tv_sec),
          static_cast<long>(info.st_mtim.tv_nsec)};
}

// Add every certificate and CRL of the PEM bundle `pem` to `store` (what X509_STORE_load_file
// does with a file, without letting OpenSSL open it: see read_bounded).
void add_pem_bundle(X509_STORE* store, const std::string& pem) {
  if (pem.empty() || pem.size() > static_cast<std::size_t>(INT_MAX))
    return;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr)
    return;
  STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (infos == nullptr)
    return;
  for (int i = 0; i < sk_X509_INFO_num(infos); ++i) {
    X509_INFO* info = sk_X509_INFO_value(infos, i);
    if (info->x509 != nullptr)
      X509_STORE_add_cert(store, info->x509); // takes its own reference; a duplicate is ignored
    if (info->crl != nullptr)
      X509_STORE_add_crl(store, info->crl);
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
}

// Fill `cached` for `ca_file`: a store and how reading the file went.
void build_store(const std::string& ca_file, CachedStore& cached) {
  cached.read = {};
  cached.store = X509_STORE_new();
  if (cached.store == nullptr)
    return;
  if (ca_file.empty()) {
    X509_STORE_set_default_paths(cached.store); // hashed directory: certificates are read only when needed
    return;
  }
  // A file that is not a regular file, is too large or cannot be read leaves the store empty, so
  // verification fails; ca_file_readable() reports why.
  auto pem = util::read_bounded(ca_file, util::k_config_file_limit);
  if (pem)
    add_pem_bundle(cached.store, *pem);
  else
    cached.read = std::unexpected(pem.error());
}

// The cache entry of `ca_file`, rebuilt when the file's size or modification time changed.
// Entries live for the process (the cache is never destroyed, so exit-time destructors cannot race
// a connection still using one); a replaced store stays referenced by the SSL_CTXs using it.
// The caller holds `cache_mutex()`.
CachedStore& current_entry(const std::string& ca_file) {
  static auto* cache = new std::map<std::string, CachedStore>;
  CachedStore& cached = (*cache)[ca_file];
  auto version = file_version(ca_file);
  if (cached.store == nullptr || cached.version != version) {
    if (cached.store != nullptr)
      X509_STORE_free(cached.store);
    build_store(ca_file, cached);
    cached.version = version;
  }
  return cached;
}

std::mutex& cache_mutex() {
  static std::mutex mutex;
  return mutex;
}

} // namespace

void* shared_ca_store(const std::string& ca_file) {
  std::lock_guard lock(cache_mutex());
  return current_entry(ca_file).store;
}

std::expected<void, util::FileError> ca_file_readable(const std::string& ca_file) {
  std::lock_guard lock(cache_mutex());
  return current_entry(ca_file).read;
}

} // namespace coder_dns_doctor::http
