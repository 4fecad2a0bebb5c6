// Formatting of layer arguments as Python prints them, so that Module::str() reads like
// PyTorch's print(model): True/False, 1e-05, 0.1, (3, 3), (10,).
#pragma once

#include <fmt/format.h>

#include <string>
#include <vector>

#include "nabla/nn/layers.h"

namespace nabla::nn::repr {

inline std::string py_bool(bool b) {
  return b ? "True" : "False";
}

// Shortest round-trip form with Python's trailing ".0" for whole numbers.
inline std::string py_float(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".einn") == std::string::npos) s += ".0";
  return s;
}

inline std::string py_tuple(const std::vector<int64_t>& v) {
  if (v.size() == 1) return fmt::format("({},)", v[0]);
  return fmt::format("({})", fmt::join(v, ", "));
}

inline std::string py_tuple(const Size2& s) {
  return py_tuple(std::vector<int64_t>{s.h, s.w});
}
inline std::string py_tuple(const functional::Pair& p) {
  return py_tuple(Size2(p[0], p[1]));
}

// An int when both sides agree (as given to PyTorch's pooling layers), else a tuple.
inline std::string py_int_or_tuple(const Size2& s) {
  return s.h == s.w ? fmt::format("{}", s.h) : py_tuple(s);
}

}  // namespace nabla::nn::repr
