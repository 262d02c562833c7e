// A POSIX ustar writer for one directory: headers of 512 bytes (octal fields, the checksum over
// the header with its own field as spaces), data padded to 512, two zero blocks at the end.
// Entries come in sorted order with mode 0644/0755 and owner 0, so the same directory gives the
// same archive apart from modification times. What it keeps and leaves out follows
// provisionersdk.Tar (coder/coder): see left_out().
#include <coder_dns_doctor/rollout/template_archive.hpp>
#include <coder_dns_doctor/util/bounded_read.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>

namespace coder_dns_doctor::rollout {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t k_block = 512;
constexpr std::size_t k_name_field = 100;
constexpr std::size_t k_prefix_field = 155;

using Header = std::array<char, k_block>;

void put_text(Header& header, std::size_t offset, std::size_t width, std::string_view text) {
  if (text.empty())
    return; // an empty view may hold no pointer at all, which memcpy may not be given
  std::memcpy(header.data() + offset, text.data(), std::min(width, text.size()));
}

// An octal number right-aligned in `width - 1` digits and a NUL, as ustar writes numbers.
void put_octal(Header& header, std::size_t offset, std::size_t width, unsigned long long value) {
  put_text(header, offset, width, fmt::format("{:0{}o}", value, width - 1));
}

// Split `path` into ustar's prefix and name fields; false when it fits neither way.
bool split_path(const std::string& path, std::string& prefix, std::string& name) {
  if (path.size() <= k_name_field) {
    prefix.clear();
    name = path;
    return true;
  }
  for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
    if (slash <= k_prefix_field && path.size() - slash - 1 <= k_name_field && slash + 1 < path.size()) {
      prefix = path.substr(0, slash);
      name = path.substr(slash + 1);
      return true;
    }
  return false;
}

std::expected<Header, std::string> make_header(const std::string& path, char type, unsigned mode, std::size_t size,
                                               long long mtime, std::string_view link_target = {}) {
  std::string prefix;
  std::string name;
  if (!split_path(path, prefix, name))
    return std::unexpected(fmt::format("'{}': the path is too long for a tar header (ustar: 255 bytes)", path));
  if (link_target.size() > k_name_field)
    return std::unexpected(fmt::format("'{}': the link target is too long for a tar header", path));
  Header header{};
  put_text(header, 0, k_name_field, name);
  put_octal(header, 100, 8, mode);
  put_octal(header, 108, 8, 0); // uid
  put_octal(header, 116, 8, 0); // gid
  put_octal(header, 124, 12, size);
  put_octal(header, 136, 12, static_cast<unsigned long long>(std::max(mtime, 0LL)));
  header[156] = type;
  put_text(header, 157, k_name_field, link_target);
  put_text(header, 257, 6, std::string_view("ustar\0", 6));
  put_text(header, 263, 2, "00");
  put_text(header, 345, k_prefix_field, prefix);
  // The checksum is taken with its own field filled with spaces.
  std::memset(header.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (char c : header)
    sum += static_cast<unsigned char>(c);
  put_text(header, 148, 8, fmt::format("{:06o}", sum));
  header[154] = '\0';
  header[155] = ' ';
  return header;
}

long long mtime_of(const fs::path& path) {
  std::error_code ec;
  auto when = fs::last_write_time(path, ec);
  if (ec)
    return 0;
  auto system = std::chrono::file_clock::to_sys(when);
  return std::chrono::duration_cast<std::chrono::seconds>(system.time_since_epoch()).count();
}

// Why `coder templates push` (provisionersdk.Tar) leaves a path out, or nullopt when it keeps it:
// hidden names (.terraform with its providers, .git, dotfiles) except the provider lock file,
// Terraform state, and variable files (the CLI sends those as user_variable_values instead).
std::optional<std::string_view> left_out(const std::string& relative, const std::string& name, bool directory) {
  if (name.starts_with(".") && (directory || name != ".terraform.lock.hcl"))
    return "a hidden name";
  if (relative.find(".tfstate") != std::string::npos)
    return "Terraform state";
  return std::nullopt;
}

bool is_variable_file(const std::string& relative, const std::string& name) {
  return relative == "terraform.tfvars" || relative == "terraform.tfvars.json" || name.ends_with(".auto.tfvars") ||
         name.ends_with(".auto.tfvars.json");
}

class Writer {
public:
  Writer(const fs::path& root, const ArchiveLimits& limits, TemplateArchive& out)
      : m_root(root), m_limits(limits), m_out(out) {}

  std::expected<void, std::string> walk(const fs::path& dir) {
    std::error_code ec;
    std::vector<fs::directory_entry> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      entries.push_back(*it);
    if (ec)
      return std::unexpected(fmt::format("'{}': cannot list the directory: {}", dir.string(), ec.message()));
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
    for (const auto& entry : entries)
      if (auto added = add(entry); !added)
        return added;
    return {};
  }

private:
  std::expected<void, std::string> add(const fs::directory_entry& entry) {
    if (++m_entries > m_limits.max_entries)
      return std::unexpected(fmt::format("'{}': more than {} entries; is this a template directory?", m_root.string(),
                                         m_limits.max_entries));
    std::string relative = entry.path().lexically_relative(m_root).generic_string();
    std::string name = entry.path().filename().string();
    std::error_code ec;
    auto status = entry.symlink_status(ec);
    bool directory = fs::is_directory(status);
    if (auto why = left_out(relative, name, directory)) {
      m_out.skipped.push_back(fmt::format("{}{}: {}", relative, directory ? "/" : "", *why));
      return {};
    }
    if (is_variable_file(relative, name)) {
      m_out.variable_files.push_back(relative);
      return {};
    }
    if (fs::is_symlink(status)) { // an entry of its own, not followed (as filepath.Walk's lstat)
      auto target = fs::read_symlink(entry.path(), ec);
      if (ec)
        return std::unexpected(fmt::format("'{}': cannot read the link: {}", entry.path().string(), ec.message()));
      auto header = make_header(relative, '2', 0777, 0, mtime_of(entry.path()), target.string());
      if (!header)
        return std::unexpected(header.error());
      append(*header, {});
      return {};
    }
    if (directory) {
      auto header = make_header(relative + "/", '5', 0755, 0, mtime_of(entry.path()));
      if (!header)
        return std::unexpected(header.error());
      append(*header, {});
      return walk(entry.path());
    }
    if (!fs::is_regular_file(status)) {
      m_out.skipped.push_back(relative + ": not a regular file");
      return {};
    }
    auto bytes = util::read_bounded(entry.path().string(), m_limits.max_file);
    if (!bytes) {
      if (bytes.error().problem != util::FileProblem::too_large)
        return std::unexpected(bytes.error().message);
      m_out.skipped.push_back(fmt::format("{}: larger than {} bytes", relative, m_limits.max_file));
      return {};
    }
    bool executable = (fs::status(entry.path(), ec).permissions() & fs::perms::owner_exec) != fs::perms::none;
    auto header = make_header(relative, '0', executable ? 0755 : 0644, bytes->size(), mtime_of(entry.path()));
    if (!header)
      return std::unexpected(header.error());
    append(*header, *bytes);
    m_out.files.push_back(relative);
    if (m_out.bytes.size() + 2 * k_block > m_limits.max_total)
      return std::unexpected(fmt::format("'{}': the archive passes {} bytes, more than coderd takes", m_root.string(),
                                         m_limits.max_total));
    return {};
  }

  void append(const Header& header, std::string_view data) {
    m_out.bytes.append(header.data(), header.size());
    m_out.bytes.append(data);
    m_out.bytes.append((k_block - data.size() % k_block) % k_block, '\0');
  }

  fs::path m_root;
  const ArchiveLimits& m_limits;
  TemplateArchive& m_out;
  std::size_t m_entries = 0;
};

} // namespace

bool TemplateArchive::has_terraform() const {
  return std::any_of(files.begin(), files.end(), [](const std::string& file) {
    return (file.ends_with(".tf") || file.ends_with(".tf.json")) && file.find('/') == std::string::npos;
  });
}

std::expected<TemplateArchive, std::string> make_template_archive(const std::string& dir, const ArchiveLimits& limits) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return std::unexpected(fmt::format("'{}': expected a template directory", dir));
  TemplateArchive archive;
  fs::path root = fs::path(dir).lexically_normal();
  Writer writer(root, limits, archive);
  if (auto walked = writer.walk(root); !walked)
    return std::unexpected(walked.error());
  archive.bytes.append(2 * k_block, '\0');
  if (!archive.has_terraform())
    return std::unexpected(fmt::format("'{}': not a template: no .tf or .tf.json file at its top", dir));
  return archive;
}

} // namespace coder_dns_doctor::rollout
