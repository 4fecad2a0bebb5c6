#include "support/layer_fixtures.h"

#include <fstream>
#include <sstream>

namespace nabla::testing {

namespace {
std::string path_of(const std::string& file) {
  return std::string(NABLA_TEST_FIXTURES) + "/layers/" + file;
}
}  // namespace

const LayerFixtures& LayerFixtures::get() {
  static const LayerFixtures fixtures = [] {
    LayerFixtures f;
    std::ifstream in(path_of("layers.txt"));
    NABLA_CHECK(in.good(), "cannot open {}; run tools/gen_layer_fixtures.py",
                path_of("layers.txt"));
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      std::istringstream ls(line);
      std::string name;
      int64_t ndim = 0;
      ls >> name >> ndim;
      std::vector<int64_t> dims(static_cast<size_t>(ndim));
      for (auto& d : dims) ls >> d;
      const Shape shape(dims);
      std::vector<float> values(static_cast<size_t>(shape.numel()));
      for (auto& v : values) ls >> v;
      NABLA_CHECK(!ls.fail(), "layers.txt: malformed entry '{}'", name);
      f.tensors_.emplace(name, Tensor::from_vector(values, shape));
    }
    return f;
  }();
  return fixtures;
}

Tensor LayerFixtures::operator[](const std::string& name) const {
  auto it = tensors_.find(name);
  NABLA_CHECK(it != tensors_.end(), "layers.txt has no tensor '{}'", name);
  return it->second.clone();
}

std::string read_layer_fixture_text(const std::string& file) {
  std::ifstream in(path_of(file));
  NABLA_CHECK(in.good(), "cannot open {}", path_of(file));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace nabla::testing
