// Layer 2 (http). One RAII owner for each libcurl handle type: easy, multi, URL and header list.
// Requests go through http::Client only; elsewhere libcurl appears just for its process-wide
// initialisation (probe/libraries) and its poll flags (the probe engine's loop).
#pragma once

#include <curl/curl.h>

#include <memory>

namespace coder_dns_doctor::http {

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct CurlTextDeleter {
  void operator()(char* text) const { curl_free(text); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;
using CurlText = std::unique_ptr<char, CurlTextDeleter>;

} // namespace coder_dns_doctor::http
