// SHA-256 digests (OpenSSL's libcrypto), for knowing a dataset by its content.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

namespace nabla::data {

// The lowercase hex SHA-256 of the bytes of `parts`, in order, as `sha256sum` prints it.
std::string sha256_hex(std::initializer_list<std::span<const uint8_t>> parts);

}  // namespace nabla::data
