#include <coder_dns_doctor/http/ca_store.hpp>

#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <map>
#include <mutex>
#include <tuple>

namespace coder_dns_doctor::http {
namespace {

struct CachedStore {
  X509_STORE* store = nullptr;
  std::tuple<long, long, long> version; // size, mtime seconds, mtime nanoseconds
};

std::tuple<long, long, long> file_version(const std::string& path) {
  struct stat info {};
  if (path.empty() || stat(path.c_str(), &info) != 0)
    return {-1, 0, 0};
  return {static_cast<long>(info.st_size), static_cast<long>(info.st_mtim.tv_sec),
          static_cast<long>(info.st_mtim.tv_nsec)};
}

X509_STORE* build_store(const std::string& ca_file) {
  X509_STORE* store = X509_STORE_new();
  if (ca_file.empty())
    X509_STORE_set_default_paths(store); // hashed directory: certificates are read only when needed
  else
    X509_STORE_load_file(store, ca_file.c_str());
  return store;
}

} // namespace

void* shared_ca_store(const std::string& ca_file) {
  // Stores live for the process (the cache is never destroyed, so exit-time destructors cannot
  // race a connection still using one); a replaced store stays referenced by the SSL_CTXs using it.
  static std::mutex mutex;
  static auto* cache = new std::map<std::string, CachedStore>;
  std::lock_guard lock(mutex);
  CachedStore& cached = (*cache)[ca_file];
  auto version = file_version(ca_file);
  if (cached.store == nullptr || cached.version != version) {
    if (cached.store != nullptr)
      X509_STORE_free(cached.store);
    cached.store = build_store(ca_file);
    cached.version = version;
  }
  return cached.store;
}

} // namespace coder_dns_doctor::http
