// Reading and writing the safetensors format: 8-byte little-endian header length, a JSON
// header ({"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {string: string}}), then
// the raw little-endian tensor bytes. Any safetensors reader (PyTorch's included) opens our
// files. nabla adds a CRC-32 per tensor in the metadata ("nabla.crc32") and checks it on load, and
// "format": "pt" as PyTorch's writer does. It writes F32 and I64 tensors and reads those and F16,
// BF16 and F64 ones (into float32).
#pragma once

#include <map>
#include <string>

#include "nabla/tensor.h"

namespace nabla::io {

using TensorMap = std::map<std::string, Tensor>;
using Metadata = std::map<std::string, std::string>;

struct SafetensorsContents {
  TensorMap tensors;  // on the CPU
  Metadata metadata;
};

// Writes atomically: to a temporary file in the same folder, flushed and fsync'ed, then renamed
// over `path`; a crash at any moment leaves either the old file or the new one under `path`.
void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const Metadata& metadata = {});

// Reads and validates a whole file; every problem (missing, truncated, malformed header,
// offsets out of range or overlapping, unknown dtype, checksum mismatch, a torch.save file) is a
// nabla::Error naming the file and what is wrong.
SafetensorsContents load_safetensors(const std::string& path);

namespace testing {
// Makes the next save_safetensors fail after writing `bytes` bytes of the temporary file, as a
// crash would (-1 turns it off). For crash-safety tests only.
void fail_next_write_after(long long bytes);
}  // namespace testing

}  // namespace nabla::io
