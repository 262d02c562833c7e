#include <coder_dns_doctor/util/url.hpp>

#include <coder_dns_doctor/util/address.hpp>
#include <coder_dns_doctor/util/strings.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace coder_dns_doctor::util {

namespace {

// A URL byte is printable ASCII other than space: no control byte, NUL, whitespace or byte >= 0x80.
bool url_byte(char c) { return c > ' ' && c < '\x7f'; }

// Return `text` with the bytes a URL cannot hold written as \xHH, so an error message stays one
// readable line even for a NUL or an escape sequence read from a config file.
std::string escape_bytes(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (url_byte(c) || c == ' ')
      out += c;
    else
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
  }
  return out;
}

} // namespace

std::string Url::url_host() const {
  auto literal = parse_ip(host);
  return literal && literal->is_v6() ? "[" + host + "]" : host;
}

std::string Url::to_string() const {
  std::string out = scheme + "://" + url_host();
  if (port_explicit)
    out += fmt::format(":{}", port);
  return out + path;
}

std::string Url::join(std::string_view sub_path) const { return to_string() + std::string(sub_path); }

std::expected<Url, std::string> parse_url(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return std::unexpected(fmt::format("'{}' is not a usable URL ({})", escape_bytes(text), why));
  };
  // Nothing that to_string() could not give back: a NUL would cut the text short for C APIs such as
  // inet_pton, and a space or control byte has no place in a request line or a host name.
  if (auto bad = std::find_if_not(text.begin(), text.end(), url_byte); bad != text.end())
    return fail(fmt::format("expected printable ASCII without spaces or control characters, found byte 0x{:02x} "
                            "at offset {}",
                            static_cast<unsigned char>(*bad), bad - text.begin()));
  Url url;
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos)
    return fail("expected http://HOST[:PORT] or https://HOST[:PORT]");
  url.scheme = to_lower(text.substr(0, scheme_end));
  if (url.scheme == "http")
    url.port = 80;
  else if (url.scheme == "https")
    url.port = 443;
  else
    return fail("expected scheme http or https");
  std::string_view rest = text.substr(scheme_end + 3);
  auto path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at);
  if (authority.find('@') != std::string_view::npos)
    return fail("credentials in the URL are not supported");
  std::string_view host = authority;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return fail("unclosed '[' in host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return fail("expected ':' after ']'");
      port_text = after.substr(1);
      if (port_text.empty())
        return fail("empty port");
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
    if (port_text.empty())
      return fail("empty port");
  }
  if (host.empty())
    return fail("expected a host name");
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
      return fail("port must be 1-65535");
    url.port = static_cast<std::uint16_t>(port);
    url.port_explicit = true;
  }
  url.host = to_lower(host);
  // A host becomes a DNS question and a TLS name: an IPv6 literal (in brackets only) or a name.
  if (authority.front() == '[') {
    // Checked as written, with no trailing dot dropped, so that what is accepted is exactly what
    // to_string() puts back between the brackets.
    auto ip = parse_ip(url.host);
    if (!ip || ip->family != AddressFamily::ipv6)
      return fail("expected an IPv6 address inside '[...]'");
  } else {
    if (url.host.back() == '.')
      url.host.pop_back();
    if (url.host.empty())
      return fail("expected a host name");
    if (!std::all_of(url.host.begin(), url.host.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
        }))
      return fail("a host name holds only letters, digits, '-', '_' and '.'");
    if (url.host.front() == '.' || url.host.back() == '.' || url.host.find("..") != std::string::npos)
      return fail("empty label in host name");
  }
  if (path.find_first_of("?#") != std::string_view::npos)
    return fail("query and fragment are not supported");
  url.path = path;
  while (!url.path.empty() && url.path.back() == '/')
    url.path.pop_back();
  return url;
}

} // namespace coder_dns_doctor::util
