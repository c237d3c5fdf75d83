// Text that comes from outside hangar (a program's output and arguments, symbol and file
// names in its stacks, paths) on its way into records and reports. Whatever bytes a program
// prints are data: every such string takes one of these paths, so that no report (JSON,
// XML, Markdown, HTML, the terminal) can be broken, or broken out of, by it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hangar {

// `text` as valid UTF-8: every byte that does not belong to a well-formed sequence (overlong
// forms, surrogates and code points above U+10FFFF included) becomes U+FFFD.
std::string valid_utf8(std::string_view text);

// `text` as one printable line of valid UTF-8 of at most about `max_bytes`: control
// characters are written as \n, \t, \r or \xNN (a backslash as \\), and a cut is marked
// with "...". For names, signatures and messages that a single line must hold.
std::string one_line(std::string_view text, size_t max_bytes = 4096);

}  // namespace hangar
