// One RAII owner for each libcurl handle type (easy handles and header lists).
#pragma once

#include <curl/curl.h>

#include <memory>

namespace coder_dns_doctor::http {

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

} // namespace coder_dns_doctor::http
