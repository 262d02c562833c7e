// fmt's compiled part, for the image's binary only (cmake/ImageBinary.cmake): Debian ships libfmt
// shared, not static. Including format-inl.h without FMT_HEADER_ONLY defines its out-of-line
// functions here; the three templates are the ones libfmt instantiates for char that this project's
// calls reach (locale lookups of number and chrono formatting), which the headers leave to it.
#include <fmt/format-inl.h>

namespace fmt::detail {
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;
template FMT_API auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl<char>(locale_ref) -> char;
} // namespace fmt::detail
