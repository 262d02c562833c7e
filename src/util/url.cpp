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
bool url_byte(char c) {
  return c > ' ' && c < '\x7f';
}

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

std::string Url::authority() const {
  return port_explicit ? url_host() + ":" + std::to_string(port) : url_host();
}

std::string Url::to_string() const {
  std::string out = scheme + "://" + url_host();
  if (port_explicit)
    out += fmt::format(":{}", port);
  return out + path;
}

std::string Url::join(std::string_view sub_path) const {
  return to_string() + std::string(sub_path);
}

namespace {

// The host and port text of an authority (`host`, `host:port`, `[v6]`, `[v6]:port`); the error
// is the reason, for parse_url's message.
struct Authority {
  std::string_view host;
  std::string_view port_text; // empty: the scheme's port
  bool bracketed = false;
};

std::expected<Authority, std::string> split_authority(std::string_view authority) {
  Authority out{.host = authority, .port_text = {}, .bracketed = false};
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return std::unexpected("unclosed '[' in host");
    out.host = authority.substr(1, close - 1);
    out.bracketed = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return std::unexpected("expected ':' after ']'");
      out.port_text = after.substr(1);
      if (out.port_text.empty())
        return std::unexpected("empty port");
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    out.host = authority.substr(0, colon);
    out.port_text = authority.substr(colon + 1);
    if (out.port_text.empty())
      return std::unexpected("empty port");
  }
  if (out.host.empty())
    return std::unexpected("expected a host name");
  return out;
}

std::expected<std::uint16_t, std::string> parse_port(std::string_view text) {
  unsigned port = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc{} || end != text.data() + text.size() || port == 0 || port > 65535)
    return std::unexpected("port must be 1-65535");
  return static_cast<std::uint16_t>(port);
}

// A host becomes a DNS question and a TLS name: an IPv6 literal (in brackets only) or a name.
// Returns it lower case, a name without its trailing dot.
std::expected<std::string, std::string> check_host(std::string_view written, bool bracketed) {
  std::string host = to_lower(written);
  if (bracketed) {
    // Checked as written, with no trailing dot dropped, so that what is accepted is exactly what
    // to_string() puts back between the brackets.
    auto ip = parse_ip(host);
    if (!ip || ip->family != AddressFamily::ipv6)
      return std::unexpected("expected an IPv6 address inside '[...]'");
    return host;
  }
  if (host.back() == '.')
    host.pop_back();
  if (host.empty())
    return std::unexpected("expected a host name");
  if (!std::all_of(host.begin(), host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
      }))
    return std::unexpected("a host name holds only letters, digits, '-', '_' and '.'");
  if (host.front() == '.' || host.back() == '.' || host.find("..") != std::string::npos)
    return std::unexpected("empty label in host name");
  return host;
}

} // namespace

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
  std::string_view authority_text = rest.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at);
  if (authority_text.find('@') != std::string_view::npos)
    return fail("credentials in the URL are not supported");
  auto authority = split_authority(authority_text);
  if (!authority)
    return fail(authority.error());
  if (!authority->port_text.empty()) {
    auto port = parse_port(authority->port_text);
    if (!port)
      return fail(port.error());
    url.port = *port;
    url.port_explicit = true;
  }
  auto host = check_host(authority->host, authority->bracketed);
  if (!host)
    return fail(host.error());
  url.host = std::move(*host);
  if (path.find_first_of("?#") != std::string_view::npos)
    return fail("query and fragment are not supported");
  url.path = path;
  while (!url.path.empty() && url.path.back() == '/')
    url.path.pop_back();
  return url;
}

} // namespace coder_dns_doctor::util
