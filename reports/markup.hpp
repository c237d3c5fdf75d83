// Text from runs (signatures, commands, paths) placed in XML and HTML.
#pragma once

#include <string>
#include <string_view>

namespace hangar::reports {

// &, <, >, " and ' become entities; control characters that XML 1.0 forbids (a NUL in a
// signature would be a parse error) and bytes that are not UTF-8 become U+FFFD.
std::string escape_markup(std::string_view text);

}  // namespace hangar::reports
