// Layer 8 (rollout): the tar of a template directory that a template push uploads, made as
// `coder templates push` makes it (provisionersdk.Tar): files, directories and links under the
// directory with relative paths; hidden names (.terraform/, .git/) except .terraform.lock.hcl,
// Terraform state and variable files left out; at least one top-level .tf; 1 MiB in all
// (TemplateArchiveLimit). See docs/rollout.md.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <vector>

namespace coder_dns_doctor::rollout {

struct ArchiveLimits {
  std::size_t max_file = 1U << 20;  // a larger file is left out (and named in `skipped`): it could not fit
  std::size_t max_total = 1U << 20; // the CLI's bound on a template archive: a larger one is an error
  std::size_t max_entries = 10000;  // a directory with more entries is not a template
};

struct TemplateArchive {
  std::string bytes;                // POSIX ustar, ending in two zero blocks
  std::vector<std::string> files;   // the regular files in it, relative, in archive order
  std::vector<std::string> skipped; // "path: why" for what was left out
  // terraform.tfvars, *.auto.tfvars: `coder templates push` sends their values with the version;
  // they are not in the archive, and the caller decides what to do about them.
  std::vector<std::string> variable_files;
  [[nodiscard]] bool has_terraform() const; // a top-level *.tf file is in it
};

// Archive the directory `dir`. Fails with one line naming the path when `dir` is not a readable
// directory, when a path does not fit a ustar header, when the archive would pass max_total, or
// when no top-level .tf/.tf.json file is in it (as the CLI refuses such a directory).
[[nodiscard]] std::expected<TemplateArchive, std::string> make_template_archive(const std::string& dir,
                                                                                const ArchiveLimits& limits = {});

} // namespace coder_dns_doctor::rollout
