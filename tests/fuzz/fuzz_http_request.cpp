// libFuzzer target: whatever bytes a client sends the daemon's listener, the request reader
// (daemon/http_request.hpp) must not crash and must keep its promises:
//  - head_end never points past the buffer, and finds the same end however the bytes are chunked
//    when the caller searches each new chunk from three bytes before it (as http_server does);
//  - a parsed request has an origin-form path without control characters and a token method; a
//    failure is a 400 or a 505;
//  - accepts_gzip answers for any header value.
#include <coder_dns_doctor/daemon/http_request.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace daemon_ = coder_dns_doctor::daemon;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

// The end the listener finds when the bytes arrive as data[:split] then the rest.
std::optional<std::size_t> chunked_end(std::string_view data, std::size_t split) {
  if (auto first = daemon_::head_end(data.substr(0, split)))
    return first;
  std::size_t searched = split >= 3 ? split - 3 : 0;
  auto rest = daemon_::head_end(data.substr(searched));
  if (!rest)
    return std::nullopt;
  return searched + *rest;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  auto end = daemon_::head_end(data);
  check(!end || *end <= data.size(), "head_end past the buffer");
  for (std::size_t split : {std::size_t{1}, size / 3, size / 2, size > 0 ? size - 1 : 0})
    if (split <= size)
      check(chunked_end(data, split) == end, "chunked search finds another end");
  auto request = daemon_::parse_request(end ? data.substr(0, *end) : data);
  if (request) {
    check(!request->path.empty() && request->path.front() == '/', "path not origin-form");
    for (char c : request->path)
      check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "a control character in the path");
    check(!request->method.empty() && request->method.find(' ') == std::string::npos, "method not a token");
    (void)daemon_::accepts_gzip(request->accept_encoding);
  } else {
    check(request.error() == 400 || request.error() == 505, "a status other than 400 or 505");
  }
  (void)daemon_::accepts_gzip(data);
  return 0;
}
