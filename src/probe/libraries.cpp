#include <coder_dns_doctor/probe/libraries.hpp>

#include <ares.h>
#include <curl/curl.h>
#include <fmt/core.h>

#include <stdexcept>

namespace coder_dns_doctor::probe {

Libraries::Libraries() {
  if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
    throw std::runtime_error("c-ares library initialisation failed");
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    throw std::runtime_error("libcurl global initialisation failed");
}

Libraries::~Libraries() {
  curl_global_cleanup();
  ares_library_cleanup();
}

std::string library_versions() {
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  return fmt::format("c-ares {}, libcurl {} ({})", ares_version(nullptr), curl->version,
                     curl->ssl_version != nullptr ? curl->ssl_version : "no TLS");
}

} // namespace coder_dns_doctor::probe
