#include <coder_dns_doctor/probe/libraries.hpp>

#include <ares.h>
#include <curl/curl.h>
#include <fmt/core.h>

namespace coder_dns_doctor::probe {

std::expected<std::unique_ptr<Libraries>, std::string> Libraries::start() {
  std::unique_ptr<Libraries> libraries(new Libraries());
  libraries->m_ares = ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS;
  if (!libraries->m_ares)
    return std::unexpected("c-ares library initialisation failed");
  libraries->m_curl = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!libraries->m_curl)
    return std::unexpected("libcurl global initialisation failed");
  return libraries;
}

Libraries::~Libraries() {
  if (m_curl)
    curl_global_cleanup();
  if (m_ares)
    ares_library_cleanup();
}

std::string library_versions() {
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  return fmt::format("c-ares {}, libcurl {} ({})", ares_version(nullptr), curl->version,
                     curl->ssl_version != nullptr ? curl->ssl_version : "no TLS");
}

} // namespace coder_dns_doctor::probe
