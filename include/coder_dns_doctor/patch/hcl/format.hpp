// The part of `terraform fmt` that patch needs: `=` and trailing-comment alignment of line groups.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::patch::hcl {

// Realign, as hclwrite's formatter does, the groups of consecutive lines that contain the lines
// `lines` (0-based) of `source`: in a run of lines that each assign with `=` (and open no bracket),
// the `=` signs line up one space after the longest name; in a run of lines with trailing comments,
// the comments line up one space after the longest code. Only spaces before `=` and before trailing
// comments change. Lines in `protected_lines` (heredoc bodies) are never part of a group and never
// change. Return the new text.
std::string realign(std::string_view source, const std::vector<std::size_t>& lines,
                    const std::vector<std::size_t>& protected_lines);

} // namespace coder_dns_doctor::patch::hcl
