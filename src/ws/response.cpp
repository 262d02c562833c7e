// Parsing the server's response head from a prefix of the stream (RFC 9112 sections 4 and 5, the
// subset an upgrade needs: status line, fields, the blank line; no body, no folding).
#include <coder_dns_doctor/ws/handshake.hpp>

#include <coder_dns_doctor/util/strings.hpp>

#include "http_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace coder_dns_doctor::ws {

namespace {

constexpr std::string_view k_version_prefix = "HTTP/1.";

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::unexpected<ResponseError> error(ResponseError::Kind kind, std::string detail) {
  return std::unexpected(ResponseError{kind, std::move(detail)});
}

// A one-line, bounded, printable excerpt of what the peer sent, for a report.
std::string excerpt(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 60))
    out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  return out;
}

// `HTTP/1.x NNN reason`; the reason may be empty (with or without its space).
std::expected<void, ResponseError> parse_status_line(std::string_view line, Response& out) {
  auto bad = [&] {
    return error(ResponseError::Kind::bad_status_line, fmt::format("bad status line '{}'", excerpt(line)));
  };
  if (line.size() < 12 || line.find_first_of("\r\n") != std::string_view::npos || !line.starts_with(k_version_prefix) ||
      !std::isdigit(static_cast<unsigned char>(line[7])) || line[8] != ' ' || (line.size() > 12 && line[12] != ' '))
    return bad();
  std::string_view code = line.substr(9, 3);
  if (!std::all_of(code.begin(), code.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return bad();
  out.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  out.reason = line.size() > 13 ? std::string(line.substr(13)) : std::string();
  return {};
}

// `name: value` with a token name and no space before the colon (RFC 9112 5.1).
std::expected<void, ResponseError> parse_field_line(std::string_view line, Response& out) {
  auto colon = line.find(':');
  std::string_view name = line.substr(0, colon == std::string_view::npos ? 0 : colon);
  if (!detail::is_token(name))
    return error(ResponseError::Kind::bad_header, fmt::format("bad header line '{}'", excerpt(line)));
  out.headers.push_back({std::string(name), std::string(util::trim(line.substr(colon + 1)))});
  return {};
}

// Whether the bytes so far could still begin `HTTP/1.`: garbage (a TLS alert, an SSH banner)
// fails on its first bytes instead of after the whole size limit.
bool may_start_status_line(std::string_view text) {
  std::size_t n = std::min(text.size(), k_version_prefix.size());
  return text.substr(0, n) == k_version_prefix.substr(0, n);
}

} // namespace

std::optional<std::string_view> Response::header(std::string_view name) const {
  for (const Header& field : headers)
    if (equal_ignoring_case(field.name, name))
      return util::trim(field.value);
  return std::nullopt;
}

bool Response::has_token(std::string_view name, std::string_view token) const {
  for (const Header& field : headers) {
    if (!equal_ignoring_case(field.name, name))
      continue;
    for (const std::string& piece : util::split(field.value, ','))
      if (equal_ignoring_case(util::trim(piece), token))
        return true;
  }
  return false;
}

Partial<Response, ResponseError> parse_upgrade_response(ByteView bytes, std::size_t max_head) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (!may_start_status_line(text))
    return error(ResponseError::Kind::bad_status_line, fmt::format("not an HTTP response: '{}'", excerpt(text)));
  auto end = text.substr(0, max_head).find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (text.size() >= max_head)
      return error(ResponseError::Kind::too_large, fmt::format("response head over {} bytes", max_head));
    return std::optional<Response>();
  }
  Response response;
  response.consumed = end + 4;
  std::string_view head = text.substr(0, end + 2); // every line with its CRLF
  std::size_t at = head.find("\r\n");
  if (auto ok = parse_status_line(head.substr(0, at), response); !ok)
    return std::unexpected(ok.error());
  for (at += 2; at < head.size();) {
    std::size_t next = head.find("\r\n", at);
    std::string_view line = head.substr(at, next - at);
    // A stray CR or LF inside a line, or a folded continuation line, is not a field line.
    if (line.find_first_of("\r\n") != std::string_view::npos || line.starts_with(' ') || line.starts_with('\t'))
      return error(ResponseError::Kind::bad_header, fmt::format("bad header line '{}'", excerpt(line)));
    if (auto ok = parse_field_line(line, response); !ok)
      return std::unexpected(ok.error());
    at = next + 2;
  }
  return response;
}

} // namespace coder_dns_doctor::ws
