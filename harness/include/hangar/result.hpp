// Library code reports failure as a value; only main() turns it into an exit code.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace hangar {

struct Error {
    // What went wrong, so that main() can choose the exit status (see cli/commands.hpp):
    // the user's input (flags, names, manifests, paths given) or the harness's own work.
    enum class Kind {
        input,     // bad usage or bad input: the user can fix it
        io,        // reading or writing failed where the input was fine (disk full, a file gone)
        internal,  // the harness could not do its job for another reason
    };
    std::string message;  // one line, says what is wrong and, where it can, what to do
    Kind kind = Kind::input;
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return error_; }

private:
    Error error_;
    bool ok_ = true;
};

using Status = Result<void>;

inline Error error(std::string message, Error::Kind kind = Error::Kind::input) {
    return Error{std::move(message), kind};
}
inline Error io_error(std::string message) { return error(std::move(message), Error::Kind::io); }

}  // namespace hangar
