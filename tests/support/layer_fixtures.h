// Reads the PyTorch reference values written by tools/gen_layer_fixtures.py into
// tests/fixtures/layers/: tensors (one per line: name ndim dims... values...) and text files.
#pragma once

#include <map>
#include <string>

#include "nabla/nabla.h"

namespace nabla::testing {

class LayerFixtures {
 public:
  // Loads tests/fixtures/layers/layers.txt once.
  static const LayerFixtures& get();
  // The float32 tensor stored under `name`; throws when absent.
  Tensor operator[](const std::string& name) const;

 private:
  std::map<std::string, Tensor> tensors_;
};

// The contents of tests/fixtures/layers/<file>.
std::string read_layer_fixture_text(const std::string& file);

}  // namespace nabla::testing
