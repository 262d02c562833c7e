#include <coder_dns_doctor/daemon/http_request.hpp>

#include <algorithm>
#include <cctype>

namespace coder_dns_doctor::daemon {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool is_control(char c) {
  auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

// Percent-decode `text`; nullopt on a truncated or non-hex escape, or a control character, sent
// as it is or escaped (no route has one; a log or a comparison should never see one).
std::optional<std::string> decode_path(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_control(text[i]))
      return std::nullopt;
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size())
      return std::nullopt;
    int high = hex_digit(text[i + 1]);
    int low = hex_digit(text[i + 2]);
    if (high < 0 || low < 0 || is_control(static_cast<char>(high * 16 + low)))
      return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

} // namespace

std::optional<std::size_t> head_end(std::string_view buffer) {
  std::size_t crlf = buffer.find("\r\n\r\n");
  std::size_t lf = buffer.find("\n\n");
  if (crlf == std::string_view::npos && lf == std::string_view::npos)
    return std::nullopt;
  if (lf == std::string_view::npos || (crlf != std::string_view::npos && crlf < lf))
    return crlf + 4;
  return lf + 2;
}

std::expected<Request, int> parse_request(std::string_view head) {
  std::size_t line_end = head.find('\n');
  if (line_end == std::string_view::npos)
    return std::unexpected(400);
  std::string_view line = trim(head.substr(0, line_end));
  std::size_t first = line.find(' ');
  std::size_t last = line.rfind(' ');
  if (first == std::string_view::npos || first == last)
    return std::unexpected(400);
  std::string_view method = line.substr(0, first);
  std::string_view target = line.substr(first + 1, last - first - 1);
  std::string_view version = line.substr(last + 1);
  if (!is_token(method) || target.empty() || target.find(' ') != std::string_view::npos)
    return std::unexpected(400);
  if (!version.starts_with("HTTP/"))
    return std::unexpected(400);
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return std::unexpected(505);
  if (target.front() != '/')
    return std::unexpected(400); // origin-form only: this is not a proxy
  target = target.substr(0, target.find_first_of("?#"));
  auto path = decode_path(target);
  if (!path)
    return std::unexpected(400);

  Request request{.method = std::string(method), .path = std::move(*path), .accept = {}, .accept_encoding = {}};
  std::string_view rest = head.substr(line_end + 1);
  while (!rest.empty()) {
    std::size_t end = rest.find('\n');
    std::string_view header = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (trim(header).empty())
      break; // the blank line
    std::size_t colon = header.find(':');
    if (colon == std::string_view::npos || colon == 0 || !is_token(header.substr(0, colon)))
      return std::unexpected(400);
    std::string_view name = header.substr(0, colon);
    std::string_view value = trim(header.substr(colon + 1));
    if (iequals(name, "Accept"))
      request.accept = std::string(value);
    else if (iequals(name, "Accept-Encoding"))
      request.accept_encoding = std::string(value);
  }
  return request;
}

bool accepts_gzip(std::string_view accept_encoding) {
  while (!accept_encoding.empty()) {
    std::size_t comma = accept_encoding.find(',');
    std::string_view item = trim(accept_encoding.substr(0, comma));
    accept_encoding = comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    std::size_t semicolon = item.find(';');
    std::string_view coding = trim(item.substr(0, semicolon));
    if (!iequals(coding, "gzip") && coding != "*")
      continue;
    if (semicolon == std::string_view::npos)
      return true;
    std::string_view parameter = trim(item.substr(semicolon + 1));
    if (!parameter.starts_with("q=") && !parameter.starts_with("Q="))
      return true;
    std::string_view q = parameter.substr(2);
    // q is "0", "0.", "0.0", ... (refused) or anything else up to 1 (accepted).
    bool zero = !q.empty() && q.front() == '0' &&
                std::all_of(q.begin() + 1, q.end(), [](char c) { return c == '.' || c == '0'; });
    return !zero;
  }
  return false;
}

} // namespace coder_dns_doctor::daemon
